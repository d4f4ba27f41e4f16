"""Runs INSIDE the unzipped deployment package, in a fresh interpreter (`python -I -S`), the way
Lambda would: import `app` from the package and call the handler with API Gateway proxy events.

Usage: python -I -S packaged_probe.py <package dir>   (scenario as JSON on stdin; results on stdout)
Standard library only, apart from what the package itself ships. tests/test_stage_prefix.py reuses
the event builders in-process.
"""

import json
import re
import sys
import time
import uuid
from urllib.parse import urlencode

HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
STAGE = "api"
RESULT_MARKER = "PROBE-RESULT "  # the handler's own log lines share stdout


class LambdaContext:
    function_name = "shoeshop-dev"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:shoeshop-dev"
    log_group_name = "/aws/lambda/shoeshop-dev"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 25000


def proxy_event(method, path, resource=None, path_params=None, cookies=None, form=None, host=HOST):
    headers = {"host": host, "accept": "text/html", "x-forwarded-proto": "https"}
    if cookies:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        body = urlencode(form)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": f"apigw-{uuid.uuid4()}",
            "domainName": host,
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def set_cookies(response):
    values = (response.get("multiValueHeaders") or {}).get("Set-Cookie") or []
    single = (response.get("headers") or {}).get("Set-Cookie")
    if single:
        values = [*values, single]
    jar = {}
    for cookie in values:
        name, _, value = cookie.split(";", 1)[0].partition("=")
        jar[name] = value
    return jar


def _loaded_from_pyc(name: str) -> bool:
    import importlib
    import os

    spec = importlib.import_module(name).__spec__
    return spec.cached is not None and os.path.exists(spec.cached)


def main() -> None:
    scenario = json.loads(sys.stdin.read())
    started = time.perf_counter()
    import app as lambda_module  # what Lambda's "app.app" handler string imports

    import_ms = (time.perf_counter() - started) * 1000
    handler = lambda_module.app
    results = {"import_ms": import_ms, "modules": {}, "responses": {}, "request_ids": []}
    for name in ("chalice", "jinja2", "pynamodb", "botocore", "bcrypt", "chalicelib"):
        module = __import__(name)
        results["modules"][name] = module.__file__
    # Bytecode comes from the zip's precompiled .pyc files (infra/precompile.py), not compiled now.
    results["precompiled"] = [_loaded_from_pyc(name) for name in ("botocore.client", "chalicelib.web.middleware")]

    def call(label, event, cookies_out=None):
        context = LambdaContext()
        results["request_ids"].append([event["requestContext"]["requestId"], context.aws_request_id])
        response = handler(event, context)
        headers = {**(response.get("headers") or {})}
        results["responses"][label] = {
            "status": response["statusCode"],
            "body": response["body"] if not response.get("isBase64Encoded") else "<binary>",
            "headers": headers,
            "cookies": set_cookies(response),
        }
        if cookies_out is not None:
            cookies_out.update(set_cookies(response))
        return results["responses"][label]

    jar = {}
    home = call("home", proxy_event("GET", "/"), jar)
    css = re.search(r'href="(/api/static/css/[^"]+)"', home["body"])
    if css:
        folder, filename = css.group(1).removeprefix("/api/static/").split("/", 1)
        resource = "/static/{folder}/{filename}"
        call(
            "css",
            proxy_event("GET", css.group(1).removeprefix("/api"), resource, {"folder": folder, "filename": filename}),
        )
    if scenario.get("product_resource"):
        resource = scenario["product_resource"]
        param = re.search(r"{(\w+)}", resource).group(1)
        path = resource.replace("{" + param + "}", scenario["shoe_id"])
        call("product", proxy_event("GET", path, resource, {param: scenario["shoe_id"]}), jar)
    # What API Gateway sends for paths no route declares: the greedy resource, the rest in `proxy`.
    for label, path in (("unknown", "/nope/deeper"), ("unknown_api", "/api/v1/nope")):
        call(label, proxy_event("GET", path, "/{proxy+}", {"proxy": path.lstrip("/")}))
    for label, path in (
        ("robots", "/robots.txt"),
        ("sitemap", "/sitemap.xml"),
        ("favicon", "/favicon.ico"),
        ("contact", "/contact"),
    ):
        call(label, proxy_event("GET", path))
    call("head_home", proxy_event("HEAD", "/"))
    login_page = call("login_page", proxy_event("GET", "/login", cookies=jar), jar)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page["body"]).group(1)
    bad = {"identifier": scenario["username"], "password": "not-the-password", "csrf_token": token}
    call("login_wrong", proxy_event("POST", "/login", cookies=jar, form=bad), jar)
    good = {"identifier": scenario["username"], "password": scenario["password"], "csrf_token": token}
    call("login", proxy_event("POST", "/login", cookies=jar, form=good), jar)
    call("account", proxy_event("GET", "/account", cookies=jar), jar)
    print(RESULT_MARKER + json.dumps(results), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])  # the unzipped package, and nothing else but the stdlib
    main()
