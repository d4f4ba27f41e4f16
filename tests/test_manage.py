"""manage.py commands, run in-process against moto."""

import base64
import io
import json
import subprocess
import sys

import pytest
from pynamodb.exceptions import PutError

import manage
from chalicelib import aws
from chalicelib.aws import s3_client
from chalicelib.config import get_settings
from chalicelib.models import Shoe, Stock
from chalicelib.services import accounts
from devtools import demo, drawing
from devtools.demo import demo_shoe
from devtools.localenv import ensure_secrets, free_port
from tests.fault_injection import SERVER_ERROR, faults, retry_sleeps  # noqa: F401 (fixtures)
from tests.local_stack import ROOT, clean_environment


def test_create_tables_is_idempotent(capsys):
    assert manage.main(["create-tables"]) == 0
    assert "none (all exist)" in capsys.readouterr().out


def test_create_admin_reads_the_password_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin passphrase\n"))
    assert manage.main(["create-admin", "--username", "Boss", "--email", "boss@example.com", "--password-stdin"]) == 0
    assert accounts.authenticate_admin("boss", "a long admin passphrase").username == "Boss"


def test_create_admin_refuses_weak_passwords(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    assert manage.main(["create-admin", "--username", "boss", "--email", "boss@example.com", "--password-stdin"]) == 2
    assert "too common" in capsys.readouterr().err


def test_seed_demo_creates_shoes_with_stock_and_images():
    assert manage.main(["seed-demo", "--products", "3"]) == 0
    shoes = list(Shoe.by_newest.query("active"))
    assert len(shoes) == 3
    for shoe in shoes:
        stock = list(Stock.query(shoe.shoe_id))
        assert {s.size for s in stock} == set(shoe.sizes)
        assert shoe.price_cents > 0 and shoe.images
        body = s3_client().get_object(Bucket=get_settings().upload_bucket, Key=shoe.images[0].thumb_key)["Body"].read()
        assert body[:4] == b"RIFF" and body[8:12] == b"WEBP"


def test_create_admin_reports_an_aws_failure_as_such_not_as_exists(faults):  # noqa: F811
    faults.fail("PutItem", SERVER_ERROR)
    with pytest.raises(PutError):
        accounts.create_admin("boss", "boss@example.com", "a long admin passphrase")


def test_create_admin_against_unreachable_aws_names_the_connection_failure(tmp_path):
    closed_port = free_port()  # nothing listens there
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create-admin",
            "--username",
            "boss",
            "--email",
            "b@example.com",
            "--password-stdin",
        ],
        cwd=ROOT,
        env=clean_environment(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port}",
            AWS_ACCESS_KEY_ID="x",
            AWS_SECRET_ACCESS_KEY="x",
            AWS_DEFAULT_REGION="us-east-1",
            BCRYPT_ROUNDS="4",
        ),
        input="a long admin passphrase\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "exists" not in result.stderr
    assert f"Could not complete the request at http://127.0.0.1:{closed_port}" in result.stderr
    assert "EndpointConnectionError" in result.stderr or "Could not connect" in result.stderr


@pytest.mark.parametrize("record", [None, {"pid": 2**22 + 7, "dead": True}])
def test_local_without_a_running_stack_says_so_and_calls_no_aws(monkeypatch, tmp_path, capsys, record):
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    if record is not None:  # a stale record: the stack crashed, its process is gone
        stale = {"shop_url": "http://127.0.0.1:1", "aws_endpoint": "http://127.0.0.1:1", "pid": record["pid"]}
        (tmp_path / "stack.json").write_text(json.dumps({**stale, "environment": {}}))
    calls = []
    aws.dynamodb_client().meta.events.register("before-call", lambda **kwargs: calls.append(kwargs))
    assert manage.main(["--local", "seed-demo", "--products", "3"]) == 2
    err = capsys.readouterr().err
    assert "No local stack is running" in err and "make run" in err
    assert calls == []
    assert Shoe.count() == 0


def test_seed_demo_twice_adds_nothing_the_second_time(capsys):
    assert manage.main(["seed-demo", "--products", "30"]) == 0
    assert "30 shoes, 30 added, 0 there already" in capsys.readouterr().out
    assert manage.main(["seed-demo", "--products", "45"]) == 0
    assert "45 shoes, 15 added, 30 there already" in capsys.readouterr().out
    assert manage.main(["seed-demo", "--products", "45"]) == 0
    assert "45 shoes, 0 added, 45 there already" in capsys.readouterr().out
    names = [shoe.name for shoe in Shoe.scan()]
    assert len(names) == 45 and len(set(names)) == 45
    # The catalogue read model knows all of them (its filters and search use it).
    from chalicelib.services import catalogue_index

    assert len(catalogue_index.current(force=True)) == 45


