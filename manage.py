#!/usr/bin/env python3
"""Operator and developer commands. Uses the same environment variables as the app.

python manage.py [--local] create-tables
python manage.py [--local] create-admin --username U --email E [--role owner|staff] [--password-stdin]
python manage.py [--local] list-admins
python manage.py [--local] set-role --username U --role owner|staff   (the last enabled owner stays an owner)
python manage.py [--local] disable-admin --username U     (ends its sessions; never the last enabled owner)
python manage.py [--local] enable-admin --username U
python manage.py [--local] set-admin-password --username U [--password-stdin]   (ends its sessions)
python manage.py [--local] seed-demo --products N
python manage.py [--local] rebuild-catalogue-index   (rebuild the catalogue read model from the tables)
python manage.py --local outbox [--json]      (the mail the local SES received, newest first)
python manage.py [--local] outbox --unsent failed|pending|sending [--json]   (email not sent yet)
python manage.py [--local] retry-email (--id ID | --all-failed)   (failed email back to the sender)
python manage.py [--local] backfill-dashboard   (orders' index shards and the dashboard counters, from the tables)
python manage.py run [--fresh]  (what `make run` does: local AWS, tables, saved or demo data, admin, server)

--local talks to the stack a running `make run` recorded in .local/stack.json (or LOCAL_STATE_DIR).
"""

import argparse
import getpass
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _setup_local_if_asked(args: argparse.Namespace) -> None:
    """--local: talk to the stack `make run` serves (recorded in .local/), or stop here."""
    if getattr(args, "local", False) and args.func is not cmd_run:
        from devtools.localenv import use_running_stack

        stack = use_running_stack()
        print(f"Using the local stack of {stack.shop_url} (local AWS {stack.aws_endpoint})", file=sys.stderr)
    _bind_tables()


def _bind_tables() -> None:
    """Name the models' tables from the environment as it is now (after any local defaults)."""
    from chalicelib.config import get_settings
    from chalicelib.models import bind_tables

    get_settings.cache_clear()
    bind_tables(get_settings())


