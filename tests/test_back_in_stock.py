""" "Email me when it's back": subscribing on the product page, the stock stream consumer that
emails once per subscription, the signed unsubscribe link, and the admin's waiting counts."""

import pytest

from chalicelib import streams
from chalicelib.models import RestockSubscription
from chalicelib.product_links import product_path
from chalicelib.services import back_in_stock, limits
from tests.factories import make_shoe

GUEST = "guest@example.com"


def body(response) -> str:
    return response.body.decode()


def subscribe(client, shoe_id: str, size: str, email: str | None = GUEST):
    form = {"size": size} | ({"email": email} if email is not None else {})
    return client.post_form(f"/shoes/{shoe_id}/restock-alerts", form, csrf_page="/")


def stock_change(shoe_id: str, size: str, before: int | None, after: int) -> streams.Change:
    old = None if before is None else {"shoe_id": shoe_id, "size": size, "quantity": before, "sold": 1}
    return streams.Change(
        table="stock",
        kind=streams.INSERT if before is None else streams.MODIFY,
        keys={"shoe_id": shoe_id, "size": size},
        old=old,
        new={"shoe_id": shoe_id, "size": size, "quantity": after, "sold": 1},
    )


def subscribers(shoe_id: str, size: str) -> list[str]:
    return [
        s.email
        for s in RestockSubscription.query(f"{shoe_id}#{size}", RestockSubscription.subscriber.startswith("EMAIL#"))
    ]


def test_the_product_page_offers_only_sold_out_sizes_and_asks_guests_for_an_email(web, other_web):
    shoe = make_shoe({"41": 0, "42": 3, "43": 0})
    page = body(web.get(product_path(shoe)))
    form = page[page.index('class="restock-alert') :]
    assert "Email me when it&#39;s back" in form or "Email me when it's back" in form
    assert 'value="41"' in form and 'value="43"' in form and 'value="42"' not in form
    assert '<label for="field-email">Email' in form
    other_web.register("bob")
    shopper_page = body(other_web.get(product_path(shoe)))
    assert "at bob@example.com" in shopper_page and 'id="field-email"' not in shopper_page
    no_form = body(web.get(product_path(make_shoe({"42": 2}))))
    assert "restock-alert" not in no_form


def test_a_guest_and_a_shopper_subscribe_once_each_and_the_admin_sees_two_waiting(web, other_web, admin_account):
    shoe = make_shoe({"42": 0, "43": 0})
    response = subscribe(web, shoe.shoe_id, "42")
    assert response.status_code == 303
    assert "We will email guest@example.com once when EU 42" in body(web.get(product_path(shoe)))
    subscribe(web, shoe.shoe_id, "42", "GUEST@example.com")  # the same address again: one subscription
    other_web.register("bob")
    subscribe(other_web, shoe.shoe_id, "42", email="ignored@example.com")  # shoppers use their own address
    assert sorted(subscribers(shoe.shoe_id, "42")) == ["bob@example.com", GUEST]
    assert back_in_stock.waiting_counts(shoe.shoe_id, ["42", "43"]) == {"42": 2, "43": 0}

    other_web.post_form("/logout", {}, csrf_page="/account")
    assert other_web.admin_login().status_code == 303
    grid = body(other_web.get(f"/admin/shoes/{shoe.shoe_id}/edit"))
    assert 'id="field-stock_42-waiting">2 waiting</span>' in grid
    assert "field-stock_43-waiting" not in grid


def test_an_in_stock_size_a_bad_address_or_an_unknown_size_is_refused_with_a_message(web):
    shoe = make_shoe({"42": 2, "43": 0})
    for size, email, message in (
        ("42", GUEST, "is in stock now"),
        ("43", "not an address", "Enter an email address like"),
        ("39", GUEST, "Choose a size this shoe is offered in."),
    ):
        response = subscribe(web, shoe.shoe_id, size, email)
        assert response.status_code == 303
        assert message in body(web.get(product_path(shoe)))
    assert back_in_stock.waiting_counts(shoe.shoe_id, ["42", "43"]) == {"42": 0, "43": 0}
    form = {"size": "42", "email": GUEST}
    assert web.post_form("/shoes/no-such-shoe/restock-alerts", form, csrf_page="/").status_code == 404


def test_subscriptions_are_throttled_per_client():
    shoe = make_shoe({"42": 0})
    for n in range(20):
        back_in_stock.subscribe(shoe.shoe_id, "42", f"person{n}@example.com", "192.0.2.1")
    with pytest.raises(limits.RateLimited):
        back_in_stock.subscribe(shoe.shoe_id, "42", "one-more@example.com", "192.0.2.1")
    back_in_stock.subscribe(shoe.shoe_id, "42", "one-more@example.com", "192.0.2.2")


def test_a_restock_emails_each_subscriber_of_that_size_once_and_none_of_another_size(mailbox):
    shoe = make_shoe({"42": 0, "43": 0}, name="Trail Runner", brand="Stride")
    for email in ("ann@example.com", "ben@example.com"):
        back_in_stock.subscribe(shoe.shoe_id, "42", email, "192.0.2.1")
    back_in_stock.subscribe(shoe.shoe_id, "43", "cat@example.com", "192.0.2.1")

    batch = [stock_change(shoe.shoe_id, "42", 0, 3), stock_change(shoe.shoe_id, "43", 0, 0)]
    back_in_stock.on_stock_changes(batch)
    back_in_stock.on_stock_changes(batch)  # the same batch delivered again
    sent = [m for m in mailbox.all() if m.kind == "back_in_stock"]
    assert sorted(m.to for m in sent) == ["ann@example.com", "ben@example.com"]
    assert sent[0].subject == "Back in stock: Stride Trail Runner in EU 42 · UK 8.5 · US 9.5"
    assert product_path(shoe) in sent[0].text and "/restock/unsubscribe?token=" in sent[0].text
    assert subscribers(shoe.shoe_id, "42") == [] and subscribers(shoe.shoe_id, "43") == ["cat@example.com"]
    assert back_in_stock.waiting_counts(shoe.shoe_id, ["42", "43"]) == {"42": 0, "43": 1}


