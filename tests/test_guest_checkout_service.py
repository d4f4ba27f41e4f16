"""Guest checkout in the services: the guest's email rule, orders placed from a guest cart, the
signed order link, and claiming a guest order into an account."""

import pytest

from chalicelib import tokens
from chalicelib.models import CartLine, Order, Stock, User
from chalicelib.services import cart, checkout, limits, order_links
from chalicelib.services import orders as order_service
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.validation import normalised_email
from tests.factories import ADDRESS, make_shoe, make_user

GUEST_CART = cart.guest_owner("guest-cart-id-0001")


def guest(email: str = "Wanda@Example.com", owner: str = GUEST_CART) -> checkout.Buyer:
    return checkout.guest_buyer(owner, email, checkout.clean_address(ADDRESS))


def guest_order(email: str = "Wanda@Example.com", key: str = "guest-key-01", owner: str = GUEST_CART) -> Order:
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(owner, shoe.shoe_id, "42", "1")
    return checkout.place_order(guest(email, owner), key).order


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        None,
        "no-at-sign",
        "a@b",
        "wanda@example.com\r\nBcc: everyone@example.com",
        "wanda@example.com\nBcc: x@example.com",
        "wanda\r@example.com",
        "wanda@exa\x00mple.com",
        "a,b@example.com",
        "a;b@example.com",
        '"quoted"@example.com',
        "wanda walker@example.com",
        "<wanda@example.com>",
        "Wanda <wanda@example.com>",
        "wända@example.com",
        "wanda..walker@example.com",
        "x" * 65 + "@example.com",
        "w@" + "a" * 250 + ".com",
    ],
)
def test_a_guest_email_that_could_break_a_mail_header_is_refused(raw):
    with pytest.raises(ValidationFailed) as refused:
        checkout.clean_guest_email(raw)
    assert refused.value.errors["email"].startswith("Enter")


def test_a_good_guest_email_is_trimmed_and_kept_as_typed():
    assert checkout.clean_guest_email("  Wanda.Walker+shoes@Example.co.uk ") == "Wanda.Walker+shoes@Example.co.uk"
    assert normalised_email("Wanda.Walker+shoes@Example.co.uk") == "wanda.walker@example.co.uk"


def test_guest_details_name_every_bad_field_at_once():
    with pytest.raises(ValidationFailed) as refused:
        checkout.clean_guest_details({**ADDRESS, "email": "nope", "city": ""})
    assert set(refused.value.errors) == {"email", "city"}


def test_a_guest_places_an_order_for_pay_on_delivery_from_the_guest_cart():
    shoe = make_shoe(name="Runner", price_cents=3000, stock={"42": 5})
    cart.add_item(GUEST_CART, shoe.shoe_id, "42", "2")
    placed = checkout.place_order(guest(), "guest-key-01")
    order = Order.get(placed.order.order_id)
    assert placed.created and order.status == "placed" and order.payment_method == "pay_on_delivery"
    assert order.user_id is None and order.guest_email == "Wanda@Example.com"
    assert order.address.as_dict()["full_name"] == "Alice Example"
    assert order.order_id == checkout.order_id_for(GUEST_CART, "guest-key-01")
    assert Stock.get(shoe.shoe_id, "42").quantity == 3
    assert list(CartLine.query(GUEST_CART)) == []
    assert list(Order.by_user.scan()) == []  # in no one's history until it is claimed


def test_a_double_submit_from_a_guest_makes_one_order():
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(GUEST_CART, shoe.shoe_id, "42", "1")
    first = checkout.place_order(guest(), "guest-key-02")
    again = checkout.place_order(guest(), "guest-key-02")  # the cart is now empty
    assert again.order.order_id == first.order.order_id and not again.created
    cart.add_item(GUEST_CART, shoe.shoe_id, "42", "1")  # a retry after the guest filled the cart again
    retry = checkout.place_order(guest(), "guest-key-02")
    assert retry.order.order_id == first.order.order_id and not retry.created
    assert Stock.get(shoe.shoe_id, "42").quantity == 4
    assert len(list(Order.scan())) == 1


def test_guest_checkout_keys_are_signed_for_the_guest_cart():
    key = checkout.new_checkout_key(GUEST_CART)
    nonce = checkout.nonce_from_checkout_key(GUEST_CART, key)
    with pytest.raises(ValidationFailed):
        checkout.nonce_from_checkout_key(cart.guest_owner("another-guest-cart"), key)
    other = cart.guest_owner("another-guest-cart")
    assert checkout.order_id_for(GUEST_CART, nonce) != checkout.order_id_for(other, nonce)


def test_owner_keys_for_limits():
    alice = make_user("alice")
    assert checkout.account_buyer(alice).owner_key == f"USER#{alice.user_id}"
    assert guest("Wanda+1@Example.com").owner_key == "EMAIL#wanda@example.com"
    assert guest("wanda+2@example.com").owner_key == guest("WANDA@example.com").owner_key


