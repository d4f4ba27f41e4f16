"""Per-request state (cookies, session, user, CSRF, flashes) in a ContextVar: one request at a
time per Lambda. DynamoDB reads happen on first use.
"""

import secrets
from contextvars import ContextVar
from functools import cached_property
from typing import Any

from chalicelib import tokens
from chalicelib.models import Session
from chalicelib.services import sessions as session_service
from chalicelib.services.accounts import LoginClient
from chalicelib.web.cookies import build_cookie, cookie_name, expire_cookie, parse_cookies
from chalicelib.web.forms import FormData, parse_form_body, parse_query
from chalicelib.web.urls import build_url, detect_prefix

SESSION_COOKIE = "sid"
ANON_COOKIE = "anon"  # binds CSRF tokens for visitors who have no session yet
FLASH_COOKIE = "flash"
FLASH_MAX = 5
CSRF_PURPOSE = "csrf"
CSRF_MAX_AGE = 12 * 3600  # a form open longer than this is reloaded; sessions idle out sooner
FLASH_PURPOSE = "flash"
FLASH_MAX_AGE = 3600  # a flash cookie is read on the next page
DEVICE_COOKIE = "device"  # a browser that logged in before: judged by its own login counter
DEVICE_PURPOSE = "device"
DEVICE_MAX_AGE = 180 * 24 * 3600
UNKNOWN_CLIENT = "unknown"

_current: ContextVar["RequestContext"] = ContextVar("request_context")


def current() -> "RequestContext":
    return _current.get()


