"""The one HTTP middleware: request context, body cap, CSRF, error pages, headers, access log."""

import copy
import functools
import html
import logging
import time
import traceback
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from chalice import Response
from chalice.app import ChaliceUnhandledError

from chalicelib import aws, logs
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models.dynamo import AWS_BUSY_CODES
from chalicelib.services.cursors import InvalidCursor
from chalicelib.services.errors import NotFound, ServiceError, ValidationFailed
from chalicelib.services.limits import RateLimited
from chalicelib.services.order_links import GUEST_LINK_PREFIX
from chalicelib.web import context as request_context
from chalicelib.web.errors import DEFAULT_MESSAGES, ERROR_CODES, STATUS_TITLES, HTTPError
from chalicelib.web.rendering import HTML, json_error, render, too_many_requests

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# POST routes authenticated otherwise: Stripe's signature on the body replaces the token.
CSRF_EXEMPT_ROUTES = frozenset({"/webhooks/stripe"})
CSRF_MESSAGE = "This form has expired or was not sent from the shop. Go back, reload the page and try again."

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {img}; "
    "connect-src 'self' {upload}; form-action 'self' {upload} {checkout}; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


@dataclass(frozen=True)
class ImageOrigins:
    images: str  # where the browser loads product images from
    uploads: str  # where admin pages post presigned uploads (and read their answers)


def _image_origins() -> ImageOrigins:
    """Only this stage's bucket (or its CDN for images), never any other bucket of the region."""
    settings = get_settings()
    return _origins_for(settings.image_cdn_base_url, aws.local_endpoint_url(), settings.upload_bucket, settings.region)


@functools.lru_cache(maxsize=4)  # once per warm Lambda (keyed on the settings, which tests change)
def _origins_for(cdn_base_url: str, local_endpoint: str, bucket: str, region: str) -> ImageOrigins:
    bucket_host = _origin(local_endpoint) if local_endpoint else aws.bucket_origin(bucket, region)
    images = cdn_base_url.rstrip("/") if cdn_base_url else bucket_host  # images.py: CDN URLs when set
    return ImageOrigins(images=images, uploads=bucket_host)


