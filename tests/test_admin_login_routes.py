"""The admin login at /admin, admin sessions, and the admin guard."""

from chalicelib.models import Session
from chalicelib.services.sessions import hash_token


def test_anonymous_visitors_see_the_admin_login(web):
    page = web.get("/admin")
    assert page.status_code == 200
    html = page.body.decode()
    assert "Back office log in" in html and 'for="field-username"' in html and 'for="field-password"' in html


def test_admin_logs_in_and_sees_the_dashboard_with_an_admin_session(web, admin_account):
    response = web.admin_login()
    assert response.status_code == 303 and response.headers["Location"] == "/admin"
    dashboard = web.get("/admin").body.decode()
    assert "<h1>Dashboard</h1>" in dashboard and "Logged in as boss." in dashboard
    assert Session.get(hash_token(web.cookies["sid"])).role == "admin"


def test_wrong_admin_password_is_refused_generically(web, admin_account):
    response = web.admin_login(password="not it at all")
    assert response.status_code == 401
    assert "That username or password is not right." in response.body.decode()


def test_shopper_credentials_do_not_open_the_back_office(web):
    web.register("alice")
    response = web.post_form("/admin", {"username": "alice", "password": "correct horse battery"}, csrf_page="/admin")
    assert response.status_code == 401


def test_a_shopper_session_is_never_an_admin_session(web):
    web.register("alice")
    assert Session.get(hash_token(web.cookies["sid"])).role == "shopper"
    assert "Back office log in" in web.get("/admin").body.decode()  # still just the login form
    response = web.post_form("/admin/logout", {}, csrf_page="/admin")
    assert response.status_code == 403


def test_admin_login_replaces_the_previous_session(web, admin_account):
    web.register("alice")
    shopper_cookie = web.cookies["sid"]
    web.admin_login()
    assert web.cookies["sid"] != shopper_cookie
    assert Session.count(hash_token(shopper_cookie)) == 0


def test_admin_logout(admin):
    response = admin.post_form("/admin/logout", {}, csrf_page="/admin")
    assert response.status_code == 303
    assert "Back office log in" in admin.get("/admin").body.decode()


def test_anonymous_admin_post_goes_to_the_admin_login(web):
    response = web.post_form("/admin/logout", {}, csrf_page="/admin")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin"


def test_only_owners_reach_the_routes_that_manage_admins():
    """Owners manage admins from the back office (issue 18); staff and everyone else never do."""
    from chalicelib.web.guards import OWNER
    from tests.route_table import all_routes

    managing = [route for route in all_routes() if "admins" in route.path or "create-admin" in route.path]
    assert {route.path for route in managing} >= {"/admin/admins"}
    assert {route.access for route in managing} == {OWNER}
