"""manage.py commands, run in-process against moto."""

import io

import manage
from chalicelib.aws import s3_client
from chalicelib.config import get_settings
from chalicelib.models import Shoe, Stock
from chalicelib.services import accounts


def test_create_tables_is_idempotent(capsys):
    assert manage.main(["create-tables"]) == 0
    assert "none (all exist)" in capsys.readouterr().out


def test_create_admin_reads_the_password_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin passphrase\n"))
    assert manage.main(["create-admin", "--username", "Boss", "--email", "boss@example.com", "--password-stdin"]) == 0
    assert accounts.authenticate_admin("boss", "a long admin passphrase").username == "Boss"


def test_create_admin_refuses_weak_passwords(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("password1\n"))
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
