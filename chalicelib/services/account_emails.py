"""The emails of accounts and back-in-stock alerts, one small builder each, as outbox messages
(chalicelib.services.outbox): callers add them to the transaction of the change they tell about.
Templates: templates/emails/<kind>.html and .txt, subjects in chalicelib.services.emails.SUBJECTS.
Dedupe keys name the change, so a retried transaction still queues one email."""

import uuid
from datetime import datetime
from urllib.parse import quote

from chalicelib.config import get_settings
from chalicelib.formatting import format_datetime
from chalicelib.models import dynamo
from chalicelib.product_links import path_for
from chalicelib.services import outbox
from chalicelib.services.outbox import Message

PASSWORD_RESET = "password_reset"
PASSWORD_CHANGED = "password_changed"
EMAIL_CHANGE_CONFIRM = "email_change_confirm"
EMAIL_CHANGED = "email_changed"
ACCOUNT_DELETED = "account_deleted"
BACK_IN_STOCK = "back_in_stock"


def queue(transaction: dynamo.Transaction, message: Message) -> None:
    outbox.add(transaction, message)


def link(path: str) -> str:
    """An absolute link from the stage's configured shop address, never from the request's Host
    header (a forged Host must not put another site into a reset email)."""
    return get_settings().shop_url + path


def password_reset(to: str, username: str, token: str, token_hash: str, expires_at: datetime) -> Message:
    context = {
        "username": username,
        "link": link(f"/password/reset/{token}"),
        "expires_at": format_datetime(expires_at),
    }
    return Message(PASSWORD_RESET, to, context, f"{PASSWORD_RESET}#{token_hash}")


def password_changed(to: str, username: str) -> Message:
    """After a change or a reset; each is its own email (a fresh key per change)."""
    context = {"username": username, "link": link("/password/forgot")}
    return Message(PASSWORD_CHANGED, to, context, f"{PASSWORD_CHANGED}#{uuid.uuid4().hex}")


def email_change_confirm(to: str, username: str, token: str, token_hash: str) -> Message:
    context = {"username": username, "new_address": to, "link": link(f"/account/email/confirm/{token}")}
    return Message(EMAIL_CHANGE_CONFIRM, to, context, f"{EMAIL_CHANGE_CONFIRM}#{token_hash}")


def email_changed(old_address: str, username: str, new_address: str, token_hash: str) -> Message:
    context = {"username": username, "new_address": new_address}
    return Message(EMAIL_CHANGED, old_address, context, f"{EMAIL_CHANGED}#{token_hash}")


def account_deleted(to: str, username: str, user_id: str) -> Message:
    return Message(ACCOUNT_DELETED, to, {"username": username}, f"{ACCOUNT_DELETED}#{user_id}")


def back_in_stock(
    to: str, shoe_name: str, size_label: str, shoe_id: str, size: str, unsubscribe_token: str, subscribed_at: datetime
) -> Message:
    """One per subscription: the key names the subscription (a later one for the same size and
    address is a new email)."""
    context = {
        "shoe_name": shoe_name,
        "size_label": size_label,
        "link": link(path_for(shoe_id, shoe_name)),
        "unsubscribe_link": link(f"/restock/unsubscribe?token={quote(unsubscribe_token, safe='')}"),
    }
    key = f"{BACK_IN_STOCK}#{shoe_id}#{size}#{to.casefold()}#{subscribed_at.isoformat()}"
    return Message(BACK_IN_STOCK, to, context, key[: outbox.DEDUPE_KEY_MAX])
