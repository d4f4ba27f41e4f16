"""Managing admins (manage.py and the owners' back-office page) and re-checking an admin session
against its admin record."""

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock
from chalicelib.models import Admin, Session, dynamo
from chalicelib.models.accounts import ADMIN_ROLES, OWNER
from chalicelib.services import audit, passwords
from chalicelib.services.accounts import create_admin
from chalicelib.services.errors import Conflict, ServiceError, ValidationFailed
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


# Who made a change from the command line (manage.py); the back office passes the owner's username.
OPERATOR = "operator"
LAST_OWNER = "The shop needs at least one enabled owner: make another admin an owner first."


def list_admins() -> list[Admin]:
    """Every admin with a stored role (all but those stored before roles that never logged in
    since), by username: one Query per role on the small by-role index."""
    found = [admin for role in ADMIN_ROLES for admin in Admin.by_role.query(role)]
    return sorted(found, key=lambda admin: admin.username_key)


def add_admin(username: str, email: str, password: str, role: str, by: str = OPERATOR) -> Admin:
    admin = create_admin(username, email, password, role)
    audit.record(by, "admin.create", target=admin.username_key, role=role)
    return admin


# An admin that counts as an owner: role owner (or none stored yet, from before roles), not disabled.
ENABLED = (Admin.disabled == False) | Admin.disabled.does_not_exist()  # noqa: E712 - a DynamoDB condition
ENABLED_OWNER = ((Admin.role == OWNER) | Admin.role.does_not_exist()) & ENABLED
# A change raced with others on the same admins three times running (each try reads it again).
BUSY = "The admins changed while this was saved: look at the list and try again."


def _keeping_an_owner(username_key: str, actions: list) -> None:
    """Apply `actions` to an owner only while another enabled owner exists: the transaction checks
    that other owner's item, so two owners demoting or disabling each other at once cannot both
    succeed (DynamoDB serialises the two transactions; the second finds its check failed)."""
    others = [a for a in Admin.by_role.query(OWNER) if a.username_key != username_key and not a.disabled]
    target = Admin(username_key=username_key)
    for other in others[:3]:

        def build(transaction: dynamo.Transaction, other_key: str = other.username_key) -> None:
            transaction.update("target", target, actions, condition=Admin.username_key.exists())
            transaction.condition_check("other_owner", Admin, other_key, None, (Admin.role == OWNER) & ENABLED)

        try:
            dynamo.transact(build)
            return
        except dynamo.ConditionsFailed as error:
            if "target" in error.roles:
                raise AdminNotFound(username_key) from error
    raise Conflict(LAST_OWNER)


def _step_down(username: str, actions: list) -> Admin:
    """`actions` that may leave the admin no longer an enabled owner (a demotion, a disable). An
    enabled owner changes only beside another enabled owner (`_keeping_an_owner`), from the back
    office and manage.py alike, so no path leaves the shop without one. Any other admin changes on
    the condition that it is still not an enabled owner: one promoted or enabled since it was read
    (another owner may since have stepped down, counting on it) is read again and checked."""
    for _attempt in range(3):
        admin = get_admin(username)
        if admin is None:
            raise AdminNotFound(username)
        if admin.is_owner and not admin.disabled:
            _keeping_an_owner(admin.username_key, actions)
            return admin
        try:
            Admin(username_key=admin.username_key).update(
                actions=actions, condition=Admin.username_key.exists() & ~ENABLED_OWNER
            )
            return admin
        except UpdateError as error:
            if not dynamo.condition_failed(error):
                raise
    raise Conflict(BUSY)


def set_role(username: str, role: str, by: str = OPERATOR) -> Admin:
    """Owner or staff; the change holds from the admin's next request (every request re-reads it).
    The last enabled owner stays an owner (Conflict)."""
    if role not in ADMIN_ROLES:
        raise ValidationFailed({"role": "Choose owner or staff."})
    actions = [Admin.role.set(role)]
    if role == OWNER:
        admin = get_admin(username)
        if admin is None:
            raise AdminNotFound(username)
        _update(username, actions)
    else:
        admin = _step_down(username, actions)
    audit.record(by, "admin.set_role", target=admin.username_key, role=role)
    admin.role = role
    return admin


def disable_admin(username: str, by: str = OPERATOR) -> int:
    """Disable the admin and end its sessions; returns how many sessions ended. The last enabled
    owner cannot be disabled (Conflict): to shut out a stolen one, make another owner first."""
    admin = _step_down(username, [Admin.disabled.set(True)])
    ended = end_all_sessions(admin.username_key)
    audit.record(by, "admin.disable", target=admin.username_key, sessions_ended=ended)
    return ended


def enable_admin(username: str, by: str = OPERATOR) -> Admin:
    admin = _update(username, [Admin.disabled.set(False)])
    audit.record(by, "admin.enable", target=admin.username_key)
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
