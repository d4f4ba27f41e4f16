"""Shoppers, their unique-name claims, admins and server-side sessions."""

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import StoreModel, table_meta


class User(StoreModel):
    """A shopper. Key `USER#<user_id>` in the users table, beside the claims below."""

    Meta = table_meta("users")

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    preferred_size = UnicodeAttribute(null=True)
    last_address: MapAttribute[str, Any] = MapAttribute(null=True)
    # Password reset (services/password_reset.py): the SHA-256 of the one live token, and its
    # expiry. A newer request overwrites them; a reset or a successful login removes them.
    reset_token_hash = UnicodeAttribute(null=True)
    reset_expires_at = UTCDateTimeAttribute(null=True)
    # Email change awaiting confirmation from the new address (services/account_changes.py).
    pending_email = UnicodeAttribute(null=True)
    email_token_hash = UnicodeAttribute(null=True)
    email_token_expires_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key_for(user_id: str) -> str:
        return f"USER#{user_id}"


class UniqueClaim(StoreModel):
    """`USERNAME#<casefolded>` or `EMAIL#<casefolded>` → user_id, written with the user in one
    conditioned transaction: DynamoDB enforces uniqueness.
    """

    Meta = table_meta("users")

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()

    @staticmethod
    def username_key(username: str) -> str:
        return f"USERNAME#{username.casefold()}"

    @staticmethod
    def email_key(email: str) -> str:
        return f"EMAIL#{email.casefold()}"


OWNER = "owner"
STAFF = "staff"
ADMIN_ROLES = {OWNER: "Owner", STAFF: "Staff"}


class AdminsByRole(GlobalSecondaryIndex):
    """The back office's list of admins: one Query per role, no Scan."""

    class Meta:
        index_name = "by-role"
        projection = AllProjection()

    role = UnicodeAttribute(hash_key=True)
    username_key = UnicodeAttribute(range_key=True)


class Admin(StoreModel):
    """A back-office user, in its own table: no shopper route can read or create one."""

    Meta = table_meta("admins")

    username_key = UnicodeAttribute(hash_key=True)  # casefolded username
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # An operator's switches (manage.py): a disabled admin cannot log in, and every admin request
    # refuses a session started before the last password change.
    disabled = BooleanAttribute(default=False)
    password_changed_at = UTCDateTimeAttribute(null=True)  # None on admins created before the field
    # Owners run the shop (products, prices, admins, the audit log); staff handle orders and stock.
    # None on an admin stored before roles existed: it is an owner (`access`), and its next login
    # stores the role, which puts it in the by-role index the back office lists admins from.
    role = UnicodeAttribute(null=True)

    by_role = AdminsByRole()

    @property
    def access(self) -> str:
        return self.role or OWNER

    @property
    def is_owner(self) -> bool:
        return self.access == OWNER


class SessionsByUser(GlobalSecondaryIndex):
    """Every session of one principal, to end them all on account deletion or password change."""

    class Meta:
        index_name = "by-user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)


class Session(StoreModel):
    """A server-side session. The key is the SHA-256 of the cookie's token, never the token."""

    Meta = table_meta("sessions")

    token_hash = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()  # "guest", "shopper" or "admin"
    user_id = UnicodeAttribute(null=True)  # user id or admin username; sparse in the index
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()  # DynamoDB deletes late: every read checks expiry itself
    data: MapAttribute[str, Any] = MapAttribute(default=dict)  # small per-session state: flash messages, guest cart id

    by_user = SessionsByUser()
