"""Signed tokens (chalicelib.tokens): tamper-evident, bound to a purpose, aged, and valid across a
signing-key rotation."""

import pytest

from chalicelib import tokens


def test_a_detached_signature_verifies_only_its_value_and_purpose():
    token = tokens.sign("csrf", "s:session-hash")
    assert "session-hash" not in token  # the verifier knows the value; the page does not carry it
    assert tokens.verify("csrf", "s:session-hash", token)
    assert not tokens.verify("csrf", "s:another-session", token)
    assert not tokens.verify("checkout", "s:session-hash", token)
    for bad in (token[:-2] + "AA", "", None, 7, "x" * 5000, token + ".x"):
        assert not tokens.verify("csrf", "s:session-hash", bad)


def test_data_tokens_round_trip_and_refuse_tampering_and_other_purposes():
    token = tokens.dumps("flash", [{"kind": "info", "text": "Saved."}])
    assert tokens.loads("flash", token) == [{"kind": "info", "text": "Saved."}]
    body = token.partition(".")[0]
    for bad in (token[:-2] + "AA", "garbage", body + ".", "x" * 5000, "", None):
        with pytest.raises(tokens.InvalidToken):
            tokens.loads("flash", bad)
    with pytest.raises(tokens.InvalidToken):
        tokens.loads("cursor:orders", token)


def test_max_age_refuses_old_tokens_and_tokens_from_the_future(frozen_clock):
    signature = tokens.sign("checkout", "u1:nonce")
    data = tokens.dumps("email-link", {"user": "u1"})
    frozen_clock.advance(hours=1)
    assert tokens.verify("checkout", "u1:nonce", signature, max_age=3600)
    assert tokens.loads("email-link", data, max_age=3600) == {"user": "u1"}
    frozen_clock.advance(seconds=1)
    assert not tokens.verify("checkout", "u1:nonce", signature, max_age=3600)
    with pytest.raises(tokens.InvalidToken):
        tokens.loads("email-link", data, max_age=3600)
    assert tokens.loads("email-link", data) == {"user": "u1"}  # no age asked: still genuine
    frozen_clock.advance(hours=-2)  # another Lambda's clock a little behind is tolerated, not more
    assert not tokens.verify("checkout", "u1:nonce", signature, max_age=3600)
    frozen_clock.advance(seconds=3600 - tokens.CLOCK_SKEW_SECONDS + 1)
    assert tokens.verify("checkout", "u1:nonce", signature, max_age=3600)


def test_after_a_rotation_old_tokens_verify_new_ones_use_the_new_key_and_a_second_rotation_drops_the_oldest(
    rotate_signing_key,
):
    old_signature = tokens.sign("csrf", "a:visitor")
    old_data = tokens.dumps("flash", ["hello"])
    rotate_signing_key()
    assert tokens.verify("csrf", "a:visitor", old_signature)
    assert tokens.loads("flash", old_data) == ["hello"]
    new_signature = tokens.sign("csrf", "a:visitor")
    assert new_signature != old_signature
    rotate_signing_key()
    assert tokens.verify("csrf", "a:visitor", new_signature)
    assert not tokens.verify("csrf", "a:visitor", old_signature)
    with pytest.raises(tokens.InvalidToken):
        tokens.loads("flash", old_data)
