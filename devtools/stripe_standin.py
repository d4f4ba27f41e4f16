"""A local stand-in for the few Stripe endpoints the shop uses, so no Stripe account is needed.

    STRIPE_SECRET_KEY=sk_test_local STRIPE_WEBHOOK_SECRET=whsec_local \
    python -m devtools.stripe_standin --port 12111 --webhook-url http://127.0.0.1:8000/webhooks/stripe

(`make run` starts it for you.) It speaks Stripe's wire format to the real `stripe` library,
pointed here with `StripeClient(base_addresses={"api": ...})`:

- POST /v1/checkout/sessions, GET /v1/checkout/sessions/<id>, POST /v1/checkout/sessions/<id>/expire
- POST /v1/refunds (an `amount` up to what is left, or what is left; more is refused as Stripe does)
- Idempotency-Key honoured as Stripe does (same key: the first answer again); Bearer key checked.

and serves the payment page a session's `url` points to, with inputs labelled "Card number",
"Expiry" and "CVC" and a "Pay" button: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is
declined (the shopper goes back to the cancel_url, with `declined=1`). Events
(checkout.session.completed, .expired) are signed exactly as Stripe signs them
(`Stripe-Signature: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")`) and delivered after the
response, from another thread: the shop's dev server handles one request at a time.
"""

import argparse
import hashlib
import hmac
import html
import json
import os
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SUCCESS_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
DEFAULT_PORT = 12111


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for this exact payload."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][currency]=usd`) back into a dict."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


@dataclass
class Delivery:
    """One signed webhook delivery: the exact body and its Stripe-Signature header."""

    payload: str
    signature: str
    event: dict[str, Any]


Deliver = Callable[[Delivery], None]


def http_deliverer(url: str) -> Deliver:
    """POST each event to the shop from its own thread, after the stand-in has answered."""

    def send(delivery: Delivery) -> None:
        def post() -> None:
            time.sleep(0.2)  # after the browser's redirect, as Stripe's deliveries are
            request = urllib.request.Request(
                url,
                data=delivery.payload.encode(),
                headers={"Content-Type": "application/json", "Stripe-Signature": delivery.signature},
                method="POST",
            )
            for attempt in range(5):  # Stripe retries failures with backoff
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310
                        if answer.status < 300:
                            return
                except OSError:
                    pass
                time.sleep(0.5 * 2**attempt)

        threading.Thread(target=post, daemon=True).start()

    return send


