"""The sender: the outbox table's stream consumer. It renders each new message, sends it through
SES v2 and marks it sent, so that a batch delivered twice (streams are at least once) sends once:

1. claim: pending -> sending, conditioned on the status (a second run of the same record finds it
   sending or sent and does nothing; a claim older than CLAIM_LEASE, a sender that died, is taken);
2. suppressed address -> suppressed; an address that is not exactly one plain mailbox -> failed;
3. send: throttling, 5xx and network errors retried with jittered backoff, SEND_ATTEMPTS times;
4. sent (with SES's message id), or failed with the attempts and the last error: kept, logged at
   ERROR and listed for the operator (`manage.py outbox --unsent failed`, `retry-email`).

Headers are built by Python's email package: the only recipient is the validated address (also the
sole SES Destination), user text never reaches a header except the subject, which is collapsed to
one line and encoded (the encoder refuses CR/LF in any header).
Bounces and complaints arrive from SES through SNS (`handle_ses_notification`): a hard bounce or a
complaint suppresses the address, and the sender never mails it again.
"""

import json
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import aws, clock
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import EmailSuppression, OutboxMessage, dynamo
from chalicelib.services import emails, outbox
from chalicelib.streams import REMOVE, Change

TABLE = "outbox"  # the stream this consumer is registered for (chalicelib.wiring)
SEND_ATTEMPTS = 4
SEND_BACKOFF_BASE_SECONDS = 0.25
SEND_BACKOFF_CAP_SECONDS = 2.0
CLAIM_LEASE = timedelta(minutes=5)  # longer than a stream Lambda runs
ERROR_MAX = 500
sleep: Callable[[float], None] = time.sleep  # tests replace it

# SES answers worth another try; anything else (MessageRejected, BadRequest, a missing
# configuration set, a paused account) fails the message for the operator to look at.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# One plain mailbox, ASCII only: no display name, no list, no comment, no line break (fullmatch, so
# a trailing newline does not pass as `$` would let it).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
MAILBOX_RE = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")
MAILBOX_MAX = 254

_sent_observers: list[Callable[[OutboxMessage], None]] = []


class SendFailed(Exception):
    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:ERROR_MAX]
        self.retryable = retryable


def on_sent(observer: Callable[[OutboxMessage], None]) -> None:
    """Call `observer` after each email sent (`make run` prints a line per email)."""
    if observer not in _sent_observers:
        _sent_observers.append(observer)


def is_mailbox(address: str) -> bool:
    return len(address) <= MAILBOX_MAX and MAILBOX_RE.fullmatch(address) is not None


# -- the stream consumer ------------------------------------------------------------------------
def send_changes(changes: Sequence[Change]) -> None:
    """Send every message that a change made pending (new, or put back by `outbox.retry`)."""
    for change in changes:
        new = change.new
        if change.kind == REMOVE or new is None or "kind" not in new:
            continue  # TTL deletions, suppression items
        if new.get("status") == outbox.PENDING:
            deliver(str(new["message_id"]))


def deliver(message_id: str) -> str:
    """Claim, send and mark one message; returns its status afterwards ("" when someone else has it)."""
    message = _claim(message_id)
    if message is None:
        return ""
    if is_suppressed(message.recipient):
        _finish(message, outbox.SUPPRESSED, last_error="the address bounced or complained before")
        log_event("email.suppressed", logging.WARNING, kind=message.kind, message_id=message.message_id)
        return outbox.SUPPRESSED
    attempts = 0
    try:
        if not is_mailbox(message.recipient):
            raise SendFailed("the recipient is not a single plain email address", retryable=False)
        rendered = _render(message)
        raw = mime_message(message.recipient, rendered)
        provider_id = ""
        for attempt in range(SEND_ATTEMPTS):
            attempts += 1
            try:
                provider_id = _send(message, raw)
                break
            except SendFailed as error:
                if not error.retryable or attempt == SEND_ATTEMPTS - 1:
                    raise
                log_event("email.retry", logging.WARNING, kind=message.kind, message_id=message_id, error=error.reason)
                sleep(_backoff(attempt))
    except SendFailed as error:
        total_attempts = int(message.attempts or 0) + attempts
        _finish(message, outbox.FAILED, attempts=attempts, last_error=error.reason)
        log_event(
            "email.failed",
            logging.ERROR,
            kind=message.kind,
            message_id=message_id,
            attempts=total_attempts,
            error=error.reason,
        )
        return outbox.FAILED
    sent = _finish(message, outbox.SENT, attempts=attempts, subject=rendered.subject, provider_message_id=provider_id)
    log_event("email.sent", kind=message.kind, message_id=message_id, ses_message_id=provider_id)
    for observer in _sent_observers:
        observer(sent)
    return outbox.SENT