@pytest.mark.parametrize(("before", "after"), [(2, 5), (3, 0), (0, 0)])
def test_stock_that_was_not_at_zero_or_stays_at_zero_sends_nothing(mailbox, before, after):
    shoe = make_shoe({"42": 0})
    back_in_stock.subscribe(shoe.shoe_id, "42", "ann@example.com", "192.0.2.1")
    back_in_stock.on_stock_changes([stock_change(shoe.shoe_id, "42", before, after)])
    assert mailbox.all() == []
    assert subscribers(shoe.shoe_id, "42") == ["ann@example.com"]


def test_a_new_stock_row_with_pairs_counts_as_back_and_other_tables_are_ignored(mailbox):
    shoe = make_shoe({"42": 0})
    back_in_stock.subscribe(shoe.shoe_id, "42", "ann@example.com", "192.0.2.1")
    other = streams.Change(
        "orders", streams.MODIFY, {"shoe_id": shoe.shoe_id, "size": "42"}, {"quantity": 0}, {"quantity": 4}
    )
    back_in_stock.on_stock_changes([other])
    assert mailbox.all() == []
    back_in_stock.on_stock_changes([stock_change(shoe.shoe_id, "42", None, 4)])
    assert [m.to for m in mailbox.all()] == ["ann@example.com"]


def test_the_unsubscribe_link_shows_a_confirm_page_and_a_post_unsubscribes(web):
    shoe = make_shoe({"42": 0})
    back_in_stock.subscribe(shoe.shoe_id, "42", "ann@example.com", "192.0.2.1")
    token = back_in_stock.unsubscribe_token(shoe.shoe_id, "42", "ann@example.com")
    page = web.get(f"/restock/unsubscribe?token={token}")
    assert page.status_code == 200 and "Stop emailing <strong>ann@example.com</strong>" in body(page)
    assert subscribers(shoe.shoe_id, "42") == ["ann@example.com"]  # a GET (a link scanner) changes nothing
    for _ in range(2):  # again is harmless
        done = web.post_form("/restock/unsubscribe", {"token": token}, csrf_page=f"/restock/unsubscribe?token={token}")
        assert done.status_code == 200 and "Unsubscribed" in body(done)
    assert subscribers(shoe.shoe_id, "42") == []
    assert back_in_stock.waiting_counts(shoe.shoe_id, ["42"]) == {"42": 0}


@pytest.mark.parametrize("token", ["", "x", "a" * 5000])
def test_a_damaged_or_forged_unsubscribe_link_gets_a_clear_page(web, token):
    shoe = make_shoe({"42": 0})
    back_in_stock.subscribe(shoe.shoe_id, "42", "ann@example.com", "192.0.2.1")
    real = back_in_stock.unsubscribe_token(shoe.shoe_id, "42", "ann@example.com")
    for bad in (token, real[:-3] + "AAA"):
        page = web.get(f"/restock/unsubscribe?token={bad}")
        assert page.status_code == 400 and "unsubscribe link is damaged" in body(page)
        posted = web.post_form("/restock/unsubscribe", {"token": bad}, csrf_page="/")
        assert posted.status_code == 400
    assert subscribers(shoe.shoe_id, "42") == ["ann@example.com"]


def test_the_emailed_unsubscribe_link_works(web, mailbox):
    shoe = make_shoe({"42": 0})
    back_in_stock.subscribe(shoe.shoe_id, "42", "ann@example.com", "192.0.2.1")
    back_in_stock.subscribe(shoe.shoe_id, "42", "ann@example.com", "192.0.2.1")
    back_in_stock.on_stock_changes([stock_change(shoe.shoe_id, "42", 0, 1)])
    [email] = mailbox.all()
    path = mailbox.link(email, "/restock/unsubscribe")
    assert "ann@example.com" in body(web.get(path))


# End to end through the streams: the admin's restock, the stock stream, the outbox stream, SES


def test_a_restock_in_the_back_office_reaches_each_subscriber_once_through_the_streams(drain_streams, ses):
    from chalicelib.services import products

    shoe = make_shoe({"42": 0, "43": 0})
    for email in ("ann@example.com", "ben@example.com"):
        back_in_stock.subscribe(shoe.shoe_id, "42", email, "192.0.2.1")
    back_in_stock.subscribe(shoe.shoe_id, "43", "cat@example.com", "192.0.2.1")
    drain_streams()  # nothing to send yet
    assert ses.sent() == []

    products.adjust_stock(shoe.shoe_id, "42", 4, "boss")
    records = drain_streams.read()
    drain_streams.deliver(records)
    drain_streams()  # the outbox's new messages reach the sender
    drain_streams.deliver(records)  # the stock batch delivered again
    drain_streams()
    sent = ses.sent()
    assert sorted(mail.destinations[0] for mail in sent) == ["ann@example.com", "ben@example.com"]
    assert all("Back in stock:" in mail.subject and "/restock/unsubscribe?token=" in mail.text for mail in sent)
    assert subscribers(shoe.shoe_id, "43") == ["cat@example.com"]
    assert drain_streams.dead_letters == []
