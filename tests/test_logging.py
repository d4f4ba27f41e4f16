"""Structured access logs for every request, errors with a trace, and no secrets in any log line."""

import json
import logging

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

    def broken(identifier, password):
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
