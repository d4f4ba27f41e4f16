"""A representative shopper and admin journey through the test client, shared by the IAM policy
and logging tests: everything a visitor does today, including the failure paths."""

from dataclasses import dataclass, field


@dataclass
class JourneySecrets:
    """What must never appear in a log line."""

    values: dict[str, str] = field(default_factory=dict)


SHOPPER_PASSWORD = "Tr0mbone-Seahorse-77"
ADMIN_PASSWORD = "Backoffice-Walrus-42"


def run_journey(web, admin_web=None) -> JourneySecrets:
    from chalicelib.services.accounts import create_admin

    found = JourneySecrets()
    email = "journey.walker@example.net"
    assert web.get("/").status_code == 200
    assert web.register("journeywalker", email=email, password=SHOPPER_PASSWORD).status_code == 303
    assert web.get("/account").status_code == 200
    found.values.update({f"cookie {k}": v for k, v in web.cookies.items()})
    found.values["csrf token"] = web.csrf_token("/account")
    assert web.post_form("/logout", {}, csrf_page="/account").status_code == 303
    assert web.login("journeywalker", "wrong password here").status_code == 401
    assert web.login("journey.walker@example.net", SHOPPER_PASSWORD).status_code == 303
    found.values.update({f"cookie {k} after login": v for k, v in web.cookies.items()})
    assert web.get("/account").status_code == 200
    assert (
        web.post_form("/account/delete", {"password": SHOPPER_PASSWORD}, csrf_page="/account/delete").status_code == 303
    )
    found.values["shopper password"] = SHOPPER_PASSWORD
    found.values["email"] = email

    if admin_web is not None:
        create_admin("journeyboss", "journey.boss@example.net", ADMIN_PASSWORD)
        assert admin_web.admin_login("journeyboss", "not the password").status_code == 401
        assert admin_web.admin_login("journeyboss", ADMIN_PASSWORD).status_code == 303
        assert admin_web.get("/admin").status_code == 200
        found.values.update({f"admin cookie {k}": v for k, v in admin_web.cookies.items()})
        found.values["admin password"] = ADMIN_PASSWORD
        found.values["admin email"] = "journey.boss@example.net"
        assert admin_web.post_form("/admin/logout", {}, csrf_page="/admin").status_code == 303
    return found
