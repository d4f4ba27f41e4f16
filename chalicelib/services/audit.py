"""Admin actions as JSON log lines: who, what, when, which item; strings cut to 200 characters."""

import json
import logging

from chalicelib import clock

log = logging.getLogger("shoeshop")


def record(admin: str, action: str, **details: object) -> None:
    entry = {"event": "admin_action", "admin": admin, "action": action, "at": clock.now().isoformat()}
    for key, value in details.items():
        entry[key] = value[:200] if isinstance(value, str) else value
    log.info(json.dumps(entry, default=str, sort_keys=True))
