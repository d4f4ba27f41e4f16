"""The local Stripe stand-in for in-process tests: the shop's real `stripe` client talks to it over
HTTP; its signed webhook deliveries are collected here, and the tests post them to the app
(in order, twice, late or out of order, as Stripe may)."""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest

from devtools.stripe_standin import Delivery, StandIn

SECRET_KEY = "sk_test_standin_for_tests"
WEBHOOK_SECRET = "whsec_standin_for_tests"


@dataclass
class Recorder:
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)

    def of_type(self, event_type: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.event["type"] == event_type]

    def take(self) -> list[Delivery]:
        with self.lock:
            taken, self.deliveries[:] = list(self.deliveries), []
        return taken


@dataclass
class Stripe:
    standin: StandIn
    recorder: Recorder


@pytest.fixture
def stripe_standin() -> Iterator[Stripe]:
    """Card payments configured (keys in the secrets, the API base at the stand-in)."""
    from chalicelib import secrets
    from chalicelib.config import get_settings

    recorder = Recorder()
    standin = StandIn(SECRET_KEY, WEBHOOK_SECRET, recorder).serve()
    before = secrets.get_secrets()
    secrets.set_secrets(replace(before, stripe_secret_key=SECRET_KEY, stripe_webhook_secret=WEBHOOK_SECRET))
    saved = os.environ.get("STRIPE_API_BASE")
    os.environ["STRIPE_API_BASE"] = standin.base_url
    get_settings.cache_clear()
    yield Stripe(standin, recorder)
    if saved is None:
        os.environ.pop("STRIPE_API_BASE", None)
    else:
        os.environ["STRIPE_API_BASE"] = saved
    get_settings.cache_clear()
    secrets.set_secrets(before)
    standin.stop()
