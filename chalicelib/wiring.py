"""The app's wiring in one place: which consumers each table's stream reaches, what account
deletion erases, what runs after a login. app.py, manage.py, bench and the tests call wire(); importing a
module registers nothing, so what runs never depends on which modules happened to be imported.
"""

from chalicelib import streams
from chalicelib.blueprints import account as account_pages
from chalicelib.services import (
    accounts,
    back_in_stock,
    cart_session,
    catalogue_index,
    dashboard,
    mailer,
    orders,
    return_reasons,
    reviews,
)
from chalicelib.web import my_size

# (table, consumer): each consumer gets the changes of its table's stream, in batches, at least
# once (chalicelib/stream_handler.py). infra/build.py grants each stream Lambda what its consumers
# touch (CONSUMER_ACCESS there).
STREAM_CONSUMERS = (
    ("shoes", catalogue_index.apply_changes),
    ("stock", catalogue_index.apply_changes),
    (back_in_stock.STOCK_TABLE, back_in_stock.on_stock_changes),
    (mailer.TABLE, mailer.send_changes),
    ("orders", dashboard.on_order_changes),
    ("orders", return_reasons.on_order_changes),
    ("stock", dashboard.on_stock_changes),
    ("shoes", dashboard.on_shoe_changes),
    (reviews.TABLE, reviews.on_review_changes),
)
# In this order, before the user record goes: the cart is emptied, the reviews lose the name (their
# shoes are found through the orders), then the orders are detached.
DELETION_STEPS = (accounts.discard_cart, reviews.anonymise_reviews, orders.detach_orders)
LOGIN_HOOKS = (cart_session.merge_after_login, my_size.adopt_after_login)


def wire() -> None:
    """Connect every consumer, step and hook; calling it again changes nothing."""
    for table, consumer in STREAM_CONSUMERS:
        streams.register(table, consumer)
    for step in DELETION_STEPS:
        accounts.register_deletion_step(step)
    for hook in LOGIN_HOOKS:
        account_pages.register_login_hook(hook)
