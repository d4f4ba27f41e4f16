"""The app's wiring in one place: which handlers each event reaches, what account deletion
erases, what runs after a login. app.py, manage.py, bench and the tests call wire(); importing a
module registers nothing, so what runs never depends on which modules happened to be imported.
"""

from chalicelib import streams
from chalicelib.blueprints import account as account_pages
from chalicelib.services import accounts, back_in_stock, cart_session, catalogue, events, mailer, orders

SUBSCRIPTIONS = (
    (events.PRODUCT_CHANGED, catalogue.refresh_index_for_shoe),
    (events.STOCK_CHANGED, catalogue.refresh_index_for_stock),
)
# In this order, before the user record goes: the cart is emptied, then the orders are detached.
DELETION_STEPS = (accounts.discard_cart, orders.detach_orders)
LOGIN_HOOKS = (cart_session.merge_after_login,)
# (table short name, consumer): each DynamoDB stream's consumers (chalicelib.streams).
STREAM_CONSUMERS = (
    (mailer.TABLE, mailer.send_changes),
    (back_in_stock.STOCK_TABLE, back_in_stock.on_stock_changes),
)


def wire() -> None:
    """Connect every handler, step and hook; calling it again changes nothing."""
    for event, handler in SUBSCRIPTIONS:
        events.subscribe(event, handler)
    for step in DELETION_STEPS:
        accounts.register_deletion_step(step)
    for hook in LOGIN_HOOKS:
        account_pages.register_login_hook(hook)
    for table, consumer in STREAM_CONSUMERS:
        streams.register(table, consumer)
