"""Email on the local stack: the sender identity in moto's SES, and what moto's SES received.

moto keeps every email the shop sent (SES v2 raw MIME, as the sender passes it) and serves them at
`GET <endpoint>/moto-api/data.json`; reading them there shows what was really sent, headers and
both parts, rather than what the shop meant to send. Sent mail lives in moto's memory: a restart of
`make run` starts with an empty mailbox (the outbox table, saved with the data, still lists it).
"""

import email
import json
import re
import urllib.request
from dataclasses import asdict, dataclass
from email.policy import default as default_policy
from typing import Any

LINK_RE = re.compile(r"https?://[^\s<>\"')]+")


@dataclass(frozen=True)
class LocalMail:
    message_id: str  # SES's id (the outbox item's provider_message_id)
    to: list[str]
    subject: str
    text: str
    links: list[str]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def ensure_sender_identity() -> str:
    """The shop's sending address as an SES identity (in AWS the operator verifies the domain; moto
    only needs it to exist); returns the address."""
    from chalicelib.aws import sesv2_client
    from chalicelib.config import get_settings

    address = get_settings().email_from_address
    client = sesv2_client()
    client.create_email_identity(EmailIdentity=address)  # idempotent in moto
    client.get_email_identity(EmailIdentity=address)  # raises if it is not there
    return address


def _parse(raw: str, message_id: str, destinations: list[str]) -> LocalMail:
    mime = email.message_from_string(raw, policy=default_policy)
    body = mime.get_body(preferencelist=("plain",))
    text = str(body.get_content()) if body is not None else ""
    return LocalMail(
        message_id=message_id,
        to=list(dict.fromkeys(destinations)),  # moto lists the Destination and the To header's address
        subject=str(mime.get("Subject", "")),
        text=text,
        links=list(dict.fromkeys(LINK_RE.findall(text))),
    )


def sent_mail(endpoint: str) -> list[LocalMail]:
    """Every email the local SES accepted, newest first."""
    url = f"{endpoint.rstrip('/')}/moto-api/data.json"  # the local moto server, never AWS
    # moto dumps its whole state here (every table and stream record, not only SES): on a long-lived
    # local server, such as the test session's after 2,000 tests, that took over 30 s.
    with urllib.request.urlopen(url, timeout=180) as answer:  # nosec B310
        data = json.load(answer)
    raw_messages = data.get("ses", {}).get("RawMessage", [])
    mails = [
        _parse(str(m.get("raw_data", "")), str(m.get("id", "")), list(m.get("destinations") or []))
        for m in raw_messages
    ]
    return list(reversed(mails))


def format_mail(mail: LocalMail) -> str:
    lines = [f"To: {', '.join(mail.to)}", f"Subject: {mail.subject}"]
    lines += [f"Link: {link}" for link in mail.links]
    return "\n".join([*lines, "", mail.text.rstrip(), ""])
