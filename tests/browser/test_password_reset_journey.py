"""The whole password-reset journey in a real browser: ask for a link, read the email from the
local stack's outbox, follow the link, set a password, log in with it; the old password fails and
the link fails a second time."""

import json
import re

import boto3
from boto3.dynamodb.types import TypeDeserializer
from playwright.sync_api import expect

from chalicelib.services import emails
from tests.browser.steps import PASSWORD, log_in, register, unique

NEW_PASSWORD = "seven blue lanterns drifting"
LOCAL_OUTBOX_TABLE = "shoeshop-local-outbox"  # the local stack's stage is "local"


def reset_link_from_outbox(aws_url: str, recipient: str) -> str:
    """The path of the link in the newest password-reset email queued for `recipient`, read from the
    stack's outbox table and rendered as the sender renders it."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    deserializer = TypeDeserializer()
    items = [
        {name: deserializer.deserialize(value) for name, value in item.items()}
        for page in client.get_paginator("scan").paginate(TableName=LOCAL_OUTBOX_TABLE)
        for item in page["Items"]
    ]
    resets = sorted(
        (item for item in items if item.get("kind") == "password_reset" and item.get("recipient") == recipient),
        key=lambda item: item["created_sort"],
    )
    assert resets, f"no password reset email queued for {recipient}"
    rendered = emails.render("password_reset", json.loads(resets[-1]["context"]))  # a JSONAttribute
    assert rendered.subject == "Reset your Stride Shoes password"
    [link] = re.findall(r"https?://\S+/password/reset/\S+", rendered.text)
    return re.sub(r"^https?://[^/]+", "", link)


def test_a_shopper_resets_a_forgotten_password_from_the_emailed_link(shop):
    page = shop.page
    username = unique("forgetful")
    email = f"{username}@example.com"
    register(shop, username)
    shop.click_button("Log out")

    shop.goto("/login")
    shop.click_link("Forgot your password?")
    assert shop.path() == "/password/forgot"
    page.get_by_label("Email", exact=True).fill(email)
    shop.click_button("Send reset link")
    expect(page.get_by_role("status")).to_contain_text("If an account uses that email address")

    path = reset_link_from_outbox(shop.stack.aws_url, email)
    shop.goto(path)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password", exact=True).fill(NEW_PASSWORD)
    shop.click_button("Set new password")
    assert shop.path() == "/login"
    expect(page.locator(".flashes")).to_contain_text("Your new password is set")

    log_in(shop, username, NEW_PASSWORD)
    expect(page.locator(".flashes")).to_contain_text(f"Welcome back, {username}.")
    shop.click_button("Log out")

    shop.goto("/login")
    log_in(shop, username, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("That username or password is not right")

    shop.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This reset link cannot be used")
    expect(page.get_by_role("alert")).to_contain_text("already used")
