"""Records every AWS operation the app's own code performs while the test suite runs.

Loaded as a pytest plugin (conftest's `pytest_plugins`). It wraps botocore's single choke point,
`BaseClient._make_api_call`, plus the two presigners (a presigned URL or POST is used by the browser
with the Lambda role's credentials, so it needs the same permission as the call it stands for).
A call counts as the app's when the nearest project frame on the stack is in `app.py` or
`chalicelib/`: test setup,
fixtures and devtools are ignored. tests/test_iam_policy.py checks the result against the policies.
"""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP_CODE = (ROOT / "chalicelib", ROOT / "app.py")
SITE_MARKERS = ("site-packages", "dist-packages")


@dataclass(frozen=True)
class Need:
    """One IAM permission a call needs: an action on a resource described by service-level names."""

    action: str  # e.g. "dynamodb:PutItem"
    service: str  # dynamodb, s3, ssm
    resource: str  # table, "table/index/<name>", "bucket/key" or parameter name
    where: str = field(compare=False, default="")  # file:line function of the app's caller


_lock = threading.Lock()
_recorded: dict[Need, Need] = {}
_scopes: list[dict[Need, Need]] = []
_installed = False


def recorded() -> list[Need]:
    with _lock:
        return list(_recorded.values())


@contextmanager
def recording() -> Iterator[list[Need]]:
    """What app code needs inside the block only (one Lambda's calls, e.g. a stream function's);
    the list is filled when the block ends."""
    scope: dict[Need, Need] = {}
    found: list[Need] = []
    with _lock:
        _scopes.append(scope)
    try:
        yield found
    finally:
        with _lock:
            _scopes.remove(scope)
        found.extend(scope.values())


def _app_caller() -> str | None:
    """file:line of the nearest project frame, if it is app code; None for tests and tooling."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if (
            filename != __file__
            and not any(marker in filename for marker in SITE_MARKERS)
            and filename.startswith(str(ROOT))
        ):
            path = Path(filename)
            if any(path == code or code in path.parents for code in APP_CODE):
                return f"{path.relative_to(ROOT)}:{frame.f_lineno} in {frame.f_code.co_name}"
            return None
        frame = frame.f_back
    return None


def _record(needs: list[tuple[str, str, str]]) -> None:
    where = _app_caller()
    if where is None:
        return
    with _lock:
        for action, service, resource in needs:
            need = Need(action, service, resource, where)
            _recorded.setdefault(need, need)
            for scope in _scopes:
                scope.setdefault(need, need)


# -- what each botocore operation needs, in IAM terms ------------------------------------------
S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
}
TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def needs_for(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The (action, service, resource) triples a call needs, following AWS's IAM documentation:
    transactions need the per-item actions; batch calls their own action on every table named."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                (TRANSACT_WRITE_ACTIONS[kind], service, body["TableName"])
                for item in params.get("TransactItems", [])
                for kind, body in item.items()
            ]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", service, item["Get"]["TableName"]) for item in params.get("TransactItems", [])]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", service, table) for table in params.get("RequestItems", {})]
        table = params.get("TableName", "")
        if params.get("IndexName"):
            table = f"{table}/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", service, table)]
    if service == "s3":
        bucket = params.get("Bucket", "")
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", service, f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
        if operation in S3_ACTIONS:
            return [(S3_ACTIONS[operation], service, f"{bucket}/{params.get('Key', '')}")]
        if operation in ("ListObjects", "ListObjectsV2", "HeadBucket"):
            return [("s3:ListBucket", service, bucket)]
        return [(f"s3:{operation}", service, bucket)]
    if service == "ssm":
        names = params.get("Names") or [params.get("Name", "")]
        return [(f"ssm:{operation}", service, name.lstrip("/")) for name in names]
    return [(f"{service}:{operation}", service, "")]


def _service_of(client: Any) -> str:
    return client.meta.service_model.signing_name


def install() -> None:
    """Wrap botocore once per process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from botocore import client as botocore_client
    from botocore import signers

    original_call = botocore_client.BaseClient._make_api_call

    def recording_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        _record(needs_for(_service_of(self), operation_name, api_params))
        return original_call(self, operation_name, api_params)

    botocore_client.BaseClient._make_api_call = recording_call

    original_url = signers.generate_presigned_url

    def recording_url(self: Any, ClientMethod: str, Params: Any = None, **kwargs: Any) -> Any:
        operation = self._PY_TO_OP_NAME.get(ClientMethod, ClientMethod)
        _record(needs_for(_service_of(self), operation, Params or {}))
        return original_url(self, ClientMethod, Params=Params, **kwargs)

    signers.generate_presigned_url = recording_url

    original_post = signers.generate_presigned_post

    def recording_post(self: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
        # The browser's POST is a PutObject signed with the Lambda role's credentials.
        _record(needs_for("s3", "PutObject", {"Bucket": Bucket, "Key": Key}))
        return original_post(self, Bucket, Key, *args, **kwargs)

    signers.generate_presigned_post = recording_post


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "runs_last: run after every other test (suite-wide checks)")
    install()


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    """The suite-wide policy check runs last, so it sees the operations of every other test."""
    last = [item for item in items if item.get_closest_marker("runs_last")]
    rest = [item for item in items if not item.get_closest_marker("runs_last")]
    items[:] = rest + last
