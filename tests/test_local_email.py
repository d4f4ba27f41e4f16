"""Email on `make run`: a placed order's confirmation goes through the outbox stream (the local
poller, the same handler), moto's SES, a line in the shop's output, and `manage.py --local outbox`."""

import json
import re
import time
import uuid

import requests

from devtools.demo import demo_shoe
from tests.test_local_stack import ready_to_place, register, set_stock

MAIL_WAIT_SECONDS = 30  # stream lag (about 3 s) plus a manage.py process per look


def test_an_order_placed_on_the_local_stack_is_emailed_and_listed_newest_first(local_stack):
    shoe = demo_shoe(5)
    size = "30" if shoe.department == "kids" else "42"
    set_stock(local_stack, shoe.shoe_id, size, 5)
    username = f"mail{uuid.uuid4().hex[:8]}"
    session = register(local_stack, username)
    form = ready_to_place(session, local_stack, shoe.shoe_id, size)
    placed = session.post(local_stack.url("/checkout/place"), data=form, allow_redirects=False, timeout=120)
    order_id = re.search(r"/orders/([A-Z2-7]{16})", placed.headers["Location"]).group(1)

    def confirmation() -> dict | None:
        listed = local_stack.manage("outbox", "--json")
        assert listed.returncode == 0, listed.stderr
        return next((mail for mail in json.loads(listed.stdout) if mail["to"] == [f"{username}@example.com"]), None)

    started, mail = time.monotonic(), None
    while mail is None and time.monotonic() - started < MAIL_WAIT_SECONDS:
        mail = confirmation()
    assert mail is not None, local_stack.log_path.read_text(errors="replace")[-3000:]
    number = re.search(r"Your Stride Shoes order (SS-[A-Z2-9]{4}-[A-Z2-9]{2}) is confirmed", mail["subject"])
    assert number is not None, mail["subject"]
    assert session.get(local_stack.url(f"/orders/{order_id}"), timeout=30).text.count(number.group(1)) >= 1
    assert f"{shoe.name} ({shoe.brand}), size EU {size}, quantity 1" in mail["text"]
    order_link = local_stack.url(f"/orders/{order_id}")
    assert order_link in mail["links"]
    assert session.get(order_link, timeout=30).status_code == 200  # the link opens the order
    newest = local_stack.manage("outbox")
    assert newest.stdout.startswith(f"To: {username}@example.com\nSubject: {mail['subject']}\n")
    assert f"email sent: order_placed to {username}@example.com" in local_stack.log_path.read_text(errors="replace")
    assert requests.get(local_stack.url("/"), timeout=30).status_code == 200
