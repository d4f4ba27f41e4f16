"""Deny by default, proven over the whole route table: every route and method, as each kind of visitor.

Generated from `app.routes`, so routes added by any area are covered the day they land.
"""

import pytest

from chalicelib.web.guards import ADMIN, OWNER, PUBLIC, SHOPPER
from tests.hostile_fixtures import ROLES, become, json_body, location_path, page_token, send
from tests.route_table import Route, all_routes, route_id

ROUTES = all_routes()


def test_every_view_carries_an_access_marker():
    unmarked = [
        f"{route} ({route.view_name})" for route in ROUTES if route.access not in (PUBLIC, SHOPPER, ADMIN, OWNER)
    ]
    assert not unmarked, "views without @public/@login_required/@admin_required/@owner_required: " + ", ".join(unmarked)


def test_the_matrix_sees_the_foundation_routes():
    """Guards against a route table walk that silently finds nothing."""
    seen = {(route.path, route.method): route.access for route in ROUTES}
    assert seen[("/account", "GET")] == SHOPPER
    assert seen[("/account/delete", "POST")] == SHOPPER
    assert seen[("/admin/logout", "POST")] == ADMIN
    assert seen[("/admin/audit", "GET")] == OWNER
    assert seen[("/api/v1/admin/shoes", "POST")] == OWNER
    assert seen[("/admin/shoes/{shoe_id}/stock", "POST")] == ADMIN  # staff handle stock
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
        else:  # anonymous, and an admin (owner or staff) session is not a shopper session
            _assert_sent_to_login(route, response, "/login")
    elif route.access in (ADMIN, OWNER):
        if role == "admin" or (role == "staff" and route.access == ADMIN):
            _assert_let_through(route, response)
        elif role == "anonymous":
            _assert_sent_to_login(route, response, "/admin")
        else:  # shoppers; and staff on an owners-only route
            _assert_forbidden(route, response)
    else:
        pytest.fail(f"{route} has no access marker")


# -- real ids (IDOR): the matrix above uses placeholder ids; these use another person's real ones --

OWNER_ONLY_404 = "someone else's cart line or order is answered as if it did not exist"


@pytest.fixture
def alices_things(web, other_web):
    """Alice (on `web`) with a cart line and a placed order; `other_web` is Bob, logged in."""
    from chalicelib.services import cart, checkout
    from tests.factories import make_shoe
    from tests.test_cart_routes import ADDRESS
    from tests.test_orders_routes import user_named

    become(web, "shopper")
    become(other_web, "other_shopper")
    shoe = make_shoe(stock={"42": 5, "43": 5})
    alice = user_named("alice")
    owner = cart.user_owner(alice.user_id)
    checkout.save_address(alice, checkout.clean_address(ADDRESS))
    cart.add_item(owner, shoe.shoe_id, "43", "1")
    order = checkout.place_order(alice, "alice-idor-key-1").order
    cart.add_item(owner, shoe.shoe_id, "42", "2")
    return {"shoe_id": shoe.shoe_id, "line_id": f"{shoe.shoe_id}#42", "order_id": order.order_id, "owner": owner}


def _alices_line_quantity(things) -> int:
    from chalicelib.models import CartLine

    return int(CartLine.get(things["owner"], things["line_id"]).quantity)


def test_another_shoppers_cart_line_is_not_found_on_pages_or_api(other_web, alices_things):
    token = page_token(other_web)
    line_id = alices_things["line_id"]
    update = Route("/cart/update", "POST", SHOPPER, ("application/x-www-form-urlencoded",), "update_cart_line")
    remove = Route("/cart/remove", "POST", SHOPPER, ("application/x-www-form-urlencoded",), "remove_cart_line")
    assert send(other_web, update, token, {"line_id": line_id, "quantity": "5"}).status_code == 404
    assert send(other_web, remove, token, {"line_id": line_id}).status_code == 404
    shoe_id, size = line_id.split("#")
    patch = Route("/api/v1/cart", "PATCH", SHOPPER, (), "api_cart_update")
    answer = send(other_web, patch, token, {"shoe_id": shoe_id, "size": size, "quantity": 5})
    assert answer.status_code == 404 and json_body(answer)["error"]["code"] == "NotFound"
    delete = Route(f"/api/v1/cart?shoe_id={shoe_id}&size={size}", "DELETE", SHOPPER, (), "api_cart_remove")
    assert send(other_web, delete, token).status_code == 404
    bobs_cart = json_body(other_web.get("/api/v1/cart", headers={"accept": "application/json"}))
    assert bobs_cart["lines"] == []
    assert _alices_line_quantity(alices_things) == 2, OWNER_ONLY_404


def test_another_shoppers_order_is_not_found_on_pages_or_api(web, other_web, alices_things):
    order_id = alices_things["order_id"]
    assert web.get(f"/orders/{order_id}").status_code == 200  # the real id works for its owner
    page = other_web.get(f"/orders/{order_id}")
    assert page.status_code == 404 and order_id not in page.body.decode()
    answer = other_web.get(f"/api/v1/orders/{order_id}", headers={"accept": "application/json"})
    assert answer.status_code == 404 and order_id not in answer.body.decode()
    assert order_id not in other_web.get("/orders").body.decode()
    listed = json_body(other_web.get("/api/v1/orders", headers={"accept": "application/json"}))
    assert listed["orders"] == []


ADMIN_API_WITH_IDS = [
    ("GET", "/api/v1/admin/orders/{order_id}", None),
    ("POST", "/api/v1/admin/orders/{order_id}/transitions", {"to": "cancelled"}),
    ("GET", "/api/v1/admin/shoes/{shoe_id}", None),
    ("PUT", "/api/v1/admin/shoes/{shoe_id}", {"name": "Hacked", "price": "1.00"}),
    ("POST", "/api/v1/admin/shoes/{shoe_id}/archive", {}),
    ("POST", "/api/v1/admin/shoes/{shoe_id}/stock", {"size": "42", "quantity": 0}),
    ("DELETE", "/api/v1/admin/shoes/{shoe_id}", None),
]


@pytest.mark.parametrize("role", ["anonymous", "shopper"])
@pytest.mark.parametrize("method,path,fields", ADMIN_API_WITH_IDS, ids=lambda value: str(value))
def test_admin_api_with_real_ids_refuses_shoppers_and_anonymous(
    web, other_web, alices_things, role, method, path, fields
):
    from chalicelib.models import Order, Shoe, Stock

    visitor = other_web  # Bob, a logged-in shopper
    if role == "anonymous":
        visitor.cookies.clear()
    route = Route(path.format(**alices_things), method, ADMIN, (), "admin api")
    token = page_token(visitor) if route.is_unsafe else None
    response = send(visitor, route, token, fields)
    expected = 401 if role == "anonymous" else 403
    assert response.status_code == expected, response.body
    assert json_body(response)["error"]["code"] == ("NotAuthenticated" if role == "anonymous" else "Forbidden")
    assert alices_things["order_id"] not in response.body.decode()
    # Nothing changed behind the refusal.
    assert Order.get(alices_things["order_id"]).status == "placed"
    shoe = Shoe.get(alices_things["shoe_id"])
    assert shoe.status == "active" and shoe.name != "Hacked"
    assert int(Stock.get(alices_things["shoe_id"], "42").quantity) == 5
