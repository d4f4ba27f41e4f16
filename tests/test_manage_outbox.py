"""`manage.py outbox` (what the local SES received; the outbox's unsent messages) and `retry-email`."""

import json

import pytest
from moto.server import ThreadedMotoServer

import manage
from chalicelib import aws
from chalicelib.services import emails, mailer, outbox
from devtools.localenv import free_port
from tests.mail_fixtures import FlakySes, order_context


@pytest.fixture
def moto_endpoint(monkeypatch):
    """A moto server over this process's in-process backends: its /moto-api/data.json shows the
    emails the sender just handed to (mocked) SES, as `make run`'s server does."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    yield
    server.stop()


def _send(key: str, recipient: str, **context: object) -> None:
    message = outbox.Message(emails.ORDER_PLACED, recipient, order_context(**context), dedupe_key=key)
    outbox.enqueue(message)
    assert mailer.deliver(key) == "sent"


def test_outbox_lists_sent_mail_newest_first_with_to_subject_text_and_links(ses, moto_endpoint, capsys):
    _send("m#1", "first@example.com", order_id="FIRST1", order_url="http://127.0.0.1:8000/orders/FIRST1")
    _send("m#2", "second@example.com", order_id="SECOND2", order_url="http://127.0.0.1:8000/orders/SECOND2")

    assert manage.main(["outbox"]) == 0
    out = capsys.readouterr().out
    assert out.index("To: second@example.com") < out.index("To: first@example.com")
    assert "Subject: Your Stride Shoes order SECOND2 is confirmed" in out
    assert "Link: http://127.0.0.1:8000/orders/SECOND2" in out
    assert "Runner (Fleet), size EU 42, quantity 1: $30.00" in out  # the text part

    assert manage.main(["outbox", "--json"]) == 0
    newest, older = json.loads(capsys.readouterr().out)[:2]
    assert newest["to"] == ["second@example.com"] and older["to"] == ["first@example.com"]
    assert newest["subject"] == "Your Stride Shoes order SECOND2 is confirmed"
    assert "http://127.0.0.1:8000/orders/SECOND2" in newest["links"]
    assert "Total: $35.95" in newest["text"]


def test_outbox_without_a_local_ses_says_where_to_look(ses, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert manage.main(["outbox"]) == 2
    assert "--local" in capsys.readouterr().err


def test_the_failed_view_lists_failed_email_and_retry_email_sends_it_again(ses, capsys):
    aws.set_client("sesv2", FlakySes("Throttling"))
    outbox.enqueue(outbox.Message(emails.ORDER_PLACED, "alice@example.com", order_context(), dedupe_key="f#1"))
    assert mailer.deliver("f#1") == "failed"

    assert manage.main(["outbox", "--unsent", "failed", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["message_id"], row["kind"], row["status"], row["attempts"]) == ("f#1", "order_placed", "failed", 4)
    assert "Throttling" in row["last_error"]

    aws.set_client("sesv2", None)
    assert manage.main(["retry-email", "--all-failed"]) == 0
    assert "1 message(s) queued again" in capsys.readouterr().out
    assert outbox.get("f#1").status == "pending"  # the stream brings it to the sender
    assert manage.main(["retry-email", "--id", "f#1"]) == 2  # not failed any more
    assert "no failed message" in capsys.readouterr().err
