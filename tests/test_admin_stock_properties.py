"""Stateful property test: whatever mix of admin adjustments, stock takes, orders and
cancellations happens, stock is never negative and always equals what the moves add up to."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from pynamodb.exceptions import UpdateError

from chalicelib.models import Stock
from chalicelib.services import fulfilment, products
from chalicelib.services.errors import Conflict
from tests.conftest import empty_tables
from tests.factories import ADMIN, make_order, shoe_via_admin

SIZES = ["41", "42"]


class StockMachine(RuleBasedStateMachine):
    @initialize(start=st.integers(0, 5))
    def create(self, start):
        empty_tables()
        self.shoe = shoe_via_admin(dict.fromkeys(SIZES, start))
        self.expected = dict.fromkeys(SIZES, start)
        self.open_orders = []

    @rule(size=st.sampled_from(SIZES), delta=st.integers(-6, 6).filter(bool))
    def adjust(self, size, delta):
        try:
            products.adjust_stock(self.shoe.shoe_id, size, delta, ADMIN)
            self.expected[size] += delta
        except Conflict:
            assert self.expected[size] + delta < 0

    @rule(size=st.sampled_from(SIZES), value=st.integers(0, 8), stale=st.booleans())
    def stock_take(self, size, value, stale):
        seen = self.expected[size] + (1 if stale else 0)
        try:
            products.set_stock(self.shoe.shoe_id, size, value, seen, ADMIN)
            assert not stale
            self.expected[size] = value
        except Conflict:
            assert stale

    @rule(size=st.sampled_from(SIZES), quantity=st.integers(1, 3))
    def checkout(self, size, quantity):
        """What checkout does: a conditioned decrement, then the order."""
        try:
            Stock(shoe_id=self.shoe.shoe_id, size=size).update(
                actions=[Stock.quantity.add(-quantity)], condition=Stock.quantity >= quantity
            )
        except UpdateError:
            assert self.expected[size] < quantity
            return
        self.expected[size] -= quantity
        self.open_orders.append((make_order([(self.shoe.shoe_id, size, quantity)]).order_id, size, quantity))

    @rule(data=st.data())
    def cancel(self, data):
        if not self.open_orders:
            return
        order_id, size, quantity = data.draw(st.sampled_from(self.open_orders))
        self.open_orders.remove((order_id, size, quantity))
        fulfilment.transition(order_id, "cancelled", ADMIN)
        self.expected[size] += quantity

    @invariant()
    def stock_matches_and_is_never_negative(self):
        if not hasattr(self, "shoe"):
            return
        rows = products.stock_rows(self.shoe.shoe_id)
        for size in SIZES:
            assert rows[size].quantity == self.expected[size] >= 0


StockMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
)
test_stock_invariants = StockMachine.TestCase
