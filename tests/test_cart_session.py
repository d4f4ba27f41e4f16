"""services.cart_session: which cart a request uses, its count in the session, the merge after
login; driven with a plain stand-in for the request (no Chalice), as the service promises."""

import ast
from pathlib import Path

import pytest

from chalicelib.models import Session
from chalicelib.services import accounts, cart, cart_session, sessions
from chalicelib.services.errors import NotFound
from tests.cart_fixtures import count_dynamodb_calls
from tests.factories import make_shoe

CHALICELIB = Path(__file__).resolve().parent.parent / "chalicelib"


class FakeRequest:
    """The four members cart_session needs, nothing else."""

    def __init__(self, session: Session | None = None, user: object = None) -> None:
        self.session = session
        self.user = user
        self.flashes: list[tuple[str, str]] = []

    def ensure_session(self) -> Session:
        if self.session is None:
            _, self.session = sessions.start_session(sessions.GUEST)
        return self.session

    def flash(self, message: str, kind: str = "info") -> None:
        self.flashes.append((kind, message))


def _shopper(name: str = "alice"):
    return accounts.register(
        accounts.Registration(name, f"{name}@example.com", "correct horse battery", "correct horse battery")
    )


def test_a_visitor_has_no_cart_until_the_first_change_which_creates_one_guest_cart():
    visitor = FakeRequest()
    assert cart_session.cart_owner(visitor) is None
    with pytest.raises(NotFound):
        cart_session.existing_owner(visitor)
    owner = cart_session.owner_for_change(visitor)
    assert cart.is_guest(owner) and visitor.session is not None
    assert cart_session.owner_for_change(visitor) == owner == cart_session.existing_owner(visitor)
    stored = Session.get(visitor.session.token_hash)
    assert cart.guest_owner(sessions.session_data(stored)[cart_session.GUEST_CART_KEY]) == owner


def test_a_shopper_uses_the_account_cart_and_no_guest_cart_is_made():
    user = _shopper()
    _, session = sessions.start_session(sessions.SHOPPER, user.user_id)
    request = FakeRequest(session, user)
    assert cart_session.owner_for_change(request) == cart.user_owner(user.user_id)
    assert cart_session.GUEST_CART_KEY not in sessions.session_data(Session.get(session.token_hash))


def test_the_count_is_kept_in_the_session_and_written_only_when_it_changes():
    _, session = sessions.start_session(sessions.GUEST)
    request = FakeRequest(session)
    assert cart_session.item_count(session) == 0 and cart_session.item_count(None) == 0
    with count_dynamodb_calls() as calls:
        cart_session.record_count(request, 3)
        cart_session.record_count(request, 3)
    assert calls["UpdateItem"] == 1
    assert cart_session.item_count(Session.get(session.token_hash)) == 3
    session.data = {cart_session.CART_COUNT_KEY: "many"}  # a damaged value shows 0, never a 500
    assert cart_session.item_count(session) == 0


def test_recount_counts_the_request_cart():
    shoe = make_shoe(stock={"42": 5})
    visitor = FakeRequest()
    cart.add_item(cart_session.owner_for_change(visitor), shoe.shoe_id, "42", "2")
    cart_session.recount(visitor)
    assert cart_session.item_count(visitor.session) == 2


def test_after_login_the_guest_cart_moves_into_the_account_and_the_shopper_is_told():
    shoe = make_shoe(stock={"42": 5})
    visitor = FakeRequest()
    cart.add_item(cart_session.owner_for_change(visitor), shoe.shoe_id, "42", "2")
    previous = sessions.session_data(visitor.session)
    user = _shopper()
    _, logged_in = sessions.replace_session(visitor.session, sessions.SHOPPER, user.user_id)
    request = FakeRequest(logged_in, user)
    cart_session.merge_after_login(request, previous)
    assert cart.count_units(cart.user_owner(user.user_id)) == 2
    data = sessions.session_data(Session.get(logged_in.token_hash))
    assert cart_session.GUEST_CART_KEY not in data and data[cart_session.CART_COUNT_KEY] == 2
    assert request.flashes == [("info", "We moved 2 items from your guest cart into your cart.")]


def test_after_login_without_a_guest_cart_the_account_count_is_shown():
    shoe = make_shoe(stock={"42": 5})
    user = _shopper()
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    _, session = sessions.start_session(sessions.SHOPPER, user.user_id)
    request = FakeRequest(session, user)
    cart_session.merge_after_login(request, {})
    assert cart_session.item_count(session) == 1 and request.flashes == []


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_blueprints_do_not_import_each_other_for_cart_rules():
    for path in (CHALICELIB / "blueprints").rglob("*.py"):
        imported = _imported_modules(path)
        assert "chalicelib.blueprints.cart" not in imported, path.name
    assert "chalice" not in {name.split(".")[0] for name in _imported_modules(CHALICELIB / "services/cart_session.py")}


def test_the_web_layer_holds_no_cart_rules():
    """The header's count and the guest cart id live in the session's data: only the service reads it."""
    for path in (CHALICELIB / "web").rglob("*.py"):
        text = path.read_text()
        assert "session_data" not in text and f'"{cart_session.CART_COUNT_KEY}"' not in text, path.name
        assert cart_session.GUEST_CART_KEY not in text, path.name
