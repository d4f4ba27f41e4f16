"""Discount codes: stored terms, uses taken in the order's transaction (code: `uses < max_uses` and
the `revision` priced; claim: `uses < per_customer`), given back once by a cancel or payment expiry
(in that move's status-conditioned transaction), the back office's forms. Money rules: pricing.py."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import clock
from chalicelib.models import Order, dynamo
from chalicelib.models.pricing import CODE_PK, DiscountClaim, DiscountCode
from chalicelib.services import pricing
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.shoes import DEPARTMENTS, format_price, parse_price

CODE_ROLE = "discount-code"
CLAIM_ROLE = "discount-claim"
CODE_RE = re.compile(rf"^[A-Z0-9_-]{{1,{pricing.CODE_MAX_LENGTH}}}$")
CODE_MESSAGE = f"Enter a code of at most {pricing.CODE_MAX_LENGTH} letters, digits, '-' or '_'."
MAX_USES = 1_000_000


class CodeUnavailable(Conflict):
    pass


def check_code_text(raw: object) -> str:
    code = pricing.normalise_code(raw)
    if not CODE_RE.match(code):
        raise ValidationFailed({"discount_code": CODE_MESSAGE}, message=CODE_MESSAGE)
    return code


def terms_of(item: DiscountCode, customer_uses: int = 0) -> pricing.CodeTerms:
    return pricing.CodeTerms(
        code=item.sk,
        kind=item.kind,
        value=int(item.value),
        min_spend_cents=int(item.min_spend_cents or 0),
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        max_uses=_whole(item.max_uses),
        per_customer=_whole(item.per_customer),
        uses=int(item.uses or 0),
        customer_uses=customer_uses,
        brands=frozenset(item.brands or ()),
        departments=frozenset(item.departments or ()),
        active=bool(item.active),
        revision=int(item.revision or 1),
    )


def _whole(number: float | None) -> int | None:
    return None if number is None else int(number)


def load_terms(code: str, customer: str | None) -> pricing.CodeTerms | None:
    """One GetItem, two for a per-customer code."""
    if not CODE_RE.match(code):
        return None
    try:
        item = DiscountCode.get(CODE_PK, code, consistent_read=True)
    except DoesNotExist:
        return None
    if item.per_customer is None or not customer:
        return terms_of(item)
    try:
        return terms_of(item, int(DiscountClaim.get(DiscountClaim.key_for(code), customer, consistent_read=True).uses))
    except DoesNotExist:
        return terms_of(item)


def take_use(terms: pricing.CodeTerms, customer: str) -> Callable[[dynamo.Transaction], None]:
    def write(transaction: dynamo.Transaction) -> None:
        condition = (DiscountCode.revision == terms.revision) & (DiscountCode.active == 1)
        if terms.max_uses is not None:
            condition &= DiscountCode.uses < DiscountCode.max_uses
        transaction.update(
            CODE_ROLE, DiscountCode(sk=terms.code), actions=[DiscountCode.uses.add(1)], condition=condition
        )
        if terms.per_customer is not None:
            uses = DiscountClaim.uses
            transaction.update(
                CLAIM_ROLE,
                DiscountClaim(pk=DiscountClaim.key_for(terms.code), sk=customer),
                actions=[uses.add(1)],
                condition=uses.does_not_exist() | (uses < terms.per_customer),
            )

    return write


def give_back_use(transaction: dynamo.Transaction, order: Order) -> None:
    """Unconditioned: an edited or disabled code never blocks a cancel."""
    if not order.discount_code:
        return
    transaction.update(CODE_ROLE, DiscountCode(sk=order.discount_code), actions=[DiscountCode.uses.add(-1)])
    if order.discount_claim:
        claim = DiscountClaim(pk=DiscountClaim.key_for(order.discount_code), sk=order.discount_claim)
        transaction.update(CLAIM_ROLE, claim, actions=[DiscountClaim.uses.add(-1)])


# -- the back office -------------------------------------------------------------------------------


def list_codes() -> list[DiscountCode]:
    return sorted(DiscountCode.query(CODE_PK, consistent_read=True), key=lambda item: item.sk)


def get_code(code: str) -> DiscountCode:
    code = pricing.normalise_code(code)
    if not CODE_RE.match(code):
        raise NotFound("There is no such discount code.")
    try:
        return DiscountCode.get(CODE_PK, code, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound("There is no such discount code.") from error


FORM_FIELDS = (
    "code",
    "kind",
    "value",
    "min_spend",
    "starts",
    "ends",
    "max_uses",
    "per_customer",
    "brands",
    "departments",
)
DATE_FORMAT = "%Y-%m-%d %H:%M"


def _date(text: str) -> datetime | None:
    text = text.strip().replace("T", " ")
    for layout in (DATE_FORMAT, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(text)


def _count(text: str, field: str, errors: dict[str, str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_USES:
        errors[field] = f"Enter a whole number from 1 to {MAX_USES:,}, or leave it empty for no limit."
        return None
    return int(text)


def form_values(item: DiscountCode | None) -> dict[str, str]:
    if item is None:
        return {"kind": pricing.PERCENT}
    t = terms_of(item)
    dates = {
        name: at.strftime(DATE_FORMAT) if at else "" for name, at in (("starts", t.starts_at), ("ends", t.ends_at))
    }
    counts = {
        name: str(n) if n is not None else ""
        for name, n in (("max_uses", t.max_uses), ("per_customer", t.per_customer))
    }
    return {
        "code": t.code,
        "kind": t.kind,
        "value": str(t.value) if t.kind == pricing.PERCENT else format_price(t.value),
        "min_spend": format_price(t.min_spend_cents) if t.min_spend_cents else "",
        "brands": ", ".join(sorted(t.brands)),
        "departments": ", ".join(sorted(t.departments)),
        **dates,
        **counts,
    }


def clean_code_form(raw: Callable[[str], str], creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if creating:
        try:
            values["sk"] = check_code_text(raw("code"))
        except ValidationFailed as error:
            errors.update({"code": error.message})
    kind = raw("kind")
    if kind not in (pricing.PERCENT, pricing.FIXED):
        errors["kind"] = "Choose a percent or a fixed amount."
    value_text = raw("value").strip()
    if kind == pricing.PERCENT:
        if not value_text.isdigit() or not 1 <= int(value_text) <= 100:
            errors["value"] = "Enter a whole percent from 1 to 100."
        else:
            values["value"] = int(value_text)
    elif kind == pricing.FIXED:
        cents = parse_price(value_text)
        if not cents:
            errors["value"] = "Enter an amount like 10.00."
        else:
            values["value"] = cents
    values["kind"] = kind
    min_spend = raw("min_spend").strip()
    values["min_spend_cents"] = parse_price(min_spend) if min_spend else 0
    if values["min_spend_cents"] is None:
        errors["min_spend"] = "Enter an amount like 50.00, or leave it empty."
    for field, attribute in (("starts", "starts_at"), ("ends", "ends_at")):
        try:
            values[attribute] = _date(raw(field)) if raw(field).strip() else None
        except ValueError:
            errors[field] = "Enter a UTC date and time like 2026-03-01 09:00 (or a date), or leave it empty."
    if values.get("starts_at") and values.get("ends_at") and values["ends_at"] <= values["starts_at"]:
        errors["ends"] = "End after the start."
    values["max_uses"] = _count(raw("max_uses"), "max_uses", errors)
    values["per_customer"] = _count(raw("per_customer"), "per_customer", errors)
    brands = {brand.strip() for brand in raw("brands").split(",") if brand.strip()}
    if any(len(brand) > 60 for brand in brands) or len(brands) > 20:
        errors["brands"] = "List at most 20 brands, separated by commas."
    values["brands"] = brands or None
    departments = {d.strip().lower() for d in raw("departments").split(",") if d.strip()}
    if departments - set(DEPARTMENTS):
        errors["departments"] = f"Use departments from: {', '.join(DEPARTMENTS)}."
    values["departments"] = departments or None
    if errors:
        raise ValidationFailed(errors, message="Check the highlighted fields.")
    return values


def create_code(values: dict[str, Any]) -> DiscountCode:
    now = clock.now()
    item = DiscountCode(**values, uses=0, active=1, revision=1, created_at=now, updated_at=now)
    try:
        item.save(condition=DiscountCode.sk.does_not_exist())
    except PutError as error:
        if dynamo.condition_failed(error):
            raise Conflict(f"The code {values['sk']} exists already: edit it instead.") from error
        raise
    return item


def update_code(code: str, values: dict[str, Any]) -> None:
    """Never the uses; orders priced on the old terms (revision) are refused."""
    actions = [getattr(DiscountCode, name).set(value) for name, value in values.items() if value is not None]
    actions += [getattr(DiscountCode, name).remove() for name, value in values.items() if value is None]
    actions += [DiscountCode.revision.add(1), DiscountCode.updated_at.set(clock.now())]
    try:
        DiscountCode(sk=get_code(code).sk).update(actions=actions, condition=DiscountCode.sk.exists())
    except UpdateError as error:
        if dynamo.condition_failed(error):
            raise NotFound("There is no such discount code.") from error
        raise


def set_active(code: str, active: bool) -> None:
    update_code(code, {"active": int(active)})


def usage_words(item: DiscountCode) -> str:
    uses = int(item.uses or 0)
    limit = f" of {int(item.max_uses)}" if item.max_uses is not None else ""
    return f"{uses}{limit} used"


def state_words(item: DiscountCode, now: datetime | None = None) -> str:
    now = now or clock.now()
    if not item.active:
        return "Disabled"
    if item.starts_at and now < item.starts_at:
        return "Scheduled"
    if item.ends_at and now >= item.ends_at:
        return "Expired"
    if item.max_uses is not None and int(item.uses or 0) >= int(item.max_uses):
        return "Used up"
    return "Active"
