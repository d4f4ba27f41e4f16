"""Every state-changing route refuses a request without a valid CSRF token, for every visitor."""

import pytest

from chalicelib.web.guards import PUBLIC
from chalicelib.web.middleware import CSRF_EXEMPT_ROUTES
from tests.hostile_fixtures import become, json_body, page_token, send
from tests.route_table import all_routes, route_id

# The Stripe webhook is authenticated by its signature instead (tests/test_card_payments.py proves
# it refuses unsigned posts with 400 and that the exemption list is exactly that one route).
UNSAFE_ROUTES = [route for route in all_routes() if route.is_unsafe and route.path not in CSRF_EXEMPT_ROUTES]


def _role_for(route) -> str:
    return {"admin": "admin", "owner": "admin", "shopper": "shopper"}.get(route.access, "shopper")


def _assert_csrf_refused(route, response) -> None:
    assert response.status_code == 403, response.body
    if route.is_api:
        assert json_body(response)["error"]["code"] == "CSRFFailed"
    else:
        assert "This form has expired" in response.body.decode()


def test_there_are_unsafe_routes_to_sweep():
    assert {"/register", "/login", "/logout", "/account/delete", "/admin/logout"} <= {r.path for r in UNSAFE_ROUTES}


@pytest.mark.parametrize("route", UNSAFE_ROUTES, ids=route_id)
@pytest.mark.parametrize(
    "token", [None, "", "not-a-token", "czpmb28.forged"], ids=["missing", "empty", "junk", "forged"]
)
def test_unsafe_route_refuses_missing_or_wrong_token(web, admin_account, route, token):
    become(web, _role_for(route))
    response = send(web, route, token)
    _assert_csrf_refused(route, response)


@pytest.mark.parametrize("route", UNSAFE_ROUTES, ids=route_id)
def test_unsafe_route_refuses_a_token_from_another_session(web, other_web, admin_account, route):
    """A token is bound to its session: one lifted from another visitor's page is refused."""
    become(web, _role_for(route))
    stolen = page_token(other_web)
    response = send(web, route, stolen)
    _assert_csrf_refused(route, response)


def test_refused_post_changes_nothing(web):
    """A CSRF-less registration creates no account: the same details then register fine."""
    form = {
        "username": "mallory",
        "email": "m@example.com",
        "password": "long enough pw",
        "confirm_password": "long enough pw",
    }
    route = next(r for r in UNSAFE_ROUTES if r.path == "/register")
    assert send(web, route, None, form).status_code == 403
    assert route.access == PUBLIC
    assert web.register("mallory", "m@example.com", "long enough pw").status_code == 303


@pytest.mark.parametrize("path", ["/api/v1/health", "/login", "/account"])
def test_undeclared_method_gets_405_not_a_csrf_refusal(web, path):
    response = web.request("PUT", path, body="{}", headers={"content-type": "application/json"})
    assert response.status_code == 405
    assert "Allow" in response.headers
