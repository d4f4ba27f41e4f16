"""What the shop queued to send: emails by recipient, and the shop's links in them."""

import re
from collections.abc import Iterator

import pytest

from chalicelib.services import account_emails

LINK_RE = re.compile(r"https?://[^\s\"'<>]+")


class Mailbox:
    def all(self) -> list[account_emails.Email]:
        return list(account_emails._queued)

    def to(self, address: str) -> list[account_emails.Email]:
        return [email for email in self.all() if email.to.casefold() == address.casefold()]

    def subjects(self, address: str) -> list[str]:
        return [email.subject for email in self.to(address)]

    def link(self, email: account_emails.Email, path_prefix: str) -> str:
        """The path (and query) of the email's one link starting with `path_prefix`."""
        links = [str(value) for value in email.values.values() if isinstance(value, str)]
        found = [re.sub(r"^https?://[^/]+", "", url) for url in links if LINK_RE.fullmatch(url)]
        chosen = [path for path in found if path.startswith(path_prefix)]
        assert len(chosen) == 1, found
        return chosen[0]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    account_emails._queued.clear()
    yield Mailbox()
    account_emails._queued.clear()
