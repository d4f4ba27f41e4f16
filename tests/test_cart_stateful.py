"""A stateful property test: shoppers add, update, remove and check out while an admin restocks.

Invariants after every step: no stock is ever negative; for every (shoe, size), the initial stock
plus restocks equals the stock on hand plus the units in orders; no cart line survives its order;
replaying a checkout places nothing new.
"""

import contextlib
import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chalicelib.models import CartLine, Order, Stock, User
from chalicelib.services import cart, checkout
from chalicelib.services.errors import ServiceError
from tests.factories import make_shoe

ADDRESS = {"full_name": "Pat Buyer", "line1": "2 High St", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB"}
SHOPPERS = 2
# Scarce stock and few keys, so shoppers often want the same last pairs.
INITIAL_STOCK = {"40": 1, "41": 2, "42": 1}
KEYS = len(INITIAL_STOCK)


class CheckoutMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        # Fresh shoes and shoppers for every example: the tables are shared within one test run.
        shoe = make_shoe(name="Scarce", price_cents=1000, stock=INITIAL_STOCK)
        self.keys = [(shoe.shoe_id, size) for size in INITIAL_STOCK]
        self.initial = {(shoe.shoe_id, size): units for size, units in INITIAL_STOCK.items()}
        self.restocked = dict.fromkeys(self.keys, 0)
        self.users = [User(pk=f"USER#{uid}", user_id=uid) for uid in (uuid.uuid4().hex for _ in range(SHOPPERS))]
        self.placed: dict[tuple[int, str], str] = {}  # (shopper, idempotency key) → order id
        self.checkout_count = 0
        self.filled: set[int] = set()  # shoppers whose cart may hold something

    def owner(self, shopper: int) -> str:
        return cart.user_owner(self.users[shopper].user_id)

    @rule(
        shopper=st.integers(0, SHOPPERS - 1),
        key=st.integers(0, KEYS - 1),
        quantity=st.integers(1, 3),
    )
    def add(self, shopper, key, quantity):
        shoe_id, size = self.keys[key]
        with contextlib.suppress(ServiceError):
            cart.add_item(self.owner(shopper), shoe_id, size, quantity)
            self.filled.add(shopper)

    @rule(
        shopper=st.integers(0, SHOPPERS - 1),
        key=st.integers(0, KEYS - 1),
        quantity=st.one_of(st.integers(-2, 12), st.just("abc")),
    )
    def update(self, shopper, key, quantity):
        with contextlib.suppress(ServiceError):
            cart.set_quantity(self.owner(shopper), CartLine.line_key(*self.keys[key]), quantity)

    @rule(shopper=st.integers(0, SHOPPERS - 1), key=st.integers(0, KEYS - 1))
    def remove(self, shopper, key):
        with contextlib.suppress(ServiceError):
            cart.remove_line(self.owner(shopper), CartLine.line_key(*self.keys[key]))

    @precondition(lambda self: bool(self.filled))
    @rule(data=st.data())
    def place(self, data):
        """A shopper who has (or had) something in the cart checks out with a new key."""
        shopper = data.draw(st.sampled_from(sorted(self.filled)))
        self.checkout_count += 1
        key = f"machine-key-{self.checkout_count:04d}"
        before = {line.line_id for line in CartLine.query(self.owner(shopper))}
        try:
            result = checkout.place_order(self.users[shopper], key, ADDRESS)
        except ServiceError:
            return
        assert result.created
        self.filled.discard(shopper)
        self.placed[(shopper, key)] = result.order.order_id
        ordered = {CartLine.line_key(line.shoe_id, line.size) for line in result.order.lines}
        assert ordered == before
        survivors = {line.line_id for line in CartLine.query(self.owner(shopper))} & ordered
        assert survivors == set(), "a cart line survived its order"

    @precondition(lambda self: bool(self.placed))
    @rule(data=st.data())
    def replay(self, data):
        """A double submit or retried request, possibly after the cart was filled again."""
        shopper, key = data.draw(st.sampled_from(sorted(self.placed)))
        lines_before = {line.line_id: int(line.quantity) for line in CartLine.query(self.owner(shopper))}
        result = checkout.place_order(self.users[shopper], key, ADDRESS)
        assert not result.created and result.order.order_id == self.placed[(shopper, key)]
        assert {line.line_id: int(line.quantity) for line in CartLine.query(self.owner(shopper))} == lines_before

    @rule(shopper=st.integers(0, SHOPPERS - 1), key=st.integers(0, KEYS - 1), quantity=st.integers(1, 3))
    def guest_adds_then_logs_in(self, shopper, key, quantity):
        guest_id = uuid.uuid4().hex
        with contextlib.suppress(ServiceError):
            cart.add_item(cart.guest_owner(guest_id), *self.keys[key], quantity)
        if cart.merge_guest_cart(guest_id, self.users[shopper].user_id).moved_units:
            self.filled.add(shopper)
        assert list(CartLine.query(cart.guest_owner(guest_id))) == []

    @rule(key=st.integers(0, KEYS - 1), units=st.integers(1, 3))
    def restock(self, key, units):
        shoe_id, size = self.keys[key]
        Stock(shoe_id=shoe_id, size=size).update(actions=[Stock.quantity.add(units)], condition=Stock.quantity >= 0)
        self.restocked[(shoe_id, size)] += units

    @invariant()
    def stock_is_conserved(self):
        _, stock = cart.batch_read(self.keys)
        ordered = dict.fromkeys(self.keys, 0)
        order_ids = set()
        for user in self.users:
            for order in Order.by_user.query(user.user_id):
                order_ids.add(order.order_id)
                for line in order.lines:
                    ordered[(line.shoe_id, line.size)] += int(line.quantity)
        assert order_ids == set(self.placed.values())
        for key in self.keys:
            on_hand = int(stock[key].quantity)
            assert on_hand >= 0, f"negative stock for {key}"
            assert self.initial[key] + self.restocked[key] == on_hand + ordered[key]
            assert int(stock[key].sold) == ordered[key]

    @invariant()
    def carts_respect_limits(self):
        for shopper in range(SHOPPERS):
            quantities = [int(line.quantity) for line in CartLine.query(self.owner(shopper))]
            assert all(1 <= q <= 10 for q in quantities)


def test_stock_and_orders_stay_consistent():
    run_state_machine_as_test(
        CheckoutMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
