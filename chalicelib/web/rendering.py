"""Jinja2 rendering (autoescape always on) into Chalice responses."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from chalicelib.config import get_settings
from chalicelib.formatting import format_date, format_datetime, format_money, plural
from chalicelib.product_links import product_path
from chalicelib.services import cart_session, content, emails, images, payments, returns
from chalicelib.services.fulfilment import STATUS_LABELS
from chalicelib.services.limits import RateLimited
from chalicelib.services.payments import METHOD_LABELS
from chalicelib.services.shoes import DEPARTMENTS
from chalicelib.web import context as request_context
from chalicelib.web import seo
from chalicelib.web.static import hashed_path

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
HTML = "text/html; charset=utf-8"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["plural"] = plural
    # An order's status, or a history entry's (a return's steps too); anything else readable.
    labels = {**STATUS_LABELS, **returns.HISTORY_LABELS}
    env.filters["order_status"] = lambda status: labels.get(status, str(status).replace("_", " ").capitalize())
    env.filters["payment_method"] = lambda method: METHOD_LABELS.get(method, method)
    # An order's carrier name, tracking number and the carrier's tracking link ("" for an unknown carrier)
    env.filters["tracking"] = lambda order: emails.tracking_details(order.carrier or "", order.tracking_number or "")
    env.globals["static"] = hashed_path
    env.globals["srcset"] = images.srcset
    env.globals["product_path"] = product_path
    env.globals["image_url"] = images.image_url
    env.globals["trust_pages"] = content.PAGES
    env.globals["accepted_payments"] = payments.offered_methods
    env.globals["departments"] = DEPARTMENTS
    env.globals["return_views"] = returns.views
    env.globals["can_return"] = returns.can_return
    env.globals["return_address"] = returns.return_address_lines
    env.globals["exchange_tracking"] = lambda r: emails.tracking_details(r.carrier or "", r.tracking_number or "")
    return env


def render_html(template: str, **values: Any) -> str:
    ctx = request_context.current()
    values.setdefault("form", {})
    values.setdefault("errors", {})
    values.setdefault("request_ctx", ctx)
    values.setdefault("url", ctx.url)
    values.setdefault("csrf_token", ctx.csrf_token)
    values.setdefault("flashes", ctx.take_flashes())
    values.setdefault("settings", get_settings())
    values.setdefault("cart_units", lambda: cart_session.item_count(ctx.session))
    status = int(values.pop("response_status", 200))
    values.setdefault("page_meta", lambda: seo.resolve(ctx, values.get("meta"), status))
    return environment().get_template(template).render(**values)


def render(template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any) -> Response:
    body = render_html(template, response_status=status, **values)
    response_headers: dict[str, str | list[str]] = {"Content-Type": HTML}
    response_headers.update(headers or {})
    return Response(body=body, status_code=status, headers=response_headers)


def redirect(path: str, status: int = 303, **query: Any) -> Response:
    """Redirect to a local path, through the stage-prefix-aware URL builder."""
    location = request_context.current().url(path, **query)
    return Response(body="", status_code=status, headers={"Location": location})


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response_headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    response_headers.update(headers or {})
    return Response(body=data, status_code=status, headers=response_headers)


def json_error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return json_response({"error": error}, status=status)


def too_many_requests(response: Response, error: RateLimited) -> Response:
    """A 429 says when to come back (seconds until the limit's window rolls over)."""
    response.headers["Retry-After"] = str(error.retry_after)
    return response
