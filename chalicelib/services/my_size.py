""" "My size": a shopper's shoe size, per department where that makes sense (a parent's own size and
a child's are remembered separately), for guests in a cookie and for accounts on the user.

Stored as a general size plus sizes by department. The cookie reads `42` (the format from before
departments, still read: a general size), or `42|kids:31|women:39`. An account keeps the general
size in User.preferred_size and the others in User.department_sizes.

A guest's sizes move to the account at registration and login (adopt): the account keeps what it
already has (a size chosen on the account is the deliberate, everywhere choice) and takes the
guest's sizes for the departments where it has none.
"""

from dataclasses import dataclass, field

from pynamodb.expressions.update import Action

from chalicelib import sizes
from chalicelib.models import User
from chalicelib.models.base import plain_dict
from chalicelib.services.shoes import DEPARTMENTS

COOKIE_MAX_LENGTH = 120


@dataclass(frozen=True)
class MySizes:
    general: str = ""  # the shopper's own size, for pages of no department
    by_department: dict[str, str] = field(default_factory=dict)

    def for_department(self, department: str | None) -> str:
        """The size to show for a department: its own, else the general one if that department
        makes it (an adult size is never a child's)."""
        if department in DEPARTMENTS:
            own = self.by_department.get(str(department), "")
            if own:
                return own
            return self.general if self.general in sizes.sizes_for(str(department)) else ""
        return self.general

    @property
    def is_empty(self) -> bool:
        return not self.general and not self.by_department


def _department_size(department: str, size: str) -> bool:
    return department in DEPARTMENTS and size in sizes.sizes_for(department)


def parse_cookie(raw: str | None) -> MySizes:
    """What a guest's cookie says; anything malformed is left out."""
    general = ""
    by_department: dict[str, str] = {}
    for part in (raw or "")[:COOKIE_MAX_LENGTH].split("|"):
        department, _, size = part.rpartition(":")
        if not department and sizes.is_valid(size):
            general = size
        elif _department_size(department, size):
            by_department[department] = size
    return MySizes(general, by_department)


def cookie_value(chosen: MySizes) -> str:
    """The cookie's value ("" for none): a general size alone reads as before departments."""
    parts = [chosen.general] if chosen.general else []
    parts += [f"{department}:{size}" for department, size in sorted(chosen.by_department.items())]
    return "|".join(parts)


def with_size(chosen: MySizes, size: str, department: str = "") -> MySizes:
    """`size` chosen on a page of `department` ("" for none; a child's size is the kids' one
    wherever it is chosen); "" forgets that department's size, or every size on a general page."""
    if size in sizes.KIDS_SIZES:
        department = "kids"
    department = department if department in DEPARTMENTS else ""
    by_department = dict(chosen.by_department)
    if not size:
        if not department:
            return MySizes()
        by_department.pop(department, None)
        return MySizes(chosen.general, by_department)
    if not department:
        return MySizes(size, by_department)
    if not _department_size(department, size):
        return chosen
    by_department[department] = size
    # The first adult size chosen is also the general one (the home page shows it).
    general = chosen.general or (size if department != "kids" else "")
    return MySizes(general, by_department)


def of_user(user: User) -> MySizes:
    general = user.preferred_size or ""
    stored = plain_dict(user.department_sizes)
    by_department = {str(d): str(s) for d, s in stored.items() if _department_size(str(d), str(s))}
    return MySizes(general if sizes.is_valid(general) else "", by_department)


def save_for_user(user: User, chosen: MySizes) -> None:
    actions: list[Action] = [
        User.preferred_size.set(chosen.general) if chosen.general else User.preferred_size.remove(),
        User.department_sizes.set(chosen.by_department) if chosen.by_department else User.department_sizes.remove(),
    ]
    user.update(actions=actions, condition=User.pk.exists())


def adopt(user: User, guest: MySizes) -> MySizes:
    """The guest's sizes into the account where it has none; one write, only if anything moves."""
    account = of_user(user)
    merged = MySizes(account.general or guest.general, {**guest.by_department, **account.by_department})
    if merged != account:
        save_for_user(user, merged)
    return merged


# -- A size suggestion from the fit signal (services/reviews.py fit_verdict) ---------------------
SIZE_UP, SIZE_DOWN = "runs_small", "runs_large"  # reviews.RUNS_SMALL, reviews.RUNS_LARGE


@dataclass(frozen=True)
class SizeSuggestion:
    """The size to suggest instead of the shopper's own, and whether the picker may preselect it."""

    size: str  # EU size, one up (runs small) or one down (runs large) from the shopper's
    verdict: str  # SIZE_UP's or SIZE_DOWN's verdict
    offered: bool  # the shoe is made in it
    in_stock: bool
    preselect: bool  # in stock and the shopper has not chosen a size themselves


def suggest_size(
    my_size: str, department: str, verdict: str | None, on_hand: dict[str, int], chosen: str = ""
) -> SizeSuggestion | None:
    """With the shopper's size for the department and a shoe said to run small (or large): the next
    size up (or down) on the department's scale. `on_hand` is the shoe's offered sizes → units in
    stock; a suggested size not made or sold out is still returned (the page says so) but never
    preselected, nor is any when the shopper `chosen` a size: an explicit choice wins."""
    if verdict not in (SIZE_UP, SIZE_DOWN) or not my_size:
        return None
    scale = sizes.sizes_for(department)
    if my_size not in scale:
        return None
    position = scale.index(my_size) + (1 if verdict == SIZE_UP else -1)
    if not 0 <= position < len(scale):
        return None
    size = scale[position]
    offered = size in on_hand
    in_stock = offered and on_hand[size] > 0
    return SizeSuggestion(size, verdict, offered, in_stock, preselect=in_stock and not chosen)