def test_guest_placements_are_limited_per_client_below_shoppers(monkeypatch):
    monkeypatch.setenv("GUEST_ORDER_CLIENT_LIMIT", "2")
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    try:
        limits.check_guest_place_order("EMAIL#a@example.com", "203.0.113.9")
        limits.check_guest_place_order("EMAIL#b@example.com", "203.0.113.9")
        with pytest.raises(limits.RateLimited) as refused:
            limits.check_guest_place_order("EMAIL#c@example.com", "203.0.113.9")  # a new email changes nothing
        assert refused.value.scope == limits.ORDER_GUEST_CLIENT
        limits.check_guest_place_order("EMAIL#a@example.com", "198.51.100.7")  # another client
        limits.check_place_order("some-user-id", "203.0.113.9")  # shoppers are not held by the guest limit
    finally:
        monkeypatch.delenv("GUEST_ORDER_CLIENT_LIMIT")
        get_settings.cache_clear()


def test_the_order_link_opens_that_guest_order_only():
    order = guest_order()
    link = order_links.order_link(order)
    assert link.startswith(f"/orders/guest/{order.order_id}.")
    token = link.rsplit("/", 1)[1]
    assert order_service.order_from_link(token).order_id == order.order_id

    other = guest_order("other@example.com", "guest-key-09", cart.guest_owner("another-guest-cart"))
    signature = token.partition(".")[2]
    forged = [
        f"{other.order_id}.{signature}",  # another order's id with this order's signature
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        order.order_id,
        f"{order.order_id}.",
        "",
        "x" * 300,
        f"{order.order_id}.{tokens.sign('checkout', order.order_id)}",  # signed for another purpose
    ]
    for bad in forged:
        with pytest.raises(NotFound):
            order_service.order_from_link(bad)


def test_the_order_link_lasts_90_days_and_survives_a_key_rotation(frozen_clock, rotate_signing_key):
    order = guest_order()
    token = order_links.order_link(order).rsplit("/", 1)[1]
    rotate_signing_key()
    frozen_clock.advance(days=89)
    assert order_service.order_from_link(token).order_id == order.order_id
    frozen_clock.advance(days=1, seconds=1)
    with pytest.raises(NotFound):
        order_service.order_from_link(token)


def test_an_account_order_has_no_guest_link():
    alice = make_user("alice", address=ADDRESS)
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(cart.user_owner(alice.user_id), shoe.shoe_id, "42", "1")
    order = checkout.place_order(alice, "alice-key-1").order
    assert order_links.order_link(order) == f"/orders/{order.order_id}"
    forged = f"{order.order_id}.{tokens.sign(order_links.ORDER_LINK_PURPOSE, order.order_id)}"
    with pytest.raises(NotFound):  # even correctly signed: an account's order never opens by link
        order_service.order_from_link(forged)


def test_claiming_a_guest_order_puts_it_in_the_accounts_history():
    order = guest_order("wanda@example.com")
    wanda = make_user("wanda", email="WANDA@example.com")
    claimed = order_service.claim_guest_order(order, wanda)
    assert claimed.user_id == wanda.user_id
    listed, _ = order_service.list_orders(wanda.user_id)
    assert [o.order_id for o in listed] == [order.order_id]
    assert order_service.get_order(wanda.user_id, order.order_id).guest_email == "wanda@example.com"
    assert order_links.order_link(Order.get(order.order_id)) == f"/orders/{order.order_id}"
    # Again (a double click): nothing changes.
    assert order_service.claim_guest_order(Order.get(order.order_id), wanda).user_id == wanda.user_id


def test_a_guest_order_joins_only_the_account_with_its_email_and_only_once():
    order = guest_order("wanda@example.com")
    mallory = make_user("mallory")
    with pytest.raises(ValidationFailed, match="another email"):
        order_service.claim_guest_order(order, mallory)
    assert Order.get(order.order_id).user_id is None
    wanda = make_user("wanda", email="wanda@example.com")
    stale = Order.get(order.order_id)
    order_service.claim_guest_order(Order.get(order.order_id), wanda)
    # A copy read before the claim: the write's condition refuses it, the order is read again.
    assert order_service.claim_guest_order(stale, wanda).user_id == wanda.user_id
    impostor = User(pk="USER#impostor", user_id="impostor", email="wanda@example.com")
    with pytest.raises(Conflict, match="already belongs"):
        order_service.claim_guest_order(Order.get(order.order_id), impostor)
    stale_again = Order.get(order.order_id)
    stale_again.user_id = None  # as if read before the claim, by someone else with that email
    with pytest.raises(Conflict):
        order_service.claim_guest_order(stale_again, impostor)
    assert Order.get(order.order_id).user_id == wanda.user_id


def test_a_claim_racing_an_admin_change_reads_again_and_still_claims():
    from chalicelib.services import fulfilment

    order = guest_order("wanda@example.com")
    wanda = make_user("wanda", email="wanda@example.com")
    fulfilment.transition(order.order_id, fulfilment.SHIPPED, "boss")  # bumps the version
    claimed = order_service.claim_guest_order(order, wanda)  # `order` is the stale copy
    assert claimed.user_id == wanda.user_id and claimed.status == "shipped"
    assert Order.get(order.order_id).status == "shipped"


def test_deleting_the_account_forgets_the_claimed_orders_email():
    order = guest_order("wanda@example.com")
    wanda = make_user("wanda", email="wanda@example.com")
    order_service.claim_guest_order(order, wanda)
    order_service.detach_orders(wanda)
    kept = Order.get(order.order_id)
    assert kept.user_id is None and kept.guest_email is None and kept.address is None