class RequestContext:
    def __init__(self, request: Any) -> None:
        self.request = request
        headers = request.headers if request is not None else {}
        self.cookies = parse_cookies(headers.get("cookie"))
        self.path = _real_path(request)
        self.method = getattr(request, "method", "GET")
        context = getattr(request, "context", None) or {}
        self.url_prefix = detect_prefix(headers.get("host", ""), context.get("stage"))
        self.is_api = self.path.startswith("/api/")
        self._outgoing_cookies: list[str] = []
        self._flashes_out: list[dict[str, str]] = []
        self._flashes_shown = False
        self._session_loaded = False
        self._session: Session | None = None

    @property
    def session(self) -> Session | None:
        if not self._session_loaded:
            self._session_loaded = True
            self._session = session_service.load_session(self.cookies.get(cookie_name(SESSION_COOKIE)))
            if self._session is None and cookie_name(SESSION_COOKIE) in self.cookies:
                self._outgoing_cookies.append(expire_cookie(cookie_name(SESSION_COOKIE)))
        return self._session

    @property
    def role(self) -> str | None:
        return self.session.role if self.session else None

    @property
    def is_admin(self) -> bool:
        """An admin session whose admin still exists, is enabled and has not changed password since."""
        return self.admin is not None

    @cached_property
    def admin(self) -> Any:
        """The Admin behind an admin session (one read per request), or None."""
        if self.role != session_service.ADMIN:
            return None
        from chalicelib.services.admins import session_admin

        return session_admin(self.session)

    @property
    def refused_admin_session(self) -> bool:
        """An admin session whose admin was removed, disabled or has a newer password."""
        return self.role == session_service.ADMIN and self.admin is None

    @cached_property
    def user(self) -> Any:
        """The logged-in shopper (a User), or None."""
        session = self.session
        if session is None or session.role != session_service.SHOPPER or not session.user_id:
            return None
        from chalicelib.services.accounts import get_user

        return get_user(session.user_id)

    @cached_property
    def client_ip(self) -> str:
        """The caller's address as API Gateway saw it (identity.sourceIp); chalice local and the
        test client may leave it out, and then every such caller shares one "unknown" client."""
        context = getattr(self.request, "context", None) or {}
        identity = context.get("identity") or {}
        address = identity.get("sourceIp") if isinstance(identity, dict) else None
        return str(address)[:64] if address else UNKNOWN_CLIENT

    def login_client(self) -> LoginClient:
        """The client address and what this browser's signed device cookie says, if anything."""
        try:
            data = tokens.loads(DEVICE_PURPOSE, self.cookies.get(cookie_name(DEVICE_COOKIE), ""), DEVICE_MAX_AGE)
        except tokens.InvalidToken:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not isinstance(data.get("d"), str):
            return LoginClient(ip=self.client_ip)
        return LoginClient(ip=self.client_ip, device_account=data["a"], device_id=data["d"])

    def remember_device(self, account: str) -> None:
        """After a successful login: this browser's later logins to `account` use its own counter."""
        known = self.login_client()
        device_id = (
            known.device_id if known.device_account == account and known.device_id else secrets.token_urlsafe(16)
        )
        value = tokens.dumps(DEVICE_PURPOSE, {"a": account, "d": device_id})
        self._outgoing_cookies.append(build_cookie(cookie_name(DEVICE_COOKIE), value, max_age=DEVICE_MAX_AGE))

    def begin_session(self, role: str, user_id: str | None) -> Session:
        """Start a new session (new token) for a login, carrying over guest data."""
        token, new = session_service.replace_session(self.session, role, user_id)
        self._set_session(token, new)
        return new

    def ensure_session(self) -> Session:
        """The current session, or a new guest session (for a guest cart)."""
        session = self.session
        if session is None:
            token, session = session_service.start_session(session_service.GUEST)
            self._set_session(token, session)
        return session

    def end_session(self) -> None:
        session_service.end_session(self.session)
        self._session = None
        self._forget_principal()
        self._outgoing_cookies.append(expire_cookie(cookie_name(SESSION_COOKIE)))

    def _set_session(self, token: str, session: Session) -> None:
        self._session = session
        self._session_loaded = True
        self._forget_principal()
        self._outgoing_cookies.append(build_cookie(cookie_name(SESSION_COOKIE), token))

    def _forget_principal(self) -> None:
        self.__dict__.pop("user", None)
        self.__dict__.pop("admin", None)

    def _csrf_binding(self) -> str | None:
        """What CSRF tokens are bound to: the session, or the anonymous visitor's cookie."""
        if self.session is not None:
            return "s:" + self.session.token_hash
        anon = self.cookies.get(cookie_name(ANON_COOKIE), "")
        if len(anon) == 43 and session_service.TOKEN_RE.match(anon):
            return "a:" + anon
        return None

    def _new_anonymous_binding(self) -> str:
        anon = secrets.token_urlsafe(32)
        self.cookies[cookie_name(ANON_COOKIE)] = anon
        self._outgoing_cookies.append(build_cookie(cookie_name(ANON_COOKIE), anon))
        return "a:" + anon

    def csrf_token(self) -> str:
        return tokens.sign(CSRF_PURPOSE, self._csrf_binding() or self._new_anonymous_binding())

    def csrf_valid(self, token: str | None) -> bool:
        binding = self._csrf_binding()
        return binding is not None and tokens.verify(CSRF_PURPOSE, binding, token, max_age=CSRF_MAX_AGE)

    @cached_property
    def form(self) -> FormData:
        return parse_form_body(self.request.raw_body, self.request.headers.get("content-type"))

    @cached_property
    def query(self) -> FormData:
        params = self.request.query_params
        if not params:
            return parse_query(None)
        return parse_query({key: params.getlist(key) for key in params})

    def url(self, path: str, **query: Any) -> str:
        return build_url(self.url_prefix, path, query)

    def absolute_url(self, path: str, **query: Any) -> str:
        """The full URL (scheme and host as the browser used them), for sitemaps, canonical and social tags."""
        headers = self.request.headers if self.request is not None else {}
        scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip() or "http"
        host = headers.get("host", "localhost")
        return f"{scheme}://{host}{self.url(path, **query)}"

    def flash(self, message: str, kind: str = "info") -> None:
        self._flashes_out.append({"kind": kind, "text": message})

    @cached_property
    def incoming_flashes(self) -> list[dict[str, str]]:
        try:
            data = tokens.loads(FLASH_PURPOSE, self.cookies.get(cookie_name(FLASH_COOKIE), ""), FLASH_MAX_AGE)
        except tokens.InvalidToken:
            return []
        if not isinstance(data, list):
            return []
        return [m for m in data if isinstance(m, dict) and "text" in m][:FLASH_MAX]

    def take_flashes(self) -> list[dict[str, str]]:
        """Messages to show on this page: the ones carried in plus any set while rendering."""
        messages = self.incoming_flashes + self._flashes_out
        self._flashes_out = []
        self._flashes_shown = True
        return messages

    def outgoing_cookies(self, status: int) -> list[str]:
        cookies = list(self._outgoing_cookies)
        name = cookie_name(FLASH_COOKIE)
        shown = self._flashes_shown
        pending = self._flashes_out if shown else self.incoming_flashes + self._flashes_out
        if pending and 300 <= status < 400:
            cookies.append(build_cookie(name, tokens.dumps(FLASH_PURPOSE, pending[:FLASH_MAX])))
        elif name in self.cookies and shown:
            cookies.append(expire_cookie(name))
        return cookies


CATCH_ALL = "/{proxy+}"


def _real_path(request: Any) -> str:
    """Chalice's request.path is the route template; the catch-all's real path is its greedy part."""
    path = getattr(request, "path", "/") or "/"
    if path == CATCH_ALL:
        greedy = (getattr(request, "uri_params", None) or {}).get("proxy", "")
        return "/" + str(greedy).lstrip("/")
    return str(path)


def activate(context: RequestContext) -> Any:
    return _current.set(context)


def deactivate(token: Any) -> None:
    _current.reset(token)