def _checkout_origin() -> str:
    # "Place order" redirects to Stripe Checkout: form-action governs that redirect too.
    api_base = get_settings().stripe_api_base
    return _origin(api_base) if api_base else "https://checkout.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _security_headers(response: Response, ctx: request_context.RequestContext | None) -> None:
    headers = response.headers
    origins = _image_origins()
    csp = CSP.format(img=origins.images, upload=origins.uploads, checkout=_checkout_origin())
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # A guest's order link is the key to the order: no Referer carries it from any of its pages
    # (the order, its return and review forms, their errors) to another page or site.
    guest_link = ctx is not None and ctx.path.startswith(GUEST_LINK_PREFIX)
    headers.setdefault("Referrer-Policy", "no-referrer" if guest_link else "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if get_settings().secure_cookies:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages show the cart, the user's name and CSRF tokens: never cache them in shared caches.
    headers.setdefault("Cache-Control", "no-store")


def _error_response(ctx: request_context.RequestContext, status: int, message: str, code: str = "") -> Response:
    code = code or ERROR_CODES.get(status, "Error")
    if ctx.is_api:
        return json_error(status, code, message)
    title = STATUS_TITLES.get(status, "Error")
    try:
        return render("errors/error.html", status=status, status_code=status, title=title, message=message)
    except Exception:  # the layout itself failed (AWS down while loading the session): plain page
        log_event("error_page_failed", logging.ERROR, trace=traceback.format_exc())
        body = (
            f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
            f"<main><h1>{title}</h1><p>{html.escape(message)}</p></main></html>"
        )
        return Response(body=body, status_code=status, headers={"Content-Type": HTML})


def _chalice_error_to_page(ctx: request_context.RequestContext, response: Response) -> Response:
    """Chalice answers 405/415/500 itself in JSON: give pages the shop's HTML, the API our error shape."""
    status = response.status_code
    body = response.body
    if status < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    message = DEFAULT_MESSAGES.get(status, "Error") if status >= 500 else str(body.get("Message", ""))
    new = _error_response(ctx, status, message or DEFAULT_MESSAGES.get(status, "Error"))
    if "Allow" in response.headers:
        new.headers["Allow"] = response.headers["Allow"]
    return new


def _csrf_exempt(ctx: request_context.RequestContext, request: Any) -> bool:
    resource_path = (getattr(request, "context", None) or {}).get("resourcePath")
    return ctx.method == "POST" and resource_path in CSRF_EXEMPT_ROUTES


def _check_csrf(ctx: request_context.RequestContext) -> bool:
    token = ctx.request.headers.get(CSRF_HEADER) if ctx.is_api else ctx.form.get(CSRF_FIELD)
    return ctx.csrf_valid(token)


def handle(request: Any, get_response: Any) -> Response:
    started = time.perf_counter()
    ctx = request_context.RequestContext(request)
    token = request_context.activate(ctx)
    log_token = logs.bind_request(_log_fields(ctx, request))
    try:
        response = _dispatch(ctx, request, get_response)
        response = _chalice_error_to_page(ctx, response)
        for cookie in ctx.outgoing_cookies(response.status_code):
            _append_set_cookie(response, cookie)
        _security_headers(response, ctx)
        if ctx.method == "HEAD":  # the GET's status and headers, no body (API Gateway drops it too)
            response.body = ""
        return response
    finally:
        _log_access(locals().get("response"), started, ctx.client_ip)
        logs.unbind_request(log_token)
        request_context.deactivate(token)


class ViewFailed(ChaliceUnhandledError):
    """Carries a view's exception past Chalice (which would answer it with its own JSON 500)."""


# path -> {method: entry}, once app.py has registered everything.
_routes: dict[str, dict] = {}


def _route_takes_method(request: Any) -> bool:
    """False when the path has no view for this method: Chalice's 405 is the truthful answer
    (a CSRF 403 would mislead an API client)."""
    resource_path = (getattr(request, "context", None) or {}).get("resourcePath")
    methods = _routes.get(resource_path or "")
    return methods is None or request.method in methods


def propagate_view_errors(app: Any) -> None:
    """Wrap every registered view so its exceptions reach this middleware (called by app.py)."""
    global _routes
    _routes = app.routes
    for methods in app.routes.values():
        for entry in methods.values():
            if not getattr(entry.view_function, "_propagates", False):
                entry.view_function = _propagating(entry.view_function)


def answer_head_like_get(app: Any) -> None:
    """HEAD wherever GET works: the same view, declared for HEAD too (so API Gateway routes it).
    Called by app.py after every blueprint is registered."""
    for methods in app.routes.values():
        if "GET" in methods and "HEAD" not in methods:
            head = copy.copy(methods["GET"])
            head.method = "HEAD"
            methods["HEAD"] = head


class _PropagatingView(Protocol):
    _propagates: bool

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def _propagating(view: Any) -> _PropagatingView:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ChaliceUnhandledError:
            raise
        except Exception as error:
            raise ViewFailed(str(error)) from error

    marked = cast(_PropagatingView, wrapper)
    marked._propagates = True
    return marked


def _dispatch(ctx: request_context.RequestContext, request: Any, get_response: Any) -> Response:
    try:
        body = request.raw_body if ctx.method in UNSAFE_METHODS else b""
        if body and len(body) > get_settings().max_body_bytes:
            return _error_response(ctx, 413, DEFAULT_MESSAGES[413])
        if (
            ctx.method in UNSAFE_METHODS
            and _route_takes_method(request)
            and not _csrf_exempt(ctx, request)
            and not _check_csrf(ctx)
        ):
            return _error_response(ctx, 403, CSRF_MESSAGE, code="CSRFFailed")
        return get_response(request)
    except Exception as raised:
        error = raised.__cause__ if isinstance(raised, ViewFailed) and raised.__cause__ else raised
        return _error_for_exception(ctx, error)


def _error_for_exception(ctx: request_context.RequestContext, error: BaseException) -> Response:
    if isinstance(error, HTTPError):
        return _error_response(ctx, error.status, error.message, error.code)
    if isinstance(error, NotFound):
        return _error_response(ctx, 404, error.message)
    if isinstance(error, InvalidCursor) and ctx.is_api:  # a query problem, as the other listings answer
        return json_error(400, "InvalidCursor", error.message, error.errors)
    if isinstance(error, ValidationFailed):
        if ctx.is_api:
            return json_error(422, "ValidationFailed", error.message, error.errors)
        return _error_response(ctx, 400, error.message)
    if isinstance(error, RateLimited):
        return too_many_requests(_error_response(ctx, 429, error.message), error)
    if isinstance(error, ServiceError):
        return _error_response(ctx, 409, error.message)
    # The last line of defence: a page, never a stack trace. The trace goes to the log.
    log_event(
        "unhandled_error", logging.ERROR, error=type(error).__name__, trace="".join(traceback.format_exception(error))
    )
    if _is_busy(error):
        return _error_response(ctx, 503, DEFAULT_MESSAGES[503])
    return _error_response(ctx, 500, DEFAULT_MESSAGES[500])


def _is_busy(error: BaseException) -> bool:
    """Throttling or a 5xx from AWS that survived the client's retries."""
    text = f"{type(error).__name__} {error}"
    markers = ("Throttl", *AWS_BUSY_CODES, "EndpointConnectionError", "ReadTimeout", "ConnectTimeout")
    # PynamoDB wraps botocore's errors: walk causes and contexts alike.
    cause, seen = error.__cause__ or error.__context__, 0
    server_side = _aws_status(error) >= 500
    while cause is not None and seen < 5:
        text += f" {type(cause).__name__} {cause}"
        server_side = server_side or _aws_status(cause) >= 500
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    # A 5xx from any AWS service (S3 answers InternalError, SlowDown, ServiceUnavailable) is busy too.
    return server_side or any(marker in text for marker in markers)


def _aws_status(error: BaseException) -> int:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return 0
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status if isinstance(status, int) else 0


def _append_set_cookie(response: Response, cookie: str) -> None:
    existing = response.headers.get("Set-Cookie")
    if existing is None:
        response.headers["Set-Cookie"] = [cookie]
    elif isinstance(existing, list):
        existing.append(cookie)
    else:
        response.headers["Set-Cookie"] = [existing, cookie]


def _log_fields(ctx: request_context.RequestContext, request: Any) -> logs.RequestFields:
    context = getattr(request, "context", None) or {}
    lambda_context = getattr(request, "lambda_context", None)
    return logs.RequestFields(
        request_id=str(context.get("requestId", "")),
        lambda_request_id=str(getattr(lambda_context, "aws_request_id", "")),
        method=ctx.method,
        # The route template (/shoes/{shoe_id}), so lines group by route rather than by shoe.
        route=str(context.get("resourcePath") or ctx.path),
    )


def _log_access(response: Response | None, started: float, client_ip: str) -> None:
    status = response.status_code if response is not None else 500
    log_event(
        "request", status=status, client_ip=client_ip, duration_ms=round((time.perf_counter() - started) * 1000, 2)
    )
