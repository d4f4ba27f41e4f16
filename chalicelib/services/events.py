"""In-process notifications between areas (handlers run in the same request); chalicelib.wiring
subscribes the app's handlers."""

from collections.abc import Callable

_handlers: dict[str, list[Callable[..., None]]] = {}

PRODUCT_CHANGED = "product_changed"  # kwargs: shoe_id
STOCK_CHANGED = "stock_changed"  # kwargs: shoe_id, sizes


def subscribe(event: str, handler: Callable[..., None]) -> None:
    handlers = _handlers.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event: str, handler: Callable[..., None]) -> None:
    handlers = _handlers.get(event, [])
    if handler in handlers:
        handlers.remove(handler)


def subscribers(event: str) -> tuple[Callable[..., None], ...]:
    return tuple(_handlers.get(event, []))


def publish(event: str, **details: object) -> None:
    for handler in _handlers.get(event, []):
        handler(**details)
