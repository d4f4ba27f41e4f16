"""Owners and staff: the owner-only guard on pages and API, the last owner kept, the admins page,
and the persistent, filterable audit log."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.models import Admin, AuditEntry, Shoe
from chalicelib.services import admins, audit
from chalicelib.services.errors import Conflict
from tests.factories import make_admin, shoe_via_admin
from tests.hostile_fixtures import STAFF_PASSWORD, STAFF_USERNAME
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (fixture: DynamoDB-atomic calls)


@pytest.fixture
def staff(other_web):
    make_admin(STAFF_USERNAME, password=STAFF_PASSWORD, role="staff")
    assert other_web.admin_login(STAFF_USERNAME, STAFF_PASSWORD).status_code == 303
    return other_web


def _api(web, method: str, path: str, body: dict | None = None):
    token = web.csrf_token("/admin")
    headers = {"content-type": "application/json", "accept": "application/json", "x-csrf-token": token}
    return web.request(method, path, body=json.dumps(body or {}), headers=headers)


def test_staff_are_refused_product_changes_on_pages_and_api_and_nothing_changes(admin_account, staff):
    shoe = shoe_via_admin({"42": 5})
    page = staff.post_form(f"/admin/shoes/{shoe.shoe_id}/edit", {"name": "Cheap", "price": "1.00"}, csrf_page="/admin")
    assert page.status_code == 403 and "Only the shop&#39;s owners can do that" in page.body.decode()
    answer = _api(staff, "PUT", f"/api/v1/admin/shoes/{shoe.shoe_id}", {"name": "Cheap", "price": "1.00"})
    assert answer.status_code == 403 and json.loads(answer.body)["error"]["code"] == "Forbidden"
    assert _api(staff, "DELETE", f"/api/v1/admin/shoes/{shoe.shoe_id}").status_code == 403
    assert staff.get("/admin/audit").status_code == 403
    assert staff.get("/admin/admins").status_code == 403
    assert Shoe.get(shoe.shoe_id).name == "Glide Runner"


def test_staff_handle_stock_and_see_the_shoe_without_its_owner_forms(admin_account, staff):
    shoe = shoe_via_admin({"42": 5})
    page = staff.get(f"/admin/shoes/{shoe.shoe_id}/edit").body.decode()
    assert "Update stock" in page and "Only owners change a shoe" in page
    assert 'name="price"' not in page and "Delete shoe" not in page and "Upload image" not in page
    answer = staff.post_form(
        f"/admin/shoes/{shoe.shoe_id}/stock/adjust", {"size": "42", "delta": "3"}, csrf_page="/admin"
    )
    assert answer.status_code == 303
    assert "Audit log" not in staff.get("/admin").body.decode()  # no owner links in the nav


def test_owners_get_the_owner_pages(admin):
    assert admin.get("/admin/admins").status_code == 200
    assert admin.get("/admin/audit").status_code == 200
    assert "Audit log" in admin.get("/admin").body.decode()


def test_a_role_change_holds_on_the_next_request(admin_account, staff):
    assert staff.get("/admin/audit").status_code == 403
    admins.set_role(STAFF_USERNAME, "owner")
    assert staff.get("/admin/audit").status_code == 200
    admins.set_role(STAFF_USERNAME, "staff")
    assert staff.get("/admin/audit").status_code == 403


def test_the_last_enabled_owner_cannot_be_demoted_or_disabled_from_the_back_office(admin_account):
    make_admin("clerk", role="staff")
    with pytest.raises(Conflict):
        admins.set_role("boss", "staff", by="boss")
    with pytest.raises(Conflict):
        admins.disable_admin("boss", by="clerk")
    assert Admin.get("boss").role == "owner" and not Admin.get("boss").disabled
    make_admin("second")  # another owner: now boss may step down
    admins.set_role("boss", "staff", by="boss")
    assert Admin.get("boss").role == "staff"
    with pytest.raises(Conflict):  # and "second" is the last one
        admins.disable_admin("second", by="boss")


def test_the_operator_cannot_leave_no_owner_either(admin_account):
    make_admin("clerk", role="staff")
    with pytest.raises(Conflict, match="at least one enabled owner"):
        admins.disable_admin("boss")  # manage.py: a stolen owner needs another owner made first
    with pytest.raises(Conflict, match="at least one enabled owner"):
        admins.set_role("boss", "staff")
    assert Admin.get("boss").role == "owner" and not Admin.get("boss").disabled
    admins.set_role("clerk", "owner")
    admins.disable_admin("boss")
    assert Admin.get("boss").disabled and Admin.get("clerk").role == "owner"


def test_an_admin_stored_before_roles_counts_as_an_owner_to_keep(admin_account):
    Admin.get("boss").update(actions=[Admin.role.remove()])
    with pytest.raises(Conflict):
        admins.disable_admin("boss")
    assert not Admin.get("boss").disabled


def test_an_admin_read_as_staff_but_promoted_since_is_checked_again(admin_account, monkeypatch):
    make_admin("clerk", role="staff")
    stale = admins.get_admin("clerk")
    admins.set_role("clerk", "owner")
    admins.set_role("boss", "staff", by="clerk")  # clerk is now the only owner
    reads = iter([stale])
    fresh = admins.get_admin
    monkeypatch.setattr(admins, "get_admin", lambda username: next(reads, None) or fresh(username))
    with pytest.raises(Conflict):
        admins.set_role("clerk", "staff")  # the read said staff: the write's condition says owner
    assert Admin.get("clerk").role == "owner"


def _step_down(job: tuple[threading.Barrier, str, str, str]) -> str:
    start, change, by, target = job
    start.wait()
    try:
        if change == "demote":
            admins.set_role(target, "staff", by=by)
        elif change == "disable":
            admins.disable_admin(target, by=by)
        else:  # manage.py disable-admin, run at once by several operators
            admins.disable_admin(target)
    except Conflict:
        return "refused"
    return "done"


@pytest.mark.parametrize("change", ["demote", "disable", "operator disable"])
def test_owners_stepping_each_other_down_at_once_always_leave_an_owner(admin_account, atomic_moto_with_latency, change):  # noqa: F811
    """Rounds of every owner at once demoting (or disabling) another one, from the back office or
    manage.py: in each round all but one succeed, whatever the interleaving, and one enabled owner
    is left."""
    for _round in range(3):
        owners = [f"owner{n}" for n in range(4)]
        for name in owners:
            make_admin(name)
        admins.set_role("boss", "staff", by="owner0")
        start = threading.Barrier(len(owners))
        pairs = [(start, change, name, owners[(n + 1) % len(owners)]) for n, name in enumerate(owners)]
        with ThreadPoolExecutor(max_workers=len(owners)) as pool:
            outcomes = list(pool.map(_step_down, pairs))
        left = [a for a in Admin.scan(consistent_read=True) if a.is_owner and not a.disabled]
        assert len(left) == 1 and outcomes.count("done") == len(owners) - 1, outcomes
        for name in owners:
            Admin.get(name).delete()
        admins.set_role("boss", "owner")
        Admin.get("boss").update(actions=[Admin.disabled.set(False)])


def test_a_disabled_owner_does_not_count_as_the_other_owner(admin_account):
    make_admin("second")
    admins.disable_admin("second")
    with pytest.raises(Conflict):
        admins.set_role("boss", "staff", by="boss")


def test_an_admin_stored_before_roles_is_an_owner_and_is_listed_after_logging_in(web):
    make_admin("oldtimer", password="old admin password 1")
    Admin.get("oldtimer").update(actions=[Admin.role.remove()])
    assert Admin.get("oldtimer").is_owner
    assert "oldtimer" not in [a.username_key for a in admins.list_admins()]
    assert web.admin_login("oldtimer", "old admin password 1").status_code == 303
    assert Admin.get("oldtimer").role == "owner"
    assert "oldtimer" in [a.username_key for a in admins.list_admins()]


def test_owners_add_staff_change_roles_and_disable_from_the_back_office(admin, other_web):
    added = admin.post_form(
        "/admin/admins",
        {"username": "Clerk", "email": "clerk@example.com", "password": "a staff passphrase", "role": "staff"},
        csrf_page="/admin",
    )
    assert added.status_code == 303
    listing = admin.get("/admin/admins").body.decode()
    assert "Clerk" in listing and "clerk@example.com" in listing
    assert Admin.get("clerk").role == "staff"
    refused = admin.post_form(
        "/admin/admins", {"username": "x", "email": "bad", "password": "short", "role": "staff"}, csrf_page="/admin"
    )
    assert refused.status_code == 400 and "field-error" in refused.body.decode()
    assert (
        admin.post_form("/admin/admins/clerk", {"action": "role", "role": "owner"}, csrf_page="/admin").status_code
        == 303
    )
    assert Admin.get("clerk").role == "owner"
    assert other_web.admin_login("clerk", "a staff passphrase").status_code == 303
    assert admin.post_form("/admin/admins/clerk", {"action": "disable"}, csrf_page="/admin").status_code == 303
    assert Admin.get("clerk").disabled
    assert other_web.get("/admin/shoes").status_code == 303  # its session ended
    assert admin.post_form("/admin/admins/clerk", {"action": "enable"}, csrf_page="/admin").status_code == 303
    assert not Admin.get("clerk").disabled


def test_the_back_office_refuses_to_leave_no_owner(admin):
    demoted = admin.post_form("/admin/admins/boss", {"action": "role", "role": "staff"}, csrf_page="/admin")
    assert demoted.status_code == 409 and admins.LAST_OWNER in demoted.body.decode().replace("&#39;", "'")
    assert Admin.get("boss").role == "owner"
    yourself = admin.post_form("/admin/admins/boss", {"action": "disable"}, csrf_page="/admin")
    assert yourself.status_code == 400 and not Admin.get("boss").disabled


# -- the audit log --


def test_every_action_is_stored_with_who_what_and_details(admin_account):
    shoe = shoe_via_admin({"42": 5})
    entries = list(AuditEntry.query(_this_month()))
    created = [e for e in entries if e.action == "shoe.create"]
    assert len(created) == 1 and created[0].admin == "boss"
    assert audit.details_of(created[0]) == {"shoe_id": shoe.shoe_id, "name": "Glide Runner"}


def _this_month() -> str:
    from chalicelib import clock

    return clock.now().strftime("%Y-%m")


def test_the_log_lists_newest_first_and_filters_by_admin_action_and_dates(frozen_clock):
    audit.record("boss", "shoe.create", shoe_id="a")
    frozen_clock.advance(days=40)  # into another month partition
    audit.record("clerk", "stock.adjust", shoe_id="a", delta=2)
    frozen_clock.advance(minutes=1)
    audit.record("boss", "shoe.delete", shoe_id="a")
    everything = audit.list_entries(audit.AuditFilter()).items
    assert [e.action for e in everything] == ["shoe.delete", "stock.adjust", "shoe.create"]
    assert [e.action for e in audit.list_entries(audit.AuditFilter(admin="boss")).items] == [
        "shoe.delete",
        "shoe.create",
    ]
    assert [e.admin for e in audit.list_entries(audit.AuditFilter(action="stock.adjust")).items] == ["clerk"]
    both = audit.AuditFilter(admin="boss", action="shoe.create")
    assert [e.action for e in audit.list_entries(both).items] == ["shoe.create"]
    today = frozen_clock.now.date()
    recent = audit.AuditFilter(since=today - timedelta(days=1), until=today)
    assert [e.action for e in audit.list_entries(recent).items] == ["shoe.delete", "stock.adjust"]


def test_the_log_pages_across_months_with_the_cursor(frozen_clock, monkeypatch):
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    for n in range(3):
        audit.record("boss", "stock.adjust", n=n)
        frozen_clock.advance(days=20)
    first = audit.list_entries(audit.AuditFilter())
    second = audit.list_entries(audit.AuditFilter(), first.next_key)
    assert [audit.details_of(e)["n"] for e in first.items + second.items] == [2, 1, 0]
    assert second.next_key is None or not audit.list_entries(audit.AuditFilter(), second.next_key).items


def test_the_audit_page_filters_and_refuses_bad_dates(admin):
    audit.record("boss", "shoe.delete", shoe_id="gone-1")
    audit.record("clerk", "stock.adjust", shoe_id="kept-1")
    page = admin.get("/admin/audit?admin=clerk").body.decode()
    assert "kept-1" in page and "gone-1" not in page
    page = admin.get("/admin/audit?action=shoe.delete").body.decode()
    assert "gone-1" in page and "kept-1" not in page
    bad = admin.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400 and "Enter a date like" in bad.body.decode()


def test_a_failed_audit_write_does_not_fail_the_action(admin_account, monkeypatch, caplog):
    from pynamodb.exceptions import PutError

    def refuse(self, *args, **kwargs):
        raise PutError("down")

    monkeypatch.setattr(AuditEntry, "save", refuse)
    caplog.set_level("INFO", logger="shoeshop")
    shoe = shoe_via_admin({"42": 1})
    assert Shoe.get(shoe.shoe_id)
    assert "audit_write_failed" in caplog.text and "shoe.create" in caplog.text


def test_an_owner_who_steps_down_lands_on_the_dashboard(admin):
    make_admin("second")
    answer = admin.post_form("/admin/admins/boss", {"action": "role", "role": "staff"}, csrf_page="/admin")
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin"
    assert admin.get("/admin/admins").status_code == 403
