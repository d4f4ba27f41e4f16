"""Structured access logs for every request, errors with a trace, and no secrets in any log line."""

import json
import logging

from chalicelib.product_links import product_path
from tests.journeys import run_journey


def _json_lines(caplog) -> list[dict]:
    found = []
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith("{"):
            found.append(json.loads(message))
    return found


def test_a_full_journey_logs_every_request_and_no_secret(caplog, web, other_web):
    # Deployed stages log at INFO (app.py); our own logger is checked even at DEBUG. botocore's DEBUG
    # output holds request bodies (emails), so it must never be switched on in a deployed stage.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="shoeshop")
    secrets = run_journey(web, other_web)
    text = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    leaked = [label for label, value in secrets.values.items() if value and value in text]
    assert leaked == [], f"these secrets appear in the logs: {leaked}"
    assert len(secrets.values) >= 8, secrets.values
    requests = [line for line in _json_lines(caplog) if line.get("event") == "request"]
    assert len(requests) >= 15
    for line in requests:
        assert {"request_id", "lambda_request_id", "method", "route", "status", "duration_ms"} <= set(line)
    statuses = {(line["method"], line["route"], line["status"]) for line in requests}
    assert ("POST", "/login", 401) in statuses and ("POST", "/login", 303) in statuses


def test_an_unexpected_error_logs_its_stack_trace_and_shows_a_plain_page(caplog, web, monkeypatch):
    from chalicelib.services import accounts

    def broken(identifier, password, client=None):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(accounts, "authenticate", broken)
    caplog.set_level(logging.INFO)
    response = web.login("someone", "Secret-Passphrase-9")
    assert response.status_code == 500
    assert b"database exploded" not in response.body and b"Traceback" not in response.body
    (error,) = [line for line in _json_lines(caplog) if line.get("event") == "unhandled_error"]
    assert error["route"] == "/login" and error["error"] == "RuntimeError"
    assert "Traceback" in error["trace"] and "database exploded" in error["trace"]
    assert "Secret-Passphrase-9" not in caplog.text


def test_log_event_redacts_sensitive_fields_at_any_depth_and_keeps_the_rest(caplog):
    from chalicelib.logs import REDACTED, log_event

    caplog.set_level(logging.INFO, logger="shoeshop")
    log_event(
        "probe",
        password="hunter2-hunter2",
        csrf_token="tok-123",
        customer={"email": "a@example.com", "shipping_address": {"line1": "1 Main Street"}, "name_length": 5},
        cookies=["sid=abc"],
        key="incoming/abc.png",
    )
    (line,) = [line for line in _json_lines(caplog) if line["event"] == "probe"]
    assert line["password"] == line["csrf_token"] == line["cookies"] == REDACTED
    assert line["customer"] == {"email": REDACTED, "shipping_address": REDACTED, "name_length": 5}
    assert line["key"] == "incoming/abc.png"
    # Outside a request the request fields are present and empty, so every line has the same shape.
    assert line["request_id"] == line["lambda_request_id"] == line["route"] == ""
    for secret in ("hunter2", "tok-123", "a@example.com", "1 Main Street", "sid=abc"):
        assert secret not in caplog.text


def _sensitive_values(value, path=""):
    """(path, value) of every sensitive-named field that holds something other than REDACTED."""
    from chalicelib.logs import REDACTED, is_sensitive

    if isinstance(value, dict):
        for key, item in value.items():
            if is_sensitive(key) and item != REDACTED:
                yield f"{path}.{key}", item
            else:
                yield from _sensitive_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _sensitive_values(item, path)


def test_lines_logged_inside_a_request_carry_its_ids_and_route_and_no_personal_data(
    caplog, web, other_web, admin_account, monkeypatch
):
    """Registration, login, checkout with an address, an admin action and an unexpected error."""
    from chalicelib.services import catalogue
    from tests.factories import make_shoe
    from tests.test_cart_routes import ADDRESS, add, checkout_to_review

    caplog.set_level(logging.DEBUG, logger="shoeshop")
    shoe = make_shoe(stock={"42": 3})
    password = "Lantern-Otter-Quiet-31"
    email = "logwatcher@example.org"
    assert web.register("logwatcher", email=email, password=password).status_code == 303
    assert web.post_form("/logout", {}, csrf_page="/account").status_code == 303
    assert web.login(email, password).status_code == 303
    add(web, shoe.shoe_id)
    key = checkout_to_review(web)
    placed = web.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")
    assert placed.status_code == 303, placed.body
    secrets = [password, email, ADDRESS["full_name"], ADDRESS["line1"], ADDRESS["postal_code"], key]
    secrets += [*web.cookies.values(), web.csrf_token("/account")]

    assert other_web.admin_login().status_code == 303
    edit = f"/admin/shoes/{shoe.shoe_id}/edit"
    assert other_web.post_form(f"/admin/shoes/{shoe.shoe_id}/archive", {}, csrf_page=edit).status_code == 303
    secrets += list(other_web.cookies.values())

    def broken(*args, **kwargs):
        raise RuntimeError("catalogue exploded")

    monkeypatch.setattr(catalogue, "get_product", broken)
    assert web.get(product_path(shoe)).status_code == 500

    lines = _json_lines(caplog)
    text = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert [secret for secret in secrets if secret in text] == []
    assert [found for line in lines for found in _sensitive_values(line)] == []
    # chalice.test.Client sends no API Gateway requestId (the field is there, empty); Lambda's id is set.
    for line in lines:
        assert "request_id" in line and line["lambda_request_id"] and line["route"] and line["method"], line

    def access_line(of: dict) -> dict:
        (found,) = [
            line
            for line in lines
            if line["event"] == "request" and line["lambda_request_id"] == of["lambda_request_id"]
        ]
        return found

    (action,) = [line for line in lines if line.get("action") == "shoe.archive"]
    assert action["route"] == access_line(action)["route"] == "/admin/shoes/{shoe_id}/archive"
    assert action["method"] == "POST" and action["admin"] == "boss"
    (error,) = [line for line in lines if line["event"] == "unhandled_error"]
    assert error["route"] == "/shoes/{shoe_id}" and "catalogue exploded" in error["trace"]
    assert access_line(error)["status"] == 500


def test_a_service_line_carries_the_bound_request_and_drops_it_afterwards(caplog):
    """What the middleware binds per request (API Gateway's id included) reaches service log lines."""
    from chalicelib import logs
    from chalicelib.services import audit

    caplog.set_level(logging.INFO, logger="shoeshop")
    token = logs.bind_request(
        logs.RequestFields(request_id="apigw-7", lambda_request_id="lambda-7", method="POST", route="/admin/x")
    )
    try:
        audit.record("boss", "shoe.archive", shoe_id="s1", email="boss@example.com")
    finally:
        logs.unbind_request(token)
    audit.record("boss", "shoe.restore", shoe_id="s1")
    inside, outside = [line for line in _json_lines(caplog) if line["event"] == "admin_action"]
    assert (inside["request_id"], inside["lambda_request_id"], inside["route"]) == ("apigw-7", "lambda-7", "/admin/x")
    assert inside["email"] == logs.REDACTED and "boss@example.com" not in caplog.text
    assert (outside["request_id"], outside["route"]) == ("", "")
