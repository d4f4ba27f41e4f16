"""The app's wiring in one place: which handlers each event reaches, what account deletion
erases, what runs after a login. app.py, manage.py, bench and the tests call wire(); importing a
module registers nothing, so what runs never depends on which modules happened to be imported.
"""

from chalicelib import streams
from chalicelib.blueprints import account as account_pages
from chalicelib.services import accounts, cart_session, catalogue, dashboard, events, orders

SUBSCRIPTIONS = (
    (events.PRODUCT_CHANGED, catalogue.refresh_index_for_shoe),
    (events.STOCK_CHANGED, catalogue.refresh_index_for_stock),
)
# In this order, before the user record goes: the cart is emptied, then the orders are detached.
DELETION_STEPS = (accounts.discard_cart, orders.detach_orders)
LOGIN_HOOKS = (cart_session.merge_after_login,)
# What the stream handler runs per table (short names); every consumer is idempotent.
STREAM_CONSUMERS = (
    ("orders", dashboard.on_order_changes),
    ("stock", dashboard.on_stock_changes),
    ("shoes", dashboard.on_shoe_changes),
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
