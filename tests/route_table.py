"""The app's route table as test data: every (path, method) with its access marker.

Tests built on this cover routes other areas add without being edited: path parameters are
filled with placeholder ids that match nothing.
"""

import re
from dataclasses import dataclass

from chalicelib.web.forms import FORM_TYPES

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PLACEHOLDER = "zz-placeholder-{name}"
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    access: str | None
    content_types: tuple[str, ...]
    view_name: str

    @property
    def url(self) -> str:
        """The path with every {param} filled by a placeholder that names no real item."""
        return _PARAM.sub(lambda m: PLACEHOLDER.format(name=m.group(1)), self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def takes_form(self) -> bool:
        return any(kind in FORM_TYPES for kind in self.content_types)

    @property
    def is_unsafe(self) -> bool:
        return self.method in UNSAFE_METHODS

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def all_routes() -> list[Route]:
    from app import app

    routes = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            view = entry.view_function
            routes.append(
                Route(
                    path=path,
                    method=method,
                    access=getattr(view, "access", None),
                    content_types=tuple(entry.content_types or ()),
                    view_name=getattr(view, "__qualname__", repr(view)),
                )
            )
    return routes


def route_id(route: Route) -> str:
    return str(route)
