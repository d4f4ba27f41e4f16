"""Hostile JSON bodies: too deep or too big is a 400 in the API's error shape, never a 500 or a trace."""

import json
import logging

import pytest

DEEP = 20_000


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _deep_arrays(levels: int) -> str:
    # 40 kB: under the 64 kB body cap, so the depth check (not the size cap) must refuse it.
    return '{"shoe_id":' + "[" * levels + "]" * levels + "}"


def _post(web, path: str, body: str, page: str):
    headers = {"content-type": "application/json", "x-csrf-token": web.csrf_token(page)}
    return web.request("POST", path, body=body, headers=headers)


@pytest.mark.parametrize(
    ("client", "path", "page"), [("shopper", "/api/v1/cart", "/"), ("admin", "/api/v1/admin/shoes", "/admin")]
)
def test_json_nested_20000_levels_is_a_400_without_an_unhandled_error(caplog, request, client, path, page):
    web = request.getfixturevalue(client)
    caplog.set_level(logging.INFO)
    response = _post(web, path, _deep_arrays(DEEP), page)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"]["code"] == "BadJSON"
    assert not [r for r in caplog.records if "unhandled_error" in r.getMessage()]


def test_objects_deeper_than_the_limit_are_refused_on_the_cart_api(shopper):
    response = _post(shopper, "/api/v1/cart", _nested(2000), "/")
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "BadJSON"


def test_brackets_inside_strings_do_not_count_towards_the_depth():
    from chalicelib.blueprints.api.common import MAX_JSON_DEPTH, json_depth_exceeds

    assert not json_depth_exceeds(json.dumps({"name": "[{" * 1000 + '\\"' + "{" * 1000}).encode())
    assert not json_depth_exceeds(_nested(MAX_JSON_DEPTH).encode())
    assert json_depth_exceeds(_nested(MAX_JSON_DEPTH + 1).encode())


def test_a_body_over_the_size_cap_is_refused_before_parsing(shopper):
    response = _post(shopper, "/api/v1/cart", '{"a":"' + "x" * 100_000 + '"}', "/")
    assert response.status_code == 413
