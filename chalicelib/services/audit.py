"""Admin actions as JSON log lines: who, what, when, which item; strings cut to 200 characters."""

from chalicelib import clock
from chalicelib.logs import log_event


def record(admin: str, action: str, **details: object) -> None:
    entry: dict[str, object] = {"admin": admin, "action": action, "at": clock.now().isoformat()}
    for key, value in details.items():
        entry[key] = value[:200] if isinstance(value, str) else value
    log_event("admin_action", **entry)
