"""Deny by default, proven over the whole route table: every route and method, as each kind of visitor.

Generated from `app.routes`, so routes added by any area are covered the day they land.
"""

import pytest

from chalicelib.web.guards import ADMIN, PUBLIC, SHOPPER
from tests.hostile_fixtures import ROLES, become, json_body, location_path, page_token, send
from tests.route_table import all_routes, route_id

ROUTES = all_routes()


def test_every_view_carries_an_access_marker():
    unmarked = [f"{route} ({route.view_name})" for route in ROUTES if route.access not in (PUBLIC, SHOPPER, ADMIN)]
    assert not unmarked, "views without @public/@login_required/@admin_required: " + ", ".join(unmarked)


def test_the_matrix_sees_the_foundation_routes():
    """Guards against a route table walk that silently finds nothing."""
    seen = {(route.path, route.method): route.access for route in ROUTES}
    assert seen[("/account", "GET")] == SHOPPER
    assert seen[("/account/delete", "POST")] == SHOPPER
    assert seen[("/admin/logout", "POST")] == ADMIN
    assert seen[("/register", "POST")] == PUBLIC


def _assert_sent_to_login(route, response, login_path: str) -> None:
    if route.is_api:
        assert response.status_code == 401, response.body
        assert json_body(response)["error"]["code"] == "NotAuthenticated"
    else:
        assert response.status_code == 303, response.body
        assert location_path(response) == login_path


def _assert_forbidden(route, response) -> None:
    assert response.status_code == 403, response.body
    if route.is_api:
        assert "error" in json_body(response)
    else:
        page = response.body.decode()
        assert "Not allowed" in page and 'class="site-header"' in page  # the shop's own 403 page


def _assert_let_through(route, response) -> None:
    assert response.status_code < 500, response.body
    assert response.status_code not in (401, 403), response.body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route_answers_each_role_as_its_guard_says(web, admin_account, route, role):
    become(web, role)
    token = page_token(web) if route.is_unsafe else None
    response = send(web, route, token)

    if route.access == PUBLIC:
        # A failed login form answers 401 with the form again; a public route never forbids.
        assert response.status_code < 500, response.body
        assert response.status_code != 403, response.body
    elif route.access == SHOPPER:
        if role in ("shopper", "other_shopper"):
            _assert_let_through(route, response)
            assert not (response.status_code == 303 and location_path(response) == "/login")
        else:  # anonymous, and an admin session is not a shopper session
            _assert_sent_to_login(route, response, "/login")
    elif route.access == ADMIN:
        if role == "admin":
            _assert_let_through(route, response)
        elif role == "anonymous":
            _assert_sent_to_login(route, response, "/admin")
        else:
            _assert_forbidden(route, response)
    else:
        pytest.fail(f"{route} has no access marker")