@dataclass
class StandIn:
    """The stand-in's state; `serve()` runs it on a port in a background thread."""

    secret_key: str
    webhook_secret: str
    deliver: Deliver
    host: str = "127.0.0.1"
    port: int = 0
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- the API -----------------------------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        items = params.get("line_items") or []
        try:
            amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
            currency = items[0]["price_data"]["currency"]
        except (KeyError, IndexError, TypeError, ValueError):
            return _error(400, "line_items with price_data are required", "parameter_missing")
        session_id = f"cs_test_{secrets.token_hex(12)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode", "payment"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params.get("expires_at") or time.time() + 24 * 3600),
            "payment_intent": None,
            "created": int(time.time()),
            "livemode": False,
            "url": f"{self.base_url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return 200, session

    def session(self, session_id: str) -> dict[str, Any] | None:
        session = self.sessions.get(session_id)
        if session is not None and session["status"] == "open" and time.time() >= session["expires_at"]:
            self._expire(session)
        return session

    def _expire(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        self.send_event("checkout.session.expired", session)

    def expire_session(self, session_id: str) -> tuple[int, dict[str, Any]]:
        session = self.session(session_id)
        if session is None:
            return _error(404, f"No such checkout.session: '{session_id}'", "resource_missing")
        if session["status"] != "open":
            return _error(400, f"Only open sessions can be expired; this one is {session['status']}.", "")
        self._expire(session)
        return 200, session

    def create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = params.get("payment_intent")
        paid = [s for s in self.sessions.values() if intent and s["payment_intent"] == intent]
        if not paid:
            return _error(400, f"No such payment_intent: '{intent}'", "resource_missing")
        # As Stripe: partial refunds up to what was charged; no amount refunds what is left.
        left = int(paid[0]["amount_total"]) - sum(
            int(r["amount"]) for r in self.refunds.values() if r["payment_intent"] == intent
        )
        if left <= 0:
            return _error(400, f"Charge for {intent} has already been refunded.", "charge_already_refunded")
        try:
            amount = int(params["amount"]) if params.get("amount") not in (None, "") else left
        except (TypeError, ValueError):
            return _error(400, "Invalid integer: amount", "parameter_invalid_integer")
        if amount <= 0:
            return _error(400, "This value must be greater than or equal to 1.", "parameter_invalid_integer")
        if amount > left:
            return _error(
                400, f"Refund amount ({amount}) is greater than unrefunded amount ({left}).", "amount_too_large"
            )
        refund = {
            "id": f"re_test_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": paid[0]["currency"],
            "payment_intent": intent,
            "metadata": params.get("metadata") or {},
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def pay(self, session_id: str, card_number: str) -> tuple[str, str]:
        """("paid" | "declined" | "invalid" | "closed", where to send the browser)."""
        session = self.session(session_id)
        if session is None or session["status"] != "open":
            return "closed", ""
        number = "".join(ch for ch in card_number if ch.isdigit())
        if number == DECLINED_CARD:
            cancel = str(session["cancel_url"])
            return "declined", cancel + ("&" if "?" in cancel else "?") + "declined=1"
        if number != SUCCESS_CARD:
            return "invalid", ""
        session.update(status="complete", payment_status="paid", payment_intent=f"pi_test_{secrets.token_hex(12)}")
        self.send_event("checkout.session.completed", session)
        return "paid", str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)

    def event_for(self, event_type: str, session: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-01-27",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": dict(session)},
        }

    def send_event(self, event_type: str, session: dict[str, Any]) -> None:
        event = self.event_for(event_type, session)
        payload = json.dumps(event)
        self.deliver(Delivery(payload=payload, signature=sign(payload, self.webhook_secret), event=event))

    # -- serving -----------------------------------------------------------------------------------

    def serve(self) -> "StandIn":
        standin = self

        class Handler(_Handler):
            state = standin

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _error(status: int, message: str, code: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": "invalid_request_error", "message": message, "code": code}}


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay Stride Shoes (local Stripe stand-in)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 2rem auto">
<main>
<h1>Pay Stride Shoes</h1>
<p>{amount} {currency} · test mode, local stand-in for Stripe Checkout</p>
{message}
<form method="post">
<p><label for="card">Card number</label><br>
<input id="card" name="card_number" inputmode="numeric" autocomplete="cc-number" required></p>
<p><label for="expiry">Expiry</label><br><input id="expiry" name="expiry" placeholder="MM / YY" required></p>
<p><label for="cvc">CVC</label><br><input id="cvc" name="cvc" inputmode="numeric" required></p>
<p><button type="submit">Pay</button></p>
</form>
<p>Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.</p>
<p><a href="{cancel}">Cancel and go back to the shop</a></p>
</main></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    state: StandIn

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _json(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.state.secret_key}":
            return True
        self._json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}})
        return False

    def _api(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        state = self.state
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/checkout/sessions":
            return state.create_session(params)
        if method == "POST" and path == "/v1/refunds":
            return state.create_refund(params)
        if len(parts) >= 4 and parts[:3] == ["v1", "checkout", "sessions"]:
            if method == "GET" and len(parts) == 4:
                session = state.session(parts[3])
                return (200, session) if session else _error(404, "No such checkout.session", "resource_missing")
            if method == "POST" and len(parts) == 5 and parts[4] == "expire":
                return state.expire_session(parts[3])
        return _error(404, f"Unrecognized request URL ({method}: {path}).", "")

    def _handle_api(self, method: str) -> None:
        path = urlsplit(self.path).path
        if not self._authorised():
            return
        params = _nested(parse_qsl(self._body(), keep_blank_values=True))
        key = self.headers.get("Idempotency-Key")
        with self.state.lock:
            if method == "POST" and key and (path, key) in self.state.idempotent:
                status, data = self.state.idempotent[(path, key)]
            else:
                status, data = self._api(method, path, params)
                if method == "POST" and key and status < 500:
                    self.state.idempotent[(path, key)] = (status, data)
        self._json(status, data)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/pay/"):
            self._payment_page(path.removeprefix("/pay/"), "")
        else:
            self._handle_api("GET")

    def _payment_page(self, session_id: str, message: str, status: int = 200) -> None:
        with self.state.lock:
            session = self.state.session(session_id)
        if session is None or session["status"] != "open":
            self._html(410, "<!doctype html><title>Payment closed</title><h1>This payment is no longer open</h1>")
            return
        self._html(
            status,
            PAGE.format(
                amount=f"{int(session['amount_total']) / 100:.2f}",
                currency=html.escape(str(session["currency"]).upper()),
                message=message,
                cancel=html.escape(str(session["cancel_url"])),
            ),
        )

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith("/pay/"):
            self._handle_api("POST")
            return
        session_id = path.removeprefix("/pay/")
        form = dict(parse_qsl(self._body()))
        with self.state.lock:
            outcome, location = self.state.pay(session_id, form.get("card_number", ""))
        if outcome in ("paid", "declined"):
            self._redirect(location)
        elif outcome == "invalid":
            message = '<p role="alert">Your card number is invalid. Use one of the test cards below.</p>'
            self._payment_page(session_id, message, status=400)
        else:
            self._payment_page(session_id, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--webhook-url", required=True)
    args = parser.parse_args(argv)
    # The keys come from the environment (never argv, which other users can read in `ps`).
    secret_key, webhook_secret = os.environ.get("STRIPE_SECRET_KEY"), os.environ.get("STRIPE_WEBHOOK_SECRET")
    if not secret_key or not webhook_secret:
        parser.error("set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (any local values)")
    standin = StandIn(secret_key, webhook_secret, http_deliverer(args.webhook_url), port=args.port).serve()
    print(f"Stripe stand-in on {standin.base_url}, webhooks to {args.webhook_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
