"""Links and redirects carry the stage prefix on API Gateway's execute-api URL (`/api/...`) and
none behind a custom domain. The app is invoked with real API Gateway proxy events, as in Lambda."""

import re

import pytest

from tests.packaged_probe import LambdaContext, proxy_event, set_cookies

EXECUTE_API = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
CUSTOM_DOMAIN = "shop.example.com"


class Browser:
    """Calls the Lambda handler the way API Gateway would, keeping cookies."""

    def __init__(self, app, host: str) -> None:
        self.app = app
        self.host = host
        self.cookies: dict[str, str] = {}

    def __call__(self, method: str, path: str, form: dict | None = None) -> dict:
        event = proxy_event(method, path, cookies=self.cookies, form=form, host=self.host)
        response = self.app(event, LambdaContext())
        self.cookies.update(set_cookies(response))
        return response


@pytest.fixture
def registered(web):
    assert web.register("prefixer", password="prefix passphrase 1").status_code == 303
    return "prefixer", "prefix passphrase 1"


@pytest.mark.parametrize(("host", "prefix"), [(EXECUTE_API, "/api"), (CUSTOM_DOMAIN, "")])
def test_links_and_redirects_carry_the_prefix_only_on_the_execute_api_url(chalice_app, registered, host, prefix):
    browser = Browser(chalice_app, host)
    home = browser("GET", "/")
    assert home["statusCode"] == 200
    assert f'href="{prefix}/login"' in home["body"]
    assert re.search(rf'href="{prefix}/static/css/shop\.[^"]*css"', home["body"]), home["body"][:600]

    anonymous_account = browser("GET", "/account")
    assert anonymous_account["statusCode"] in (302, 303)
    assert anonymous_account["headers"]["Location"].startswith(f"{prefix}/login?next=")

    login_page = browser("GET", "/login")
    assert f'action="{prefix}/login"' in login_page["body"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page["body"]).group(1)
    username, password = registered
    login = browser("POST", "/login", {"identifier": username, "password": password, "csrf_token": token})
    assert login["statusCode"] == 303
    assert login["headers"]["Location"] == f"{prefix}/"
    assert browser("GET", "/account")["statusCode"] == 200


@pytest.mark.parametrize(("host", "servers"), [(EXECUTE_API, [{"url": "/api"}]), (CUSTOM_DOMAIN, None)])
def test_the_openapi_document_names_the_stage_as_its_server(chalice_app, host, servers):
    import json

    answer = Browser(chalice_app, host)("GET", "/api/v1/openapi.json")
    assert answer["statusCode"] == 200
    document = json.loads(answer["body"])
    assert document.get("servers") == servers and "/api/v1/shoes" in document["paths"]