def _backoff(attempt: int) -> float:
    """Full jitter, as dynamo.backoff_seconds, on SES's longer scale."""
    cap = min(SEND_BACKOFF_CAP_SECONDS, SEND_BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(0, cap)  # noqa: S311 - jitter, not a secret  # nosec B311


def _claim(message_id: str) -> OutboxMessage | None:
    now = clock.now()
    item = OutboxMessage(message_id=message_id)
    stale = (OutboxMessage.status == outbox.SENDING) & (OutboxMessage.claimed_at < now - CLAIM_LEASE)
    try:
        dynamo.retry_busy(
            lambda: item.update(
                actions=[
                    OutboxMessage.status.set(outbox.SENDING),
                    OutboxMessage.queue.set(outbox.SENDING),
                    OutboxMessage.claimed_at.set(now),
                ],
                condition=(OutboxMessage.status == outbox.PENDING) | stale,
            )
        )
    except UpdateError as error:
        if dynamo.condition_failed(error):
            return None  # sent, failed, suppressed, or another run is sending it
        raise
    return item


def _finish(message: OutboxMessage, status: str, attempts: int = 0, **fields: Any) -> OutboxMessage:
    """Record the outcome, conditioned on still holding this claim (a takeover's result wins)."""
    now = clock.now()
    actions: list[Action] = [OutboxMessage.status.set(status), OutboxMessage.attempts.add(attempts)]
    if status == outbox.FAILED:
        actions.append(OutboxMessage.queue.set(outbox.FAILED))
    else:
        actions += [OutboxMessage.queue.remove(), OutboxMessage.expires_at.set(outbox.done_expiry())]
    if status == outbox.SENT:
        actions.append(OutboxMessage.sent_at.set(now))
    for name, value in fields.items():
        if value:
            actions.append(getattr(OutboxMessage, name).set(value))
    claimed_at = message.claimed_at
    try:
        dynamo.retry_busy(
            lambda: message.update(
                actions=actions,
                condition=(OutboxMessage.status == outbox.SENDING) & (OutboxMessage.claimed_at == claimed_at),
            )
        )
    except UpdateError as error:
        if not dynamo.condition_failed(error):
            raise
        log_event("email.claim_lost", logging.WARNING, kind=message.kind, message_id=message.message_id)
    return message


def _render(message: OutboxMessage) -> emails.Rendered:
    context = message.context if isinstance(message.context, dict) else {}
    try:
        return emails.render(message.kind, context)
    except Exception as error:  # a template that cannot render never will: fail it for the operator
        raise SendFailed(f"cannot render {message.kind}: {type(error).__name__}: {error}", retryable=False) from error


def mime_message(recipient: str, rendered: emails.Rendered) -> bytes:
    """The whole email, text and HTML alternatives; headers encoded by the email package."""
    from email.headerregistry import Address  # the sender only, never `import app`
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    settings = get_settings()
    sender = Address(display_name=settings.email_from_name, addr_spec=settings.email_from_address)
    mail = EmailMessage(policy=SMTP)
    mail["From"] = sender
    mail["To"] = Address(addr_spec=recipient)
    mail["Subject"] = emails.one_line(rendered.subject)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.domain)
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    return mail.as_bytes()


def _send(message: OutboxMessage, raw: bytes) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    settings = get_settings()
    request: dict[str, Any] = {
        "FromEmailAddress": settings.email_from_address,
        "Destination": {"ToAddresses": [message.recipient]},
        "Content": {"Raw": {"Data": raw}},
        "EmailTags": [{"Name": "kind", "Value": message.kind}],
    }
    if settings.ses_configuration_set:
        request["ConfigurationSetName"] = settings.ses_configuration_set
    try:
        answer = aws.sesv2_client().send_email(**request)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        detail = error.response.get("Error", {}).get("Message", "")
        raise SendFailed(f"SES {code}: {detail}", retryable=code in RETRYABLE_CODES or status >= 500) from error
    except BotoCoreError as error:  # timeouts, connection errors: SES did not answer
        raise SendFailed(f"SES unreachable: {type(error).__name__}: {error}", retryable=True) from error
    return str(answer.get("MessageId", ""))


# -- suppression: bounces and complaints --------------------------------------------------------
def is_suppressed(address: str) -> bool:
    try:
        EmailSuppression.get(EmailSuppression.key_for(address), consistent_read=True)
    except EmailSuppression.DoesNotExist:
        return False
    return True


def suppress(address: str, reason: str, detail: str = "") -> bool:
    """Never mail `address` again; False if it was suppressed already (the first reason is kept)."""
    item = EmailSuppression(
        key=EmailSuppression.key_for(address),
        reason=reason,
        detail=detail[:ERROR_MAX] or None,
        suppressed_at=clock.now(),
    )
    try:
        dynamo.retry_busy(lambda: item.save(condition=EmailSuppression.key.does_not_exist()))
    except PutError as error:
        if dynamo.condition_failed(error):
            return False
        raise
    log_event("email.address_suppressed", logging.WARNING, reason=reason)
    return True


def handle_ses_notification(notification: dict[str, Any]) -> list[str]:
    """An SES event (configuration-set event publishing, `eventType`) or identity notification
    (`notificationType`) as SNS delivers it: permanent bounces and complaints suppress their
    recipients. Returns the addresses suppressed; transient bounces and deliveries change nothing."""
    kind = notification.get("eventType") or notification.get("notificationType") or ""
    addresses: list[str] = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            log_event("email.soft_bounce", bounce_type=str(bounce.get("bounceType", "")))
            return []
        addresses = [str(r.get("emailAddress", "")) for r in bounce.get("bouncedRecipients") or []]
        reason = "bounce"
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        addresses = [str(r.get("emailAddress", "")) for r in complaint.get("complainedRecipients") or []]
        reason = "complaint"
    else:
        return []
    suppressed = []
    for address in addresses:
        address = address.strip()
        if address and suppress(address, reason, detail=str(kind)):
            suppressed.append(address.lower())
    return suppressed


def handle_sns_event(event: dict[str, Any]) -> list[str]:
    """The Lambda event of an SNS subscription ({"Records": [{"Sns": {"Message": "<json>"}}]})."""
    suppressed: list[str] = []
    for record in event.get("Records") or []:
        try:
            notification = json.loads((record.get("Sns") or {}).get("Message") or "{}")
        except ValueError:
            log_event("email.bad_notification", logging.WARNING)
            continue
        if isinstance(notification, dict):
            suppressed += handle_ses_notification(notification)
    return suppressed