def test_demo_shoes_are_distinct_and_varied_up_to_five_thousand():
    shoes = [demo_shoe(index) for index in range(5000)]
    assert len({shoe.name for shoe in shoes}) == 5000
    assert len({shoe.shoe_id for shoe in shoes}) == 5000
    assert demo_shoe(17) == shoes[17]  # the same shoe whatever the seed's size
    assert len({shoe.brand for shoe in shoes}) >= 8 and len({shoe.colour for shoe in shoes}) >= 10
    assert {shoe.department for shoe in shoes} == {"men", "women", "kids"}
    assert len({shoe.price_cents for shoe in shoes}) >= 10
    assert all(shoe.price_cents % 100 == 95 for shoe in shoes)


def test_local_secrets_are_created_once_and_never_overwritten(monkeypatch):
    monkeypatch.setenv("SSM_PREFIX", "/shoeshop/localtest")
    get_settings.cache_clear()
    try:
        ssm = aws.ssm_client()
        ssm.put_parameter(Name="/shoeshop/localtest/signing-key", Type="SecureString", Value="kept", Overwrite=True)
        assert ensure_secrets() == ["password-pepper"]
        assert ensure_secrets() == []
        values = {
            p["Name"]: p
            for p in ssm.get_parameters_by_path(Path="/shoeshop/localtest", WithDecryption=True)["Parameters"]
        }
        assert values["/shoeshop/localtest/signing-key"]["Value"] == "kept"
        assert values["/shoeshop/localtest/password-pepper"]["Type"] == "SecureString"
        assert len(base64.b64decode(values["/shoeshop/localtest/password-pepper"]["Value"])) == 32
    finally:
        monkeypatch.delenv("SSM_PREFIX")
        get_settings.cache_clear()


def test_seeding_adds_cards_without_reading_the_tables_back_and_keeps_an_admins_shoe():
    """A seed into a running shop adds the new shoes' cards to the read model as it is (a shoe an
    admin made meanwhile stays findable), and never Scans stock to do it."""
    from chalicelib.services import catalogue, catalogue_index
    from tests.cart_fixtures import count_dynamodb_calls
    from tests.factories import make_shoe

    assert manage.main(["seed-demo", "--products", "5"]) == 0
    own = make_shoe({"42": 3}, name="Harbour Gumboot", brand="Ownbrand")
    catalogue_index.refresh_shoe(own.shoe_id)
    with count_dynamodb_calls() as calls:
        assert manage.main(["seed-demo", "--products", "20"]) == 0
    assert "Scan" not in calls, calls
    index = catalogue_index.current(force=True)
    assert len(index) == 21 and index.card(own.shoe_id) is not None
    query, _ = catalogue.parse_listing(lambda name: {"q": "gumboot"}.get(name, ""))
    assert [card.shoe_id for card in catalogue.list_shoes(query).cards] == [own.shoe_id]


def _admin_session(username: str = "boss") -> str:
    from chalicelib.services.sessions import ADMIN, start_session

    return start_session(ADMIN, username)[1].token_hash


def _session_exists(token_hash: str) -> bool:
    from chalicelib.models import Session

    return Session.count(token_hash) == 1


