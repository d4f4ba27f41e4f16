"""Email in tests: moto's SES with the shop's sender verified, what it received (parsed), and the
outbox stream's changes as the sender receives them.

- `ses` fixture (tests/conftest.py loads this module as a plugin): the sender identity exists, retry
  pauses are recorded instead of slept; yields a `Mailbox` whose `.sent()` lists the emails SES
  accepted during the test, oldest first.
- `outbox_changes(*ids)`: each outbox item as a stream INSERT record, decoded by chalicelib.streams.
- `deliver_pending()`: what the stream would do next: run the sender on every pending message.
"""

import email
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import pytest

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
