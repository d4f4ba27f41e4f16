"""Journeys through the foundation in a real browser: a shopper's account lifecycle and the admin login."""

from playwright.sync_api import expect

from tests.browser.steps import PASSWORD, log_in, register, unique
from tests.route_table import all_routes


def _session_cookie(page) -> dict:
    cookies = [c for c in page.context.cookies() if c["name"] == "sid"]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_shopper_registers_logs_out_logs_in_and_deletes_the_account(shop):
    page = shop.page
    username = unique("walker")

    register(shop, username)
    assert shop.path() == "/"
    expect(page.locator(".flashes")).to_contain_text(f"Welcome, {username}!")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(username)
    session_cookie = _session_cookie(page)
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax" and session_cookie["path"] == "/"

    shop.click_button("Log out")
    expect(page.locator(".flashes")).to_contain_text("You are logged out.")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    shop.click_link("Log in")
    log_in(shop, f"{username}@EXAMPLE.com")  # email, in another case
    expect(page.locator(".flashes")).to_contain_text(f"Welcome back, {username}.")
    assert _session_cookie(page)["value"] != session_cookie["value"], "a new login must get a new token"

    shop.click_link(username)
    assert shop.path() == "/account"
    details = page.locator("dl.details")
    expect(details).to_contain_text(username)
    expect(details).to_contain_text(f"{username}@example.com")
    expect(details).to_contain_text("Member since")

    shop.click_link("Delete account")
    page.get_by_label("Password", exact=True).fill("not my password")
    shop.click_button("Delete account")
    expect(page.locator("#field-password-error")).to_have_text("That password is not right.")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    shop.click_button("Delete account")
    assert shop.path() == "/"
    expect(page.locator(".flashes")).to_contain_text("Your account and its personal data are deleted.")
    assert not [c for c in page.context.cookies() if c["name"] == "sid"], "the session cookie outlived the account"

    shop.goto("/login")
    log_in(shop, username)
    expect(page.get_by_role("alert")).to_contain_text("That username or password is not right")
    shop.goto("/account")
    assert shop.path().startswith("/login"), "a deleted account still reaches /account"


def test_bad_registration_shows_errors_beside_fields_and_keeps_the_input(shop):
    page = shop.page
    shop.goto("/register")
    page.get_by_label("Username", exact=True).fill("a!")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password", exact=True).fill("different")
    shop.click_button("Create account")

    assert shop.path() == "/register"
    expect(page.get_by_role("alert")).to_contain_text("Please correct the errors below.")
    for field in ("username", "email", "password"):
        control = page.locator(f"#field-{field}")
        expect(control).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#field-{field}-error")
        expect(error).to_be_visible()
        # The message is tied to its field for screen readers, and sits right after it.
        assert f"field-{field}-error" in control.get_attribute("aria-describedby")
        assert error.evaluate("(e) => e.previousElementSibling.id") == f"field-{field}"
    expect(page.get_by_label("Username", exact=True)).to_have_value("a!")
    expect(page.get_by_label("Email", exact=True)).to_have_value("not-an-email")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never sent back
    expect(page.get_by_label("Confirm password", exact=True)).to_have_value("")
    shop.screenshot("register-errors")


def test_admin_logs_in_at_admin_and_sees_the_dashboard(shop):
    page = shop.page
    shop.goto("/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Back office log in")
    shop.screenshot("admin-login")

    page.get_by_label("Username", exact=True).fill(shop.stack.admin_username)
    page.get_by_label("Password", exact=True).fill("wrong password here")
    shop.click_button("Log in")
    expect(page.get_by_role("alert")).to_contain_text("That username or password is not right")
    expect(page.get_by_label("Username", exact=True)).to_have_value(shop.stack.admin_username)

    page.get_by_label("Password", exact=True).fill(shop.stack.admin_password)
    shop.click_button("Log in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator(".flashes")).to_contain_text(f"Logged in as {shop.stack.admin_username}.")
    shop.screenshot("admin-dashboard")

    shop.click_button("Log out")
    expect(page.get_by_role("heading", level=1)).to_have_text("Back office log in")


def test_shopper_is_refused_by_the_back_office(shop):
    page = shop.page
    username = unique("walker")
    register(shop, username)

    # /admin shows a shopper the staff login form, never the dashboard; their login is not an admin's.
    shop.goto("/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Back office log in")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    shop.click_button("Log in")
    expect(page.get_by_role("alert")).to_contain_text("That username or password is not right")

    # Every back-office page the shop has answers the shopper with the 403 page.
    admin_pages = [
        r.path
        for r in all_routes()
        if r.access == "admin" and r.method == "GET" and "{" not in r.path and not r.path.startswith("/api/")
    ]
    for path in admin_pages:
        response = shop.goto(path)
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")

    # And an admin-only form post (the back office's log out), sent from the shopper's own page.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    with page.expect_navigation():
        page.evaluate(
            """([action, token]) => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = action;
                const field = document.createElement('input');
                field.type = 'hidden'; field.name = 'csrf_token'; field.value = token;
                form.appendChild(field);
                document.body.appendChild(form);
                form.submit();
            }""",
            ["/admin/logout", token],
        )
    shop.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("This page is for the shop's staff only.")
    # Still logged in as the shopper: the refusal changed nothing.
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(username)


def test_pages_look_right_at_phone_and_desktop_widths(shop):
    for name, path in (("home", "/"), ("register", "/register"), ("login", "/login")):
        shop.goto(path)
        for screenshot in shop.screenshot(name):
            assert screenshot.stat().st_size > 5_000, f"{screenshot} looks blank"
        # Nothing wider than the phone screen: no sideways scrolling.
        shop.page.set_viewport_size({"width": 390, "height": 844})
        overflow = shop.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        shop.page.set_viewport_size({"width": 1280, "height": 800})


def test_header_lines_up_with_the_page_content(shop):
    shop.goto("/")
    for width, height in ((390, 844), (1280, 800)):
        shop.page.set_viewport_size({"width": width, "height": height})
        logo = shop.page.locator(".logo").bounding_box()
        heading = shop.page.get_by_role("heading", level=1).bounding_box()
        footer = shop.page.locator(".site-footer p").bounding_box()
        assert abs(logo["x"] - heading["x"]) <= 1, (
            f"logo at {logo['x']}px, heading at {heading['x']}px ({width}px wide)"
        )
        assert abs(footer["x"] - heading["x"]) <= 1


def test_login_form_works_from_the_keyboard_alone(shop):
    page = shop.page
    shop.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    # From the skip target, Tab walks into the form: identifier, then password; Enter submits.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username or email", exact=True)).to_be_focused()
    page.keyboard.type("nobody_here")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("some password 123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    shop.check()
    expect(page.get_by_role("alert")).to_contain_text("That username or password is not right")
    expect(page.get_by_label("Username or email", exact=True)).to_have_value("nobody_here")
