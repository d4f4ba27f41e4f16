"""My size: per department, readable from the old cookie, moved to the account at registration and
login (the account's own sizes win), through the pages."""

from chalicelib.services import accounts
from chalicelib.services import my_size as service
from chalicelib.services.my_size import MySizes
from tests.factories import make_user


def test_the_old_cookie_reads_as_the_general_size_and_the_new_one_per_department():
    assert service.parse_cookie("42") == MySizes("42", {})
    assert service.parse_cookie("42|kids:31|women:39") == MySizes("42", {"kids": "31", "women": "39"})
    # Malformed parts are left out: a size the department never has, unknown departments, junk.
    assert service.parse_cookie("<b>99|kids:42|pets:40|men:41") == MySizes("", {"men": "41"})
    assert service.cookie_value(MySizes("42", {})) == "42"  # still readable by the old format's readers
    assert service.cookie_value(MySizes("42", {"women": "39", "kids": "31"})) == "42|kids:31|women:39"
    assert service.cookie_value(MySizes()) == ""


def test_a_childs_size_is_kept_apart_from_the_parents():
    parent = service.with_size(MySizes(), "42")
    both = service.with_size(parent, "31")  # a kids' size, wherever chosen, is the kids' one
    assert both == MySizes("42", {"kids": "31"})
    assert both.for_department("kids") == "31" and both.for_department("men") == "42"
    assert both.for_department(None) == "42"
    # An adult size is never shown as a child's, and a department's own size wins over the general.
    assert MySizes("42").for_department("kids") == ""
    women = service.with_size(both, "39", "women")
    assert women.for_department("women") == "39" and women.for_department("men") == "42"
    assert service.with_size(women, "", "women") == both  # forgetting one department's size
    assert service.with_size(women, "") == MySizes()  # forgetting on a general page: all
    assert service.with_size(MySizes(), "40", "men") == MySizes("40", {"men": "40"})


def test_adopt_fills_what_the_account_lacks_and_keeps_what_it_has():
    fresh = make_user("fresh")
    assert service.adopt(fresh, MySizes("42", {"kids": "31"})) == MySizes("42", {"kids": "31"})
    stored = accounts.get_user(fresh.user_id)
    assert stored.preferred_size == "42" and service.of_user(stored) == MySizes("42", {"kids": "31"})
    # Both have a size: the account's wins; the guest's kids' size fills the empty department.
    settled = make_user("settled")
    service.save_for_user(settled, MySizes("44", {"women": "38"}))
    merged = service.adopt(accounts.get_user(settled.user_id), MySizes("40", {"kids": "30", "women": "39"}))
    assert merged == MySizes("44", {"kids": "30", "women": "38"})
    assert service.of_user(accounts.get_user(settled.user_id)) == merged


def test_a_guests_size_moves_to_the_account_at_registration(web):
    assert web.post_form("/my-size", {"my_size": "42"}, csrf_page="/").status_code == 303
    assert web.post_form("/my-size", {"my_size": "31", "department": "kids"}, csrf_page="/").status_code == 303
    assert web.cookies["mysize"] == "42|kids:31"
    assert web.register("carol").status_code == 303
    user = accounts.get_user(next(iter(_user_ids())))
    assert user.preferred_size == "42" and service.of_user(user).by_department == {"kids": "31"}
    assert "Your size is <strong>EU 42</strong>" in web.get("/").body.decode()
    assert "Your size is <strong>EU 31</strong>" in web.get("/?department=kids").body.decode()


def test_a_guests_size_moves_to_the_account_at_login_where_it_has_none(web, other_web):
    assert other_web.register("dave").status_code == 303  # an account without a size
    web.cookies["mysize"] = "43"  # the old cookie format, from before departments
    assert web.login("dave").status_code == 303
    assert accounts.get_user(next(iter(_user_ids()))).preferred_size == "43"
    assert "Your size is <strong>EU 43</strong>" in other_web.get("/").body.decode()  # the account's now


def test_at_login_the_accounts_own_size_wins(web, other_web):
    other_web.register("erin")
    assert other_web.post_form("/my-size", {"my_size": "38"}, csrf_page="/").status_code == 303
    web.cookies["mysize"] = "45"
    web.login("erin")
    assert accounts.get_user(next(iter(_user_ids()))).preferred_size == "38"
    assert "Your size is <strong>EU 38</strong>" in web.get("/").body.decode()


def _user_ids() -> list[str]:
    from chalicelib.models import User

    return [user.user_id for user in User.scan() if user.pk.startswith("USER#")]
