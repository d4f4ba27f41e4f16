"""Helpers for hostile-input tests: logging a client in as a role and sending any route a request."""

import json
from urllib.parse import urlencode, urlsplit

from tests.conftest import CSRF_RE, WebClient
from tests.route_table import Route

ROLES = ("anonymous", "shopper", "other_shopper", "admin", "staff")  # "admin" is the owner "boss"
STAFF_USERNAME = "clerk"
STAFF_PASSWORD = "staff password 1"
# Pages that carry a CSRF token for each kind of visitor (a shopper is redirected away from /login).
TOKEN_PAGES = ("/login", "/", "/admin")


def become(web: WebClient, role: str) -> WebClient:
    """Log `web` in as `role` (anonymous leaves it as is). Needs empty tables and an admin account."""
    if role == "shopper":
        assert web.register("alice").status_code == 303
    elif role == "other_shopper":
        assert web.register("bob").status_code == 303
    elif role == "admin":
        assert web.admin_login().status_code == 303
    elif role == "staff":
        from tests.factories import make_admin

        make_admin(STAFF_USERNAME, password=STAFF_PASSWORD, role="staff")
        assert web.admin_login(STAFF_USERNAME, STAFF_PASSWORD).status_code == 303
    return web


def page_token(web: WebClient) -> str:
    """A CSRF token valid for this client's session, read from a page as a browser would."""
    for path in TOKEN_PAGES:
        response = web.get(path)
        match = CSRF_RE.search(response.body.decode("utf-8", "replace"))
        if match:
            return match.group(1)
    raise AssertionError("no page offered a CSRF token")


def send(web: WebClient, route: Route, token: str | None = None, fields: dict | None = None):
    """Call a route the way its clients do: a form post for form routes, JSON for the API."""
    if not route.is_unsafe:
        headers = {"accept": "application/json"} if route.is_api else {}
        return web.get(route.url, headers=headers)
    if route.takes_form:
        pairs = list((fields or {}).items())
        if token is not None:
            pairs.append(("csrf_token", token))
        return web.request(
            route.method,
            route.url,
            body=urlencode(pairs),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    headers = {"content-type": "application/json", "accept": "application/json"}
    if token is not None:
        headers["x-csrf-token"] = token
    return web.request(route.method, route.url, body=json.dumps(fields or {}), headers=headers)


def location_path(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def json_body(response) -> dict:
    return json.loads(response.body)