def test_list_admins_shows_each_admin_and_its_state(capsys):
    from tests.factories import make_admin

    make_admin("boss")
    make_admin("Deputy")
    assert manage.main(["disable-admin", "--username", "deputy"]) == 0
    capsys.readouterr()
    assert manage.main(["list-admins"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [row.split("\t")[:3] for row in rows] == [
        ["boss", "boss@example.com", "enabled"],
        ["Deputy", "Deputy@example.com", "disabled"],
    ]


def test_disable_and_enable_admin_end_sessions_and_refuse_login(capsys):
    from tests.factories import ADMIN_PASSWORD, make_admin

    make_admin("boss")
    make_admin("deputy")  # the shop keeps an enabled owner
    session = _admin_session()
    assert manage.main(["disable-admin", "--username", "BOSS"]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert not _session_exists(session)
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate_admin("boss", ADMIN_PASSWORD)
    assert manage.main(["enable-admin", "--username", "boss"]) == 0
    assert accounts.authenticate_admin("boss", ADMIN_PASSWORD).username == "boss"


def test_set_admin_password_ends_sessions_and_the_new_password_works(monkeypatch, capsys):
    from tests.factories import ADMIN_PASSWORD, make_admin

    make_admin("boss")
    session = _admin_session()
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new admin passphrase\n"))
    assert manage.main(["set-admin-password", "--username", "boss", "--password-stdin"]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert not _session_exists(session)
    assert accounts.authenticate_admin("boss", "a brand new admin passphrase").username == "boss"
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate_admin("boss", ADMIN_PASSWORD)


def test_set_admin_password_refuses_a_weak_password_and_keeps_the_sessions(monkeypatch, capsys):
    from tests.factories import make_admin

    make_admin("boss")
    session = _admin_session()
    monkeypatch.setattr("sys.stdin", io.StringIO("bossboss2026\n"))
    assert manage.main(["set-admin-password", "--username", "boss", "--password-stdin"]) == 2
    assert "password: Do not build your password from your username" in capsys.readouterr().err
    assert _session_exists(session)


def test_the_last_enabled_owner_cannot_be_disabled_or_demoted(capsys):
    from chalicelib.models import Admin
    from chalicelib.services.admins import LAST_OWNER
    from tests.factories import make_admin

    make_admin("boss")
    make_admin("clerk", role="staff")
    make_admin("gone")
    assert manage.main(["disable-admin", "--username", "gone"]) == 0
    capsys.readouterr()
    for command in (["disable-admin", "--username", "boss"], ["set-role", "--username", "boss", "--role", "staff"]):
        assert manage.main(command) == 2
        assert capsys.readouterr().err.strip() == LAST_OWNER
    assert Admin.get("boss").role == "owner" and not Admin.get("boss").disabled
    assert manage.main(["set-role", "--username", "clerk", "--role", "owner"]) == 0
    assert manage.main(["disable-admin", "--username", "boss"]) == 0  # another owner first, then shut it out


@pytest.mark.parametrize("command", ["disable-admin", "enable-admin", "set-admin-password"])
def test_admin_commands_name_an_unknown_admin(command, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new admin passphrase\n"))
    password = ["--password-stdin"] if command == "set-admin-password" else []
    assert manage.main([command, "--username", "nobody", *password]) == 2
    assert "There is no admin 'nobody'." in capsys.readouterr().err


def test_demo_descriptions_differ_and_name_the_shoes_kind_material_and_colour():
    shoes = [demo_shoe(index) for index in range(60)]
    descriptions = [shoe.description for shoe in shoes]
    assert len(set(descriptions)) == len(descriptions)
    assert len({description.split(" is ", 1)[1] for description in descriptions}) >= 40  # not just the name
    for shoe in shoes:
        what = demo.KIND_WORDS[shoe.kind][0]
        assert f"The {shoe.brand} {shoe.name} is {what} in {shoe.colour.lower()} " in shoe.description
        assert "sandals shoe" not in shoe.description and "everyday wear" not in shoe.description
    assert {shoe.kind for shoe in shoes} >= {"runner", "sneaker", "oxford", "boot", "sandal", "slide"}
    assert demo_shoe(7) == demo_shoe(7)


@pytest.mark.parametrize("kind", sorted(drawing.DRAWERS))
def test_demo_pictures_draw_the_kind_in_its_colour_with_light_and_shadow(kind):
    colour = demo.COLOURS["Red"]
    image = demo.draw_shoe(colour, kind)
    assert image.size == (1200, 900) and image.mode == "RGB"
    pixels = image.load()
    # The backdrop is light; under the shoe its shadow is darker than the backdrop beside it.
    corner = pixels[20, 20]
    assert min(corner) > 230
    below = drawing.GROUND + 24 - drawing.DRAWERS[kind][1]  # just under the sole
    assert sum(pixels[600, below]) < sum(pixels[5, below]) - 30, "a shadow under the shoe"
    reds = [pixels[x, y] for x in range(0, 1200, 8) for y in range(0, 900, 8) if _reddish(pixels[x, y])]
    assert len(reds) > 150, "the shoe shows in its colour"
    brightness = sorted(sum(pixel) for pixel in reds)
    assert brightness[-1] - brightness[0] > 120, "lit: lighter and darker tones of its colour"
    other = demo.draw_shoe(colour, "slide" if kind != "slide" else "boot")
    assert image.tobytes() != other.tobytes()  # each kind is its own drawing


def _reddish(pixel: tuple[int, int, int]) -> bool:
    red, green, blue = pixel
    return red > green + 40 and red > blue + 40


def test_create_admin_takes_a_role_and_set_role_changes_it(monkeypatch, capsys):
    from chalicelib.models import Admin

    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin passphrase\n"))
    args = [
        "create-admin",
        "--username",
        "Clerk",
        "--email",
        "clerk@example.com",
        "--role",
        "staff",
        "--password-stdin",
    ]
    assert manage.main(args) == 0
    assert "created (staff)" in capsys.readouterr().out
    assert Admin.get("clerk").role == "staff"
    assert manage.main(["set-role", "--username", "clerk", "--role", "owner"]) == 0
    assert Admin.get("clerk").role == "owner"
    assert manage.main(["list-admins"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split("\t")[-1] == "owner"
    assert manage.main(["set-role", "--username", "nobody", "--role", "owner"]) == 2
