"""Email in tests: moto's SES with the shop's sender verified, what it received (parsed), and the
outbox stream's changes as the sender receives them.

- `ses` fixture (tests/conftest.py loads this module as a plugin): the sender identity exists, retry
  pauses are recorded instead of slept; yields a `Mailbox` whose `.sent()` lists the emails SES
  accepted during the test, oldest first.
- `outbox_changes(*ids)`: each outbox item as a stream INSERT record, decoded by chalicelib.streams.
- `FlakySes(code, failures)`: SES answering with an error first; `order_context(**changes)`.
- `deliver_pending()`: what the stream would do next: run the sender on every pending message.
"""

import email
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws, streams
from chalicelib.config import get_settings
from chalicelib.models import OutboxMessage
from chalicelib.services import mailer, outbox

ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class SentMail:
    destinations: list[str]
    raw: str

    @property
    def mime(self) -> Message:
        return email.message_from_string(self.raw, policy=default_policy)

    @property
    def subject(self) -> str:
        return str(self.mime["Subject"])

    def part(self, subtype: str) -> str:
        found = self.mime.get_body(preferencelist=(subtype,))  # type: ignore[attr-defined]
        assert found is not None, f"no text/{subtype} part"
        return str(found.get_content())

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


def _ses_backend() -> Any:
    from moto.ses.models import ses_backends

    return ses_backends[ACCOUNT_ID][get_settings().region]


class Mailbox:
    def __init__(self) -> None:
        self.start = len(_ses_backend().sent_messages)
        self.pauses: list[float] = []

    def sent(self) -> list[SentMail]:
        return [
            # moto lists the request's Destination and then every To/Cc/Bcc header's address: distinct
            # addresses, in order, are everyone the email would reach.
            SentMail(destinations=list(dict.fromkeys(message.destinations)), raw=message.raw_data)
            for message in _ses_backend().sent_messages[self.start :]
        ]


@pytest.fixture
def ses(aws_backend: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    aws.sesv2_client().create_email_identity(EmailIdentity=get_settings().email_from_address)
    box = Mailbox()
    monkeypatch.setattr(mailer, "sleep", box.pauses.append)
    yield box
    aws.set_client("sesv2", None)


def outbox_changes(*message_ids: str, kind: str = streams.INSERT) -> list[streams.Change]:
    """The items as stream records (DynamoDB JSON, as Lambda passes them), decoded."""
    settings = get_settings()
    table = settings.table_name("outbox")
    stream_arn = f"arn:aws:dynamodb:{settings.region}:{ACCOUNT_ID}:table/{table}/stream/2026-12-01T00:00:00"
    changes = []
    for message_id in message_ids:
        item = aws.dynamodb_client().get_item(
            TableName=table, Key={"message_id": {"S": message_id}}, ConsistentRead=True
        )["Item"]
        record = {
            "eventName": kind,
            "eventSourceARN": stream_arn,
            "dynamodb": {"Keys": {"message_id": item["message_id"]}, "NewImage": item, "SequenceNumber": "1"},
        }
        changes.append(streams.decode(record, settings.table_prefix))
    return changes


def pending_ids() -> list[str]:
    return [item.message_id for item in outbox.unsent(outbox.PENDING)]


def deliver_pending() -> None:
    streams.dispatch(outbox_changes(*pending_ids()))


def message(message_id: str) -> OutboxMessage:
    found = outbox.get(message_id)
    assert found is not None, message_id
    return found


def order_context(**changes: object) -> dict:
    """A rendered order email's context, as emails.order_context makes it."""
    context = {
        "order_id": "ORDER123",
        "order_url": "https://shop.example/orders/ORDER123",
        "placed_on": "01 Dec 2026",
        "status": "placed",
        "payment_method": "pay_on_delivery",
        "lines": [
            {
                "name": "Runner",
                "brand": "Fleet",
                "size": "42",
                "quantity": 1,
                "unit_price_cents": 3000,
                "line_total_cents": 3000,
            }
        ],
        "subtotal_cents": 3000,
        "discount_cents": 0,
        "shipping_cents": 595,
        "total_cents": 3595,
        "address_lines": ["Alice Example", "1 Main Street", "Dublin D02 X285", "Ireland"],
    }
    context.update(changes)
    return context


class FlakySes:
    """SES that answers with `error_code` the first `failures` times, then as moto does."""

    def __init__(self, error_code: str, failures: int = 10**6, status: int = 400) -> None:
        self.real = aws.sesv2_client()
        self.error_code, self.failures, self.status, self.calls = error_code, failures, status, 0

    def send_email(self, **request: object) -> dict:
        self.calls += 1
        if self.calls <= self.failures:
            raise ClientError(
                {
                    "Error": {"Code": self.error_code, "Message": "slow down"},
                    "ResponseMetadata": {"HTTPStatusCode": self.status},
                },
                "SendEmail",
            )
        return self.real.send_email(**request)
