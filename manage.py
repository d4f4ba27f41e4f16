#!/usr/bin/env python3
"""Operator and developer commands. Uses the same environment variables as the app.

python manage.py create-tables
python manage.py create-admin --username U --email E [--password-stdin]
python manage.py seed-demo --products N
python manage.py rebuild-catalogue-index   (rebuild the catalogue read model from the shoes and stock tables)
python manage.py run            (what `make run` does: local AWS, tables, demo data, admin, server)
"""

import argparse
import getpass
import os
import secrets
import sys
import time


def _setup_local_if_asked(args: argparse.Namespace) -> None:
    if getattr(args, "local", False):
        from devtools.localenv import apply_local_defaults

        apply_local_defaults()
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


def cmd_create_admin(args: argparse.Namespace) -> int:
    from chalicelib.services.accounts import create_admin
    from chalicelib.services.errors import ValidationFailed

    try:
        admin = create_admin(args.username, args.email, _read_password(args))
    except ValidationFailed as error:
        for field, message in error.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"admin {admin.username} created")
    return 0


def cmd_rebuild_catalogue_index(args: argparse.Namespace) -> int:
    from chalicelib.services import catalogue_index

    started = time.perf_counter()
    index = catalogue_index.rebuild()
    print(f"catalogue read model version {index.version}: {len(index)} shoes in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from devtools.demo import seed_demo

    started = time.perf_counter()
    ids = seed_demo(args.products)
    print(f"seeded {len(ids)} products in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Local AWS (unless AWS_ENDPOINT_URL points at one), tables, demo data, an admin, the server."""
    from devtools.localenv import apply_local_defaults, ensure_resources, start_local_aws

    apply_local_defaults()
    _bind_tables()
    port = int(os.environ.get("PORT", "8000"))
    moto = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        aws_port = int(os.environ.get("LOCAL_AWS_PORT", "4566"))
        moto = start_local_aws(aws_port)
        print(f"Local AWS (moto) on {os.environ['AWS_ENDPOINT_URL']}")
    ensure_resources(cors_origins=[f"http://127.0.0.1:{port}", f"http://localhost:{port}"])

    from chalicelib.models import Shoe
    from chalicelib.services.accounts import create_admin
    from chalicelib.services.errors import ValidationFailed
    from devtools.demo import seed_demo

    if Shoe.count(limit=1) == 0:
        seed_demo(args.products)
        print(f"Seeded {args.products} demo shoes")
    username = os.environ.get("LOCAL_ADMIN_USERNAME", "admin")
    password = os.environ.get("LOCAL_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    try:
        create_admin(username, f"{username}@example.com", password)
        admin_line = f"Local admin: username {username!r}, password {password!r} (log in at /admin)"
    except ValidationFailed:
        admin_line = f"Local admin {username!r} exists already (its password is unchanged)"

    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from app import app
    from devtools.devserver import make_server

    server = make_server(app, "127.0.0.1", port)
    print("=" * 72)
    print(admin_line)
    print(f"Stride Shoes is open on http://127.0.0.1:{port}   (Ctrl-C stops everything)")
    print("=" * 72, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping")
    finally:
        server.server.server_close()
        if moto is not None:
            moto.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="manage.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--local", action="store_true", help="use local defaults for unset variables (moto, local table names)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("create-tables", help="create the stage's tables and bucket (idempotent)").set_defaults(
        func=cmd_create_tables
    )

    admin = commands.add_parser("create-admin", help="create a back-office admin")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(func=cmd_create_admin)

    seed = commands.add_parser("seed-demo", help="add demo products with stock")
    seed.add_argument("--products", type=int, default=12)
    seed.set_defaults(func=cmd_seed_demo)

    commands.add_parser(
        "rebuild-catalogue-index", help="rebuild the catalogue read model (reads every shoe and stock row)"
    ).set_defaults(func=cmd_rebuild_catalogue_index)

    run = commands.add_parser("run", help="local AWS, demo data, admin and the dev server")
    run.add_argument("--products", type=int, default=12)
    run.set_defaults(func=cmd_run)

    args = parser.parse_args(argv)
    _setup_local_if_asked(args)
    from chalicelib import wiring  # events, account-deletion steps and login hooks, as the app has them

    wiring.wire()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
