"""Settings from environment variables (per stage in .chalice/config.json); safe at import."""

import os
from dataclasses import dataclass
from functools import lru_cache

# Deployed stages keep this default: 3 attempts of (connect + read) must fit inside API Gateway's 29 s.
DEFAULT_AWS_READ_TIMEOUT_SECONDS = 5


# The app limits' slot counts (docs/operations.md, "App limits"): benchmarks and the session-wide
# local test stack send every request from one address, so they raise them all.
APP_LIMIT_VARIABLES = (
    "LOGIN_MAX_FAILURES",
    "LOGIN_ACCOUNT_CEILING",
    "LOGIN_DEVICE_LIMIT",
    "LOGIN_CLIENT_LIMIT",
    "DELETE_CHECK_LIMIT",
    "REGISTER_CLIENT_LIMIT",
    "ORDER_ACCOUNT_LIMIT",
    "ORDER_CLIENT_LIMIT",
    "GUEST_ORDER_CLIENT_LIMIT",
    "RESET_EMAIL_LIMIT",
    "RESET_CLIENT_LIMIT",
    "RESTOCK_CLIENT_LIMIT",
)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    upload_bucket: str
    region: str
    # Deployed stages serve over HTTPS: Secure cookies, HSTS, `__Host-` cookie names.
    secure_cookies: bool
    # Link prefix; None: from the request (execute-api URLs carry the stage, custom domains do not).
    url_prefix: str | None
    ssm_prefix: str
    bcrypt_rounds: int
    session_idle_seconds: int
    admin_session_idle_seconds: int
    session_absolute_seconds: int
    max_body_bytes: int
    aws_read_timeout_seconds: int
    # App limits (docs/operations.md, "App limits"): attempts per fixed window.
    login_max_failures: int  # free attempts per (account, client) before the growing delays
    login_device_limit: int  # per (account, remembered device), per window
    login_backoff_cap_seconds: int  # the longest wait between attempts per (account, client)
    login_window_seconds: int
    login_account_ceiling: int  # per account from browsers it has not seen, per window
    login_client_limit: int  # per client address across accounts, per window
    delete_check_limit: int  # account-deletion password checks per account, per window
    register_client_limit: int  # registrations per client address, per hour
    order_account_limit: int  # orders placed per account, per 10 minutes
    order_client_limit: int  # orders placed per client address, per 10 minutes
    guest_order_client_limit: int  # guest orders placed per client address, per 10 minutes
    reset_email_limit: int  # password-reset requests per email address, per hour
    reset_client_limit: int  # password-reset requests per client address, per hour
    restock_client_limit: int  # "email me when it's back" subscriptions per client address, per hour
    cart_max_quantity: int
    cart_max_lines: int
    shipping_flat_cents: int
    free_shipping_over_cents: int
    currency: str
    # The shop's IANA timezone: every time a shopper or an admin reads (formatting.format_datetime).
    shop_timezone: str
    image_cdn_base_url: str
    # Email (chalicelib.services.outbox): the verified SES sender, the configuration set whose event
    # destination reports bounces and complaints, and the shop's public origin for links in emails.
    email_from_address: str
    email_from_name: str
    ses_configuration_set: str
    shop_url: str
    # Payments: docs/operations.md "Card payments"
    payment_methods: tuple[str, ...]
    stripe_api_base: str  # empty: api.stripe.com
    card_session_minutes: int
    payment_sweep_margin_minutes: int
    unpaid_order_limit: int
    unpaid_pairs_per_shoe: int
    admin_staff_refund_limit_cents: int  # refunds above this are for an owner (services/refunds.py)
    # Returns (services/returns.py, docs/operations.md "Returns"): days after delivery a shopper may
    # ask for a return; days the parcel has to arrive (an exchange's new size is held as long);
    # where parcels go (lines separated by "|").
    return_window_days: int
    exchange_hold_days: int
    return_address: str
    # How long a warm Lambda reuses the unfiltered first page of each sort (docs/architecture.md).
    first_page_cache_seconds: int = 5
    # Reviews (services/reviews.py, docs/checkout.md "Reviews and fit"): the fit summary shows once a
    # shoe has this many fit answers; a warm Lambda reuses the summaries a listing read this long.
    fit_summary_min_answers: int = 5
    review_summary_cache_seconds: int = 5

    def table_name(self, short_name: str) -> str:
        return f"{self.table_prefix}{short_name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = os.environ.get("STAGE", "local")
    prefix = os.environ.get("URL_PREFIX")
    return Settings(
        stage=stage,
        table_prefix=os.environ.get("TABLE_PREFIX", f"shoeshop-{stage}-"),
        upload_bucket=os.environ.get("UPLOAD_BUCKET", f"shoeshop-{stage}-uploads"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        secure_cookies=_env_bool("SECURE_COOKIES", False),
        url_prefix=None if prefix is None or prefix == "auto" else prefix.rstrip("/"),
        ssm_prefix=os.environ.get("SSM_PREFIX", ""),
        bcrypt_rounds=_env_int("BCRYPT_ROUNDS", 12),
        session_idle_seconds=_env_int("SESSION_IDLE_SECONDS", 2 * 3600),
        admin_session_idle_seconds=_env_int("ADMIN_SESSION_IDLE_SECONDS", 30 * 60),
        session_absolute_seconds=_env_int("SESSION_ABSOLUTE_SECONDS", 7 * 24 * 3600),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 64 * 1024),
        aws_read_timeout_seconds=_env_int("AWS_READ_TIMEOUT_SECONDS", DEFAULT_AWS_READ_TIMEOUT_SECONDS),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 3),
        login_window_seconds=_env_int("LOGIN_WINDOW_SECONDS", 15 * 60),
        login_device_limit=_env_int("LOGIN_DEVICE_LIMIT", 5),
        login_backoff_cap_seconds=_env_int("LOGIN_BACKOFF_CAP_SECONDS", 15 * 60),
        login_account_ceiling=_env_int("LOGIN_ACCOUNT_CEILING", 30),
        login_client_limit=_env_int("LOGIN_CLIENT_LIMIT", 30),
        delete_check_limit=_env_int("DELETE_CHECK_LIMIT", 5),
        register_client_limit=_env_int("REGISTER_CLIENT_LIMIT", 10),
        order_account_limit=_env_int("ORDER_ACCOUNT_LIMIT", 10),
        order_client_limit=_env_int("ORDER_CLIENT_LIMIT", 30),
        guest_order_client_limit=_env_int("GUEST_ORDER_CLIENT_LIMIT", 10),
        reset_email_limit=_env_int("RESET_EMAIL_LIMIT", 3),
        reset_client_limit=_env_int("RESET_CLIENT_LIMIT", 10),
        restock_client_limit=_env_int("RESTOCK_CLIENT_LIMIT", 20),
        cart_max_quantity=_env_int("CART_MAX_QUANTITY", 10),
        cart_max_lines=_env_int("CART_MAX_LINES", 25),
        shipping_flat_cents=_env_int("SHIPPING_FLAT_CENTS", 595),
        free_shipping_over_cents=_env_int("FREE_SHIPPING_OVER_CENTS", 7500),
        currency=os.environ.get("CURRENCY", "USD"),
        shop_timezone=os.environ.get("SHOP_TIMEZONE", "").strip() or "America/New_York",
        image_cdn_base_url=os.environ.get("IMAGE_CDN_BASE_URL", "").rstrip("/"),
        email_from_address=os.environ.get("EMAIL_FROM_ADDRESS", "orders@stride-shoes.example"),
        email_from_name=os.environ.get("EMAIL_FROM_NAME", "Stride Shoes"),
        ses_configuration_set=os.environ.get("SES_CONFIGURATION_SET", ""),
        shop_url=os.environ.get("SHOP_URL", "http://127.0.0.1:8000").rstrip("/"),
        first_page_cache_seconds=_env_int("FIRST_PAGE_CACHE_SECONDS", 5),
        fit_summary_min_answers=max(1, _env_int("FIT_SUMMARY_MIN_ANSWERS", 5)),
        review_summary_cache_seconds=_env_int("REVIEW_SUMMARY_CACHE_SECONDS", 5),
        payment_methods=tuple(os.environ.get("PAYMENT_METHODS", "card,pay_on_delivery").replace(" ", "").split(",")),
        stripe_api_base=os.environ.get("STRIPE_API_BASE", "").rstrip("/"),
        card_session_minutes=max(30, _env_int("CARD_SESSION_MINUTES", 30)),
        payment_sweep_margin_minutes=_env_int("PAYMENT_SWEEP_MARGIN_MINUTES", 15),
        unpaid_order_limit=_env_int("UNPAID_ORDER_LIMIT", 2),
        unpaid_pairs_per_shoe=_env_int("UNPAID_PAIRS_PER_SHOE", 4),
        admin_staff_refund_limit_cents=_env_int("ADMIN_STAFF_REFUND_LIMIT_CENTS", 20000),
        return_window_days=_env_int("RETURN_WINDOW_DAYS", 30),
        exchange_hold_days=_env_int("EXCHANGE_HOLD_DAYS", 21),
        return_address=os.environ.get("RETURN_ADDRESS", "").strip()
        or "Stride Shoes Returns|12 Warehouse Lane|Newark, NJ 07105|United States",
    )
