"""The sender: outbox messages become emails through SES, once, with retries, never silently lost;
addresses cannot inject headers; suppressed addresses are not mailed; order emails say what a
shopper needs (lines, sizes, totals, tracking)."""

import json
import logging

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib import aws, streams
from chalicelib.models import Order
from chalicelib.services import cart, checkout, emails, fulfilment, mailer, outbox
from tests.factories import ADDRESS, ADMIN, make_shoe, make_user
from tests.mail_fixtures import FlakySes, deliver_pending, message, order_context, outbox_changes


def _message(recipient: str = "alice@example.com", key: str = "test#1", kind: str = emails.ORDER_DELIVERED):
    return outbox.Message(kind=kind, recipient=recipient, context=order_context(), dedupe_key=key)


def _place_order(username: str = "alice"):
    user = make_user(username, address=ADDRESS)
    shoe = make_shoe(name="Runner", brand="Fleet", price_cents=3000, stock={"42": 5, "43": 2})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "2")
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "43", "1")
    return user, shoe, checkout.place_order(user, "key-00000001").order


# -- order emails ---------------------------------------------------------------------------------
def test_the_order_confirmation_lists_the_lines_sizes_and_total_with_a_link_to_the_order(ses):
    _, _, order = _place_order()
    queued = message(f"order_placed#{order.order_id}")
    assert (queued.status, queued.recipient) == ("pending", "alice@example.com")

    deliver_pending()

    [mail] = ses.sent()
    assert mail.destinations == ["alice@example.com"]
    assert mail.mime["To"] == "alice@example.com"
    assert mail.mime["From"] == "Stride Shoes <orders@stride-shoes.example>"
    assert order.order_number in mail.subject
    text = mail.text
    assert "Runner (Fleet), size EU 42, quantity 2: $60.00" in text
    assert "Runner (Fleet), size EU 43, quantity 1: $30.00" in text
    assert f"Total: {emails.format_money(order.total_cents)}" in text
    assert "Alice Example" in text and "Ireland" in text
    assert f"http://127.0.0.1:8000/orders/{order.order_id}" in text
    assert "EU 43" in mail.html and f'href="http://127.0.0.1:8000/orders/{order.order_id}"' in mail.html
    sent = message(f"order_placed#{order.order_id}")
    assert (sent.status, sent.attempts, sent.queue) == ("sent", 1, None)
    assert sent.subject == mail.subject and sent.provider_message_id and sent.expires_at


def test_an_order_that_fails_queues_no_confirmation(ses):
    user = make_user("alice", address=ADDRESS)
    shoe = make_shoe(stock={"42": 1})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    from chalicelib.models import Stock

    Stock(shoe_id=shoe.shoe_id, size="42").update(actions=[Stock.quantity.set(0)])  # sold meanwhile
    with pytest.raises(checkout.OutOfStock):
        checkout.place_order(user, "key-00000001")
    assert list(outbox.unsent(outbox.PENDING)) == []


def test_a_request_never_waits_on_ses(ses):
    class Down:
        def send_email(self, **request: object) -> dict:
            raise AssertionError("a request called SES")

    aws.set_client("sesv2", Down())
    _, _, order = _place_order()
    fulfilment.transition(order.order_id, fulfilment.SHIPPED, ADMIN, carrier="ups", tracking_number="1Z999AA1")
    assert {item.kind for item in outbox.unsent(outbox.PENDING)} == {emails.ORDER_PLACED, emails.ORDER_SHIPPED}


def test_the_shipped_email_carries_the_carrier_tracking_number_and_link(ses):
    _, _, order = _place_order()
    fulfilment.transition(order.order_id, fulfilment.SHIPPED, ADMIN, carrier="ups", tracking_number="1Z 999 AA1")
    assert Order.get(order.order_id).tracking_note == "UPS 1Z 999 AA1"  # the shopper's page shows it too
    deliver_pending()
    shipped = [mail for mail in ses.sent() if "shipped" in mail.subject]
    assert len(shipped) == 1
    text = shipped[0].text
    assert "with UPS" in text and "Tracking number: 1Z 999 AA1" in text
    assert "Track your parcel: https://www.ups.com/track?tracknum=1Z999AA1" in text
    assert "size EU 42, quantity 2" in text


def test_shipping_refuses_an_unknown_carrier_or_a_malformed_tracking_number(ses):
    _, _, order = _place_order()
    with pytest.raises(fulfilment.ValidationFailed) as raised:
        fulfilment.transition(order.order_id, fulfilment.SHIPPED, ADMIN, carrier="pigeon")
    assert raised.value.errors == {"carrier": "Choose a carrier from the list."}
    with pytest.raises(fulfilment.ValidationFailed):
        fulfilment.transition(order.order_id, fulfilment.SHIPPED, ADMIN, carrier="ups", tracking_number="1Z\r\nBcc: x")
    assert Order.get(order.order_id).status == "placed"
    assert [item.kind for item in outbox.unsent(outbox.PENDING)] == [emails.ORDER_PLACED]


