"""Managing admins (manage.py) and re-checking an admin session against its admin record."""

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock
from chalicelib.models import Admin, Session, dynamo
from chalicelib.services import audit, passwords
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.sessions import ADMIN, end_all_sessions
from chalicelib.services.validation import check_new_password


class AdminNotFound(ServiceError):
    def __init__(self, username: str) -> None:
        super().__init__(f"There is no admin {username!r}.")


def get_admin(username: str) -> Admin | None:
    """The admin record, read strongly consistent: a disable takes effect on the next request."""
    try:
        return Admin.get(username.casefold(), consistent_read=True)
    except DoesNotExist:
        return None


def session_admin(session: Session | None) -> Admin | None:
    """The admin behind an admin session, or None if the session must be refused: the admin was
    removed or disabled, or its password changed after the session started. One GetItem per
    request, no cache, so the answer holds at once in every Lambda.
    """
    if session is None or session.role != ADMIN or not session.user_id:
        return None
    admin = get_admin(session.user_id)
    if admin is None or admin.disabled:
        return None
    if admin.password_changed_at is not None and session.created_at < admin.password_changed_at:
        return None
    return admin


def _update(username: str, actions: list) -> Admin:
    admin = Admin(username_key=username.casefold())
    try:
        admin.update(actions=actions, condition=Admin.username_key.exists())
    except UpdateError as error:
        if not dynamo.condition_failed(error):
            raise
        raise AdminNotFound(username) from error
    return admin


# Admin changes come from the operator's command line (manage.py), never from a web page.
OPERATOR = "operator"


def disable_admin(username: str) -> int:
    """Disable the admin and end its sessions; returns how many sessions ended."""
    admin = _update(username, [Admin.disabled.set(True)])
    ended = end_all_sessions(admin.username_key)
    audit.record(OPERATOR, "admin.disable", target=admin.username_key, sessions_ended=ended)
    return ended


def enable_admin(username: str) -> Admin:
    admin = _update(username, [Admin.disabled.set(False)])
    audit.record(OPERATOR, "admin.enable", target=admin.username_key)
    return admin


def set_admin_password(username: str, password: str) -> int:
    """A new password under the admin rule; every session of the admin ends. Returns how many."""
    admin = get_admin(username)
    if admin is None:
        raise AdminNotFound(username)
    errors = check_new_password(password, password, username=admin.username, email=admin.email, admin=True)
    if errors:
        raise ValidationFailed(errors)
    _update(
        username,
        [Admin.password_hash.set(passwords.hash_password(password)), Admin.password_changed_at.set(clock.now())],
    )
    ended = end_all_sessions(admin.username_key)
    audit.record(OPERATOR, "admin.set_password", target=admin.username_key, sessions_ended=ended)
    return ended