def cmd_create_tables(args: argparse.Namespace) -> int:
    from devtools.tables import create_bucket, create_tables

    created = create_tables()
    bucket = create_bucket()
    print(f"tables created: {', '.join(created) or 'none (all exist)'}; bucket {'created' if bucket else 'exists'}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("The passwords do not match.")
    return first


def _aws_failure(error: Exception) -> str:
    """What went wrong talking to AWS, in words: never mistaken for a business answer."""
    cause = error.__cause__ or error
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "AWS"
    return f"Could not complete the request at {endpoint}: {type(cause).__name__}: {cause}"


def cmd_create_admin(args: argparse.Namespace) -> int:
    from chalicelib.services.accounts import create_admin

    def create() -> str:
        admin = create_admin(args.username, args.email, _read_password(args), args.role)
        audit.record(OPERATOR, "admin.create", target=admin.username_key, role=admin.access)
        return f"admin {admin.username} created ({admin.access})"

    from chalicelib.services import audit
    from chalicelib.services.admins import OPERATOR

    return _admin_command(create)


def cmd_set_role(args: argparse.Namespace) -> int:
    from chalicelib.services.admins import set_role

    return _admin_command(lambda: f"admin {set_role(args.username, args.role).username_key} is now {args.role}")


def _admin_command(action: Callable[[], str]) -> int:
    """Run one admin change; print its outcome, or the reason it failed (2: refused, 1: AWS)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.services.admins import AdminNotFound
    from chalicelib.services.errors import Conflict, ValidationFailed

    try:
        print(action())
    except (AdminNotFound, Conflict) as error:
        print(error.message, file=sys.stderr)
        return 2
    except ValidationFailed as error:
        for field, message in error.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    except (PynamoDBException, BotoCoreError, ClientError) as error:
        print(_aws_failure(error), file=sys.stderr)
        return 1
    return 0


def cmd_list_admins(args: argparse.Namespace) -> int:
    from chalicelib.models import Admin

    def listing() -> str:
        # A Scan of the small admins table, here and not in chalicelib: the Lambda's role may not Scan it.
        admins = sorted(Admin.scan(consistent_read=True), key=lambda admin: admin.username_key)
        rows = [
            f"{a.username}\t{a.email}\t{'disabled' if a.disabled else 'enabled'}\tcreated {a.created_at:%Y-%m-%d}"
            f"\t{a.access}"
            for a in admins
        ]
        return "\n".join(rows) or "no admins"

    return _admin_command(listing)


def cmd_disable_admin(args: argparse.Namespace) -> int:
    from chalicelib.services.admins import disable_admin

    return _admin_command(lambda: f"admin {args.username} disabled; {disable_admin(args.username)} session(s) ended")


def cmd_enable_admin(args: argparse.Namespace) -> int:
    from chalicelib.services.admins import enable_admin

    return _admin_command(lambda: f"admin {enable_admin(args.username).username_key} enabled")


def cmd_set_admin_password(args: argparse.Namespace) -> int:
    from chalicelib.services.admins import set_admin_password

    def change() -> str:
        ended = set_admin_password(args.username, _read_password(args))
        return f"password of admin {args.username} changed; {ended} session(s) ended"

    return _admin_command(change)


def cmd_rebuild_catalogue_index(args: argparse.Namespace) -> int:
    from chalicelib.services import catalogue_index

    started = time.perf_counter()
    index = catalogue_index.rebuild()
    print(f"catalogue read model version {index.version}: {len(index)} shoes in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_backfill_dashboard(args: argparse.Namespace) -> int:
    from devtools.counters import replay, shard_orders

    started = time.perf_counter()
    fixed = shard_orders()
    items = replay()
    print(f"{fixed} order(s) given their index shard; {items} items tallied in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_sweep_returns(args: argparse.Namespace) -> int:
    """What the scheduled `return_sweep` does: close requested returns past their deadline."""
    from chalicelib.services import returns

    released = returns.sweep()
    print(f"{len(released)} return(s) closed past their deadline{': ' if released else ''}{', '.join(released)}")
    return 0


def cmd_backfill_customers(args: argparse.Namespace) -> int:
    from devtools.customers import backfill

    started = time.perf_counter()
    users, orders = backfill()
    took = time.perf_counter() - started
    print(f"{users} account(s) given search keys; {orders} order(s) given their customer in {took:.1f} s")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from devtools.demo import seed_demo_report

    started = time.perf_counter()
    report = seed_demo_report(args.products)
    print(
        f"demo catalogue: {len(report.ids)} shoes, {report.added} added, "
        f"{len(report.ids) - report.added} there already ({time.perf_counter() - started:.1f} s)"
    )
    from devtools.demo_reviews import seed_demo_reviews

    print(f"demo reviews: {seed_demo_reviews()} added")
    _seed_shipping_zone()
    return 0


def _seed_shipping_zone() -> None:
    """The demo's shipping zone (Standard and Express, every country), for the owner to edit."""
    from chalicelib.services import shipping

    if shipping.seed_default_zone():
        print("Seeded the default shipping zone (Standard and Express to every country)")


def cmd_outbox(args: argparse.Namespace) -> int:
    """Sent mail from the local SES (what was really sent), or the outbox's unsent messages."""
    import json

    if args.unsent:
        return _unsent_messages(args.unsent, args.json)
    from chalicelib.aws import local_endpoint_url
    from devtools.localmail import format_mail, sent_mail

    endpoint = local_endpoint_url()
    if not endpoint:
        print("Sent mail is read from the local SES: use --local (in AWS, see --unsent and the logs).", file=sys.stderr)
        return 2
    mails = sent_mail(endpoint)
    if args.json:
        print(json.dumps([mail.as_json() for mail in mails], indent=2))
    elif not mails:
        print("no email sent yet")
    else:
        print(("-" * 72 + "\n").join(format_mail(mail) for mail in mails), end="")
    return 0


def _unsent_messages(queue: str, as_json: bool) -> int:
    import json

    from chalicelib.services import outbox

    rows = [
        {
            "message_id": item.message_id,
            "kind": item.kind,
            "status": item.status,
            "attempts": int(item.attempts or 0),
            "created_at": item.created_at.isoformat(),
            "last_error": item.last_error or "",
        }
        for item in outbox.unsent(queue)
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print("\t".join(str(row[name]) for name in ("created_at", "message_id", "kind", "attempts", "last_error")))
        print(f"{len(rows)} {queue} message(s)", file=sys.stderr)
    return 0


def cmd_retry_email(args: argparse.Namespace) -> int:
    """Failed messages back to pending: the outbox stream brings them to the sender again."""
    from chalicelib.services import outbox

    ids = [item.message_id for item in outbox.unsent(outbox.FAILED)] if args.all_failed else [args.id]
    retried = [message_id for message_id in ids if outbox.retry(message_id)]
    for message_id in sorted(set(ids) - set(retried)):
        print(f"{message_id}: no failed message of that id", file=sys.stderr)
    print(f"{len(retried)} message(s) queued again")
    return 0 if len(retried) == len(ids) else 2


def _print_sent(message: object) -> None:
    """`make run`: one line per email sent."""
    print(
        f"email sent: {getattr(message, 'kind', '')} to {getattr(message, 'recipient', '')}: "
        f"{getattr(message, 'subject', '')}  (manage.py --local outbox shows it)",
        flush=True,
    )


def _local_admin_line(state: Path) -> str:
    """Create the local admin on first start; afterwards it (and its password) persist."""
    from chalicelib.services.accounts import create_admin
    from chalicelib.services.errors import ValidationFailed
    from devtools.localenv import ADMIN_PASSWORD_FILE, write_private

    username = os.environ.get("LOCAL_ADMIN_USERNAME", "admin")
    password = os.environ.get("LOCAL_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    saved = state / ADMIN_PASSWORD_FILE
    try:
        create_admin(username, f"{username}@example.com", password)
    except ValidationFailed:
        where = f"its password is in {saved}" if saved.exists() else "its password is unchanged"
        return f"Local admin {username!r} (kept from the last run; {where}); log in at /admin"
    write_private(saved, password + "\n")
    return f"Local admin: username {username!r}, password {password!r} (saved in {saved}); log in at /admin"


def _stop_on_sigterm() -> None:
    """SIGTERM stops the server like Ctrl-C does, so the data is saved either way (SIGINT too,
    even when a shell started the process in the background with SIGINT ignored)."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def cmd_run(args: argparse.Namespace) -> int:
    """Local AWS (unless AWS_ENDPOINT_URL points at one), tables, saved data or demo data, an
    admin, the server; on a clean stop the data is saved for the next run."""
    import signal

    from devtools import snapshot
    from devtools.localenv import (
        STACK_FILE,
        apply_local_defaults,
        ensure_resources,
        ensure_secrets,
        forget_stack,
        private_dir,
        record_stack,
        running_stack,
        start_local_aws,
        state_dir,
    )

    state = private_dir(state_dir())
    already = running_stack()
    if already is not None:
        raise SystemExit(
            f"A local stack from this folder is running already: {already.shop_url} (pid {already.pid}, "
            f"{state / STACK_FILE}). Stop it first, or set LOCAL_STATE_DIR for a second one."
        )
    if args.fresh:
        snapshot.discard(state)
        (state / "admin-password").unlink(missing_ok=True)
        print(f"Starting fresh: the saved local data in {state} is gone")
    port = int(os.environ.get("PORT", "8000"))
    os.environ.setdefault("SHOP_URL", f"http://127.0.0.1:{port}")  # the links in emails open this shop
    apply_local_defaults()
    _bind_tables()
    moto = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        aws_port = int(os.environ.get("LOCAL_AWS_PORT", "4566"))
        moto = start_local_aws(aws_port)
        print(f"Local AWS (moto) on {os.environ['AWS_ENDPOINT_URL']}")
    ensure_resources(cors_origins=[f"http://127.0.0.1:{port}", f"http://localhost:{port}"])
    if moto is not None:
        restored = snapshot.restore(state)
        if restored is not None:
            print(f"Restored the last run's data from {state / snapshot.SNAPSHOT_DIR}: {restored}")
    created = ensure_secrets()
    if created:
        print(f"Created the local secrets in SSM: {', '.join(created)}")
    from chalicelib.services import mailer
    from devtools.localmail import ensure_sender_identity

    print(f"Email: sending as {ensure_sender_identity()} through the local SES (`manage.py --local outbox` reads it)")
    mailer.on_sent(_print_sent)

    from chalicelib.models import Shoe
    from devtools.demo import seed_demo

    if Shoe.count(limit=1) == 0:
        seed_demo(args.products)
        print(f"Seeded {args.products} demo shoes")
        from devtools.demo_reviews import seed_demo_reviews

        print(f"Seeded {seed_demo_reviews()} demo reviews, counted into the ratings")
    _seed_shipping_zone()
    admin_line = _local_admin_line(state)

    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from app import app
    from devtools import streampoller
    from devtools.devserver import make_server, request_lock

    shop_url = f"http://127.0.0.1:{port}"
    from devtools.localenv import start_card_payments

    payments = start_card_payments(shop_url, int(os.environ.get("STRIPE_STANDIN_PORT", "0")))
    # The stream Lambdas' work (the catalogue's read model...): the same handler, a second or so behind.
    poller = streampoller.start(request_lock)
    _sweep_unpaid_orders_every_minute()
    # The port opens last, with the stack recorded at once: whoever sees it answer finds the record.
    server = make_server(app, "127.0.0.1", port)
    record_stack(shop_url)
    _stop_on_sigterm()
    print("=" * 72)
    print(admin_line)
    print(f"Stride Shoes is open on {shop_url}   (Ctrl-C stops everything, and keeps the data)")
    if payments.standin is not None:
        print(f"Card payments: local Stripe stand-in on {payments.standin.base_url} (test card 4242 4242 4242 4242)")
    else:
        print(
            f"Card payments: Stripe test mode (forward webhooks: stripe listen --forward-to {shop_url}/webhooks/stripe)"
        )
    print("=" * 72, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the save short
        server.server.server_close()
        poller.stop()
        if payments.standin is not None:
            payments.standin.stop()
        forget_stack()
        if moto is not None:
            counts = snapshot.save(state)
            print(f"Saved the local data to {state / snapshot.SNAPSHOT_DIR}: {counts} (`make reset` starts fresh)")
            moto.stop()
    return 0


def _sweep_unpaid_orders_every_minute() -> None:
    """What the scheduled Lambdas (payment_sweep, return_sweep) do in a stage (`chalice local` runs
    no schedules), holding the dev server's one-request-at-a-time lock: moto is not thread-safe."""
    import threading

    from chalicelib.services import card_payments, returns
    from devtools.devserver import request_lock

    def sweep() -> None:
        while True:
            time.sleep(60)
            for name, run in (("payment", card_payments.sweep_expired), ("return", returns.sweep)):
                with request_lock:
                    try:
                        run()
                    except Exception as error:  # a failed sweep is tried again next minute
                        print(f"{name} sweep failed: {type(error).__name__}: {error}", file=sys.stderr)

    threading.Thread(target=sweep, daemon=True, name="payment-sweep").start()


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError("between 1 and 100000")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="manage.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="talk to the stack `make run` is serving (recorded in .local/); fails if none is running",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("create-tables", help="create the stage's tables and bucket (idempotent)").set_defaults(
        func=cmd_create_tables
    )

    admin = commands.add_parser("create-admin", help="create a back-office admin")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--role", choices=("owner", "staff"), default="owner", help="owner (default) or staff")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(func=cmd_create_admin)
    role = commands.add_parser("set-role", help="make an admin an owner or staff")
    role.add_argument("--username", required=True)
    role.add_argument("--role", choices=("owner", "staff"), required=True)
    role.set_defaults(func=cmd_set_role)

    commands.add_parser("list-admins", help="list the admins and whether each is enabled").set_defaults(
        func=cmd_list_admins
    )
    for name, func, text in (
        ("disable-admin", cmd_disable_admin, "disable an admin: it cannot log in, its sessions end"),
        ("enable-admin", cmd_enable_admin, "enable a disabled admin again"),
        ("set-admin-password", cmd_set_admin_password, "set an admin's password; its sessions end"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--username", required=True)
        if func is cmd_set_admin_password:
            command.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        command.set_defaults(func=func)

    seed = commands.add_parser(
        "seed-demo", help="make the demo catalogue N shoes large (adds only the missing ones; idempotent)"
    )
    seed.add_argument("--products", type=_positive, default=12)
    seed.set_defaults(func=cmd_seed_demo)

    commands.add_parser(
        "rebuild-catalogue-index", help="rebuild the catalogue read model (reads every shoe and stock row)"
    ).set_defaults(func=cmd_rebuild_catalogue_index)
    commands.add_parser(
        "backfill-dashboard", help="give old orders their index shard and tally the dashboard counters (Scans)"
    ).set_defaults(func=cmd_backfill_dashboard)
    commands.add_parser(
        "sweep-returns", help="close returns whose parcel did not arrive by the deadline (as the hourly schedule does)"
    ).set_defaults(func=cmd_sweep_returns)
    commands.add_parser(
        "backfill-customers", help="give old accounts their search keys and old orders their customer (Scans)"
    ).set_defaults(func=cmd_backfill_customers)

    mail = commands.add_parser("outbox", help="the mail the local SES received (newest first), or unsent email")
    mail.add_argument("--json", action="store_true", help="JSON for machines")
    mail.add_argument("--unsent", choices=("failed", "pending", "sending"), help="list the outbox's unsent messages")
    mail.set_defaults(func=cmd_outbox)

    retry = commands.add_parser("retry-email", help="send failed email again (after fixing the cause)")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="the message id (from outbox --unsent failed)")
    which.add_argument("--all-failed", action="store_true", help="every failed message")
    retry.set_defaults(func=cmd_retry_email)

    run = commands.add_parser("run", help="local AWS, demo data, admin and the dev server")
    run.add_argument("--products", type=int, default=12)
    run.add_argument("--fresh", action="store_true", help="forget the data saved by earlier runs (`make reset`)")
    run.set_defaults(func=cmd_run)

    args = parser.parse_args(argv)
    from devtools.localenv import NoLocalStack

    try:
        _setup_local_if_asked(args)
    except NoLocalStack as error:
        print(error, file=sys.stderr)
        return 2
    from chalicelib import wiring  # events, account-deletion steps and login hooks, as the app has them

    wiring.wire()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