def test_delivered_and_cancelled_orders_email_the_shopper(ses):
    _, _, first = _place_order("alice")
    fulfilment.transition(first.order_id, fulfilment.SHIPPED, ADMIN)
    fulfilment.transition(first.order_id, fulfilment.DELIVERED, ADMIN)
    user = make_user("bob", address=ADDRESS)
    shoe = make_shoe(stock={"42": 3})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    second = checkout.place_order(user, "key-00000002").order
    fulfilment.transition(second.order_id, fulfilment.CANCELLED, ADMIN)
    deliver_pending()
    subjects = {(mail.destinations[0], mail.subject) for mail in ses.sent()}
    assert ("alice@example.com", f"Your order {first.order_number} was delivered") in subjects
    assert ("bob@example.com", f"Your order {second.order_number} is cancelled") in subjects
    assert len(subjects) == 5  # two confirmations, shipped, delivered, cancelled


def test_payment_received_and_refunded_builders_render(ses):
    _, _, order = _place_order()
    paid = emails.payment_received(order, "alice@example.com")
    refunded = emails.order_refunded(order, "alice@example.com", 1500, "re_1")
    assert (paid.dedupe_key, refunded.dedupe_key) == (
        f"payment_received#{order.order_id}",
        f"order_refunded#{order.order_id}#re_1",
    )
    assert outbox.enqueue(paid) and outbox.enqueue(refunded)
    deliver_pending()
    texts = {mail.subject: mail.text for mail in ses.sent()}
    assert (
        f"We received your payment of {emails.format_money(order.total_cents)}"
        in texts[f"Payment received for order {order.order_number}"]
    )
    assert "We refunded $15.00" in texts[f"Refund for order {order.order_number}"]


# -- exactly once, never lost -------------------------------------------------------------------
def test_a_message_is_sent_once_even_when_the_consumer_runs_twice_on_the_same_record(ses):
    outbox.enqueue(_message())
    changes = outbox_changes("test#1")
    streams.dispatch(changes)
    streams.dispatch(changes)  # the batch delivered again (streams are at least once)
    mailer.send_changes(outbox_changes("test#1", kind=streams.MODIFY))  # and the "sent" record itself
    assert len(ses.sent()) == 1
    assert message("test#1").attempts == 1


def test_a_claim_held_by_a_live_sender_is_left_alone_and_a_stale_one_is_taken(ses, frozen_clock):
    outbox.enqueue(_message())
    claimed = mailer._claim("test#1")  # another sender took it and (say) died
    assert claimed is not None
    mailer.send_changes(outbox_changes("test#1"))
    assert ses.sent() == [] and message("test#1").status == "sending"
    frozen_clock.advance(minutes=6)
    assert mailer.deliver("test#1") == "sent"
    assert len(ses.sent()) == 1


def test_ses_throttling_is_retried_with_backoff(ses):
    flaky = FlakySes("TooManyRequestsException", failures=2)
    aws.set_client("sesv2", flaky)
    outbox.enqueue(_message())
    mailer.send_changes(outbox_changes("test#1"))
    assert flaky.calls == 3 and len(ses.sent()) == 1
    assert len(ses.pauses) == 2 and all(0 <= pause <= mailer.SEND_BACKOFF_CAP_SECONDS for pause in ses.pauses)
    assert (message("test#1").status, message("test#1").attempts) == ("sent", 3)


def test_ses_unreachable_is_retried_too(ses):
    class Unreachable:
        calls = 0

        def send_email(self, **request: object) -> dict:
            Unreachable.calls += 1
            raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")

    aws.set_client("sesv2", Unreachable())
    outbox.enqueue(_message())
    assert mailer.deliver("test#1") == "failed"
    assert Unreachable.calls == mailer.SEND_ATTEMPTS


def test_a_message_that_keeps_failing_is_kept_logged_and_listed_then_retried(ses, caplog):
    aws.set_client("sesv2", FlakySes("Throttling"))
    outbox.enqueue(_message())
    with caplog.at_level(logging.INFO, logger="shoeshop"):
        mailer.send_changes(outbox_changes("test#1"))
    failed = message("test#1")
    assert (failed.status, failed.queue, failed.attempts) == ("failed", "failed", mailer.SEND_ATTEMPTS)
    assert "Throttling" in failed.last_error
    assert [item.message_id for item in outbox.unsent(outbox.FAILED)] == ["test#1"]
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.ERROR]
    assert [(line["event"], line["message_id"], line["attempts"]) for line in logged] == [
        ("email.failed", "test#1", mailer.SEND_ATTEMPTS)
    ]
    assert ses.sent() == []

    aws.set_client("sesv2", None)  # SES is back; the operator retries
    assert outbox.retry("test#1") is True
    assert outbox.retry("test#1") is False  # pending now, not failed
    mailer.send_changes(outbox_changes("test#1", kind=streams.MODIFY))
    assert len(ses.sent()) == 1
    assert (message("test#1").status, message("test#1").attempts) == ("sent", mailer.SEND_ATTEMPTS + 1)
    assert list(outbox.unsent(outbox.FAILED)) == []


