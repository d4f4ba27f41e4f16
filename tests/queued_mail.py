"""What the shop queued to send (the outbox table), rendered as the sender would render it."""

import re
from dataclasses import dataclass

import pytest

from chalicelib.models import OutboxMessage
from chalicelib.services import emails

LINK_RE = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Queued:
    message_id: str
    kind: str
    to: str
    subject: str
    text: str
    html: str

    def links(self) -> list[str]:
        return LINK_RE.findall(self.text)


class Mailbox:
    def all(self) -> list[Queued]:
        """Every queued email, oldest first."""
        items = sorted(
            (item for item in OutboxMessage.scan() if getattr(item, "kind", None)), key=lambda i: i.created_sort
        )
        queued = []
        for item in items:
            rendered = emails.render(item.kind, dict(item.context))
            queued.append(
                Queued(item.message_id, item.kind, item.recipient, rendered.subject, rendered.text, rendered.html)
            )
        return queued

    def to(self, address: str, kind: str | None = None) -> list[Queued]:
        return [m for m in self.all() if m.to.casefold() == address.casefold() and kind in (None, m.kind)]

    def link(self, email: Queued, path_prefix: str) -> str:
        """The path (and query) of the email's one link starting with `path_prefix`."""
        paths = [re.sub(r"^https?://[^/]+", "", url) for url in email.links()]
        chosen = [path for path in paths if path.startswith(path_prefix)]
        assert len(chosen) == 1, paths
        return chosen[0]


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()  # the tables are emptied before every test (conftest.aws_clean)
