"""Shoppers, their unique-name claims, admins and server-side sessions."""

import zlib
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from chalicelib import clock
from chalicelib.models.base import StoreModel, plain_dict, table_meta

# Customer search (services/customers.py, docs/data-model.md): per field a casefolded key in an index
# partitioned by its first character; the list merges CUSTOMER_SHARDS partitions of customers-by-joined.
CUSTOMER_SHARDS = 4
CUSTOMER_FIELDS = ["user_id", "username", "email", "created_at", "last_address"]  # what the indexes carry


def search_key(value: str | None) -> str | None:
    key = " ".join(str(value or "").casefold().split())
    return key or None


def _customer_index(name: str, head: str, key: str) -> type[GlobalSecondaryIndex]:
    meta = type("Meta", (), {"index_name": name, "projection": IncludeProjection(CUSTOMER_FIELDS)})
    attrs = {"Meta": meta, head: UnicodeAttribute(hash_key=True), key: UnicodeAttribute(range_key=True)}
    return type(f"CustomersBy{head.title().replace('_', '')}", (GlobalSecondaryIndex,), attrs)


CustomersByUsername = _customer_index("customers-by-username", "username_head", "username_lc")
CustomersByEmail = _customer_index("customers-by-email", "email_head", "email_lc")
CustomersByName = _customer_index("customers-by-name", "name_head", "name_lc")
CustomersByJoined = _customer_index("customers-by-joined", "customer_shard", "joined_sort")


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
    # "My size" per department ({"kids": "31"}), beside the general preferred_size (services/my_size.py)
    department_sizes: MapAttribute[str, Any] = MapAttribute(null=True)
    last_address: MapAttribute[str, Any] = MapAttribute(null=True)
    # Password reset (services/password_reset.py): the SHA-256 of the one live token, and its
    # expiry. A newer request overwrites them; a reset or a successful login removes them.
    reset_token_hash = UnicodeAttribute(null=True)
    reset_expires_at = UTCDateTimeAttribute(null=True)
    # Email change awaiting confirmation from the new address (services/account_changes.py).
    pending_email = UnicodeAttribute(null=True)
    email_token_hash = UnicodeAttribute(null=True)
    email_token_expires_at = UTCDateTimeAttribute(null=True)
    # Customer search keys (see CUSTOMER_SHARDS above): set on every save, and by search_actions().
    username_head = UnicodeAttribute(null=True)
    username_lc = UnicodeAttribute(null=True)
    email_head = UnicodeAttribute(null=True)
    email_lc = UnicodeAttribute(null=True)
    name_head = UnicodeAttribute(null=True)  # from the saved address's full name; none without one
    name_lc = UnicodeAttribute(null=True)
    customer_shard = UnicodeAttribute(null=True)
    joined_sort = UnicodeAttribute(null=True)  # "<iso created_at>#<user_id>"

    by_username = CustomersByUsername()
    by_email = CustomersByEmail()
    by_name = CustomersByName()
    by_joined = CustomersByJoined()

    @staticmethod
    def key_for(user_id: str) -> str:
        return f"USER#{user_id}"

    def full_name(self) -> str | None:
        return str(plain_dict(self.last_address).get("full_name") or "") or None

    def search_values(self, email: str | None = None, full_name: str | None = None) -> dict[str, str | None]:
        """Every customer-search attribute's value for this user, with a new email or name if given."""
        username = search_key(self.username)
        email = search_key(self.email if email is None else email)
        name = search_key(self.full_name() if full_name is None else full_name)
        created = clock.sortable(self.created_at) if self.created_at else ""
        return {
            "username_head": username[0] if username else None,
            "username_lc": username,
            "email_head": email[0] if email else None,
            "email_lc": email,
            "name_head": name[0] if name else None,
            "name_lc": name,
            "customer_shard": str(zlib.crc32(self.user_id.encode()) % CUSTOMER_SHARDS) if self.user_id else None,
            "joined_sort": f"{created}#{self.user_id}" if self.user_id else None,
        }

    def search_actions(self, email: str | None = None, full_name: str | None = None) -> list[Action]:
        """Update actions keeping the search keys in step with an update setting a new email or address."""
        actions: list[Action] = []
        for name, value in self.search_values(email, full_name).items():
            attribute = getattr(User, name)
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        return actions

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        for name, value in self.search_values().items():
            setattr(self, name, value)
        return super().serialize(null_check=null_check)


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