def test_a_rejected_message_fails_at_once_without_retries(ses):
    flaky = FlakySes("MessageRejected")
    aws.set_client("sesv2", flaky)
    outbox.enqueue(_message())
    assert mailer.deliver("test#1") == "failed"
    assert flaky.calls == 1 and ses.pauses == []
    assert "MessageRejected" in message("test#1").last_error


def test_a_message_whose_template_cannot_render_is_failed_not_dropped(ses):
    outbox.enqueue(outbox.Message(kind="no_such_email", recipient="alice@example.com", dedupe_key="odd#1"))
    outbox.enqueue(outbox.Message(kind=emails.ORDER_DELIVERED, recipient="alice@example.com", dedupe_key="odd#2"))
    deliver_pending()
    assert "No email templates" in message("odd#1").last_error
    assert "UndefinedError" in message("odd#2").last_error
    assert {item.message_id for item in outbox.unsent(outbox.FAILED)} == {"odd#1", "odd#2"}
    assert ses.sent() == []


# -- header injection -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "recipient",
    [
        "alice@example.com\r\nBcc: eve@example.com",
        "alice@example.com\nBcc:eve@example.com",
        "alice@example.com, eve@example.com",
        "Alice <alice@example.com>",
        "alice@example.com;eve@example.com",
        "alice@exa mple.com",
        "<eve@example.com>",
        "",
    ],
)
def test_a_recipient_that_is_not_one_plain_address_is_never_mailed(ses, recipient):
    outbox.enqueue(_message(recipient=recipient))
    assert mailer.deliver("test#1") == "failed"
    assert ses.sent() == []
    assert "single plain email address" in message("test#1").last_error


def test_names_and_subjects_with_line_breaks_add_no_header_or_recipient(ses):
    hostile = "Eve\r\nBcc: eve@example.com\r\nX-Evil: 1"
    context = order_context(
        order_id=f"ORDER1{hostile}",
        address_lines=[hostile, "1 Main Street"],
        lines=[{**order_context()["lines"][0], "name": hostile}],
    )
    outbox.enqueue(
        outbox.Message(kind=emails.ORDER_PLACED, recipient="alice@example.com", context=context, dedupe_key="h#1")
    )
    assert mailer.deliver("h#1") == "sent"
    [mail] = ses.sent()
    assert mail.destinations == ["alice@example.com"]
    headers = {name.lower() for name in mail.mime}
    assert "bcc" not in headers and "x-evil" not in headers and "cc" not in headers
    assert mail.mime.get_all("To") == ["alice@example.com"]
    assert "\n" not in mail.subject and "Bcc: eve@example.com" in mail.subject  # text, inside one header
    assert "Eve Bcc: eve@example.com" not in mail.text  # the body keeps the text as text
    assert "Eve" in mail.text


# -- bounces and complaints -------------------------------------------------------------------
def _sns_event(notification: dict) -> dict:
    return {
        "Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": json.dumps(notification)}}]
    }


def _bounce(bounce_type: str, address: str) -> dict:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
            "timestamp": "2026-12-01T10:00:00.000Z",
        },
        "mail": {"destination": [address], "messageId": "0100"},
    }


def test_a_hard_bounce_suppresses_the_address_and_it_is_not_mailed_again(ses):
    assert mailer.handle_sns_event(_sns_event(_bounce("Permanent", "Gone@Example.com"))) == ["gone@example.com"]
    outbox.enqueue(_message(recipient="gone@example.com"))
    assert mailer.deliver("test#1") == "suppressed"
    assert ses.sent() == []
    suppressed = message("test#1")
    assert (suppressed.status, suppressed.queue) == ("suppressed", None)


def test_a_complaint_suppresses_and_a_soft_bounce_does_not(ses):
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "angry@example.com"}],
            "complaintFeedbackType": "abuse",
        },
    }
    assert mailer.handle_sns_event(_sns_event(complaint)) == ["angry@example.com"]
    assert mailer.handle_sns_event(_sns_event(_bounce("Transient", "full@example.com"))) == []
    assert mailer.handle_sns_event({"Records": [{"Sns": {"Message": "not json"}}]}) == []
    assert mailer.is_suppressed("angry@example.com") and not mailer.is_suppressed("full@example.com")
    outbox.enqueue(_message(recipient="full@example.com"))
    assert mailer.deliver("test#1") == "sent"


# -- end to end through the stream Lambda's handler ---------------------------------------------
def test_an_order_is_emailed_once_through_the_outbox_stream_even_when_its_records_come_twice(ses, drain_streams):
    _, _, order = _place_order()
    records = drain_streams.read()
    outbox_records = [record for record in records if "-outbox/stream/" in record["eventSourceARN"]]
    assert [record["eventName"] for record in outbox_records] == ["INSERT"]
    assert drain_streams.deliver(records) == []
    assert drain_streams.deliver(outbox_records) == []  # Lambda retried the batch
    drain_streams()  # the claim and the "sent" mark stream too: they send nothing
    [mail] = ses.sent()
    assert order.order_number in mail.subject and "size EU 43, quantity 1" in mail.text
    assert message(f"order_placed#{order.order_id}").status == "sent"
    assert drain_streams.dead_letters == []
