"""Pay on delivery against hoarding: N open unpaid orders per owner key (`USER#<id>`, `EMAIL#<a>`),
N pairs of one shoe per order. The counter changes only inside the order's own transactions."""

from collections.abc import Iterable

from chalicelib.config import get_settings
from chalicelib.models import UnpaidOrderCount, dynamo
from chalicelib.services.errors import ServiceError, ValidationFailed

SLOT_ROLE = "unpaid-slot"


def owner_key_for_user(user_id: str) -> str:
    return f"USER#{user_id}"


class TooManyUnpaidOrders(ServiceError):
    pass


def limit_message() -> str:
    limit = get_settings().unpaid_order_limit
    return (
        f"You already have {limit} pay-on-delivery orders waiting to be delivered. "
        "Pay by card, or wait until one of them has arrived. Nothing was ordered."
    )


def check_pairs(lines: Iterable[tuple[str, str, int]]) -> None:
    """(shoe_id, name, quantity) per cart line."""
    cap = get_settings().unpaid_pairs_per_shoe
    pairs: dict[tuple[str, str], int] = {}
    for shoe_id, name, quantity in lines:
        pairs[shoe_id, name] = pairs.get((shoe_id, name), 0) + quantity
    over = [name for (_, name), count in pairs.items() if count > cap]
    if over:
        message = (
            f"Pay on delivery takes at most {cap} pairs of one shoe per order ({', '.join(over)}). "
            "Pay by card, or order fewer pairs."
        )
        raise ValidationFailed({"payment_method": message}, message=message)


def take_slot(transaction: dynamo.Transaction, owner_key: str) -> None:
    limit = get_settings().unpaid_order_limit
    counter = UnpaidOrderCount.open_orders
    transaction.update(
        SLOT_ROLE,
        UnpaidOrderCount(pk=UnpaidOrderCount.key_for(owner_key)),
        actions=[counter.add(1)],
        condition=counter.does_not_exist() | (counter < limit),
    )


def give_back_slot(transaction: dynamo.Transaction, owner_key: str) -> None:
    transaction.update(
        SLOT_ROLE,
        UnpaidOrderCount(pk=UnpaidOrderCount.key_for(owner_key)),
        actions=[UnpaidOrderCount.open_orders.add(-1)],
        condition=UnpaidOrderCount.open_orders > 0,
    )


def open_orders(owner_key: str) -> int:
    try:
        return int(UnpaidOrderCount.get(UnpaidOrderCount.key_for(owner_key), consistent_read=True).open_orders)
    except UnpaidOrderCount.DoesNotExist:
        return 0
