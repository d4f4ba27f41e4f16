"""Keep the local stack's data between runs: moto holds everything in memory, so `manage.py run`
saves every table's items, the bucket's objects and the stage's SSM parameters into the state
folder on a clean stop (Ctrl-C, SIGTERM) and loads them back at the next start.

Tables are read and written through the embedded moto's backend in this process, not over HTTP:
moto answers a Scan of tens of thousands of items (a 5,000-shoe demo catalogue has about 60,000
stock rows) in minutes, its backend in a second or two. Items are kept in DynamoDB's wire format
(typed JSON), with moto's binary values (bytes) written as {"__bytes__": base64} and read back as
bytes, so the restored items are what moto held.

Layout (all private to the user, the parameters are the local secrets):
    snapshot/dynamodb/<table>.json   items in DynamoDB's typed JSON
    snapshot/s3/index.json           key -> content type, cache control, file
    snapshot/s3/<n>.bin              object bodies
    snapshot/ssm.json                SecureString parameters under SSM_PREFIX
A snapshot is written beside the old one and swapped in by a rename: a crash while saving leaves
the previous snapshot whole.
"""

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.localenv import private_dir, write_private

SNAPSHOT_DIR = "snapshot"
BYTES_KEY = "__bytes__"


@dataclass(frozen=True)
class SnapshotCounts:
    items: int
    objects: int
    parameters: int

    def __str__(self) -> str:
        return f"{self.items} items, {self.objects} objects, {self.parameters} parameters"


def _moto_tables() -> dict[str, Any]:
    """The embedded moto server's DynamoDB tables (it runs in this process: manage.py run)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.config import get_settings

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().region].tables


def _bytes_as_json(value: object) -> dict[str, str]:
    if isinstance(value, bytes | bytearray):
        return {BYTES_KEY: base64.b64encode(value).decode()}
    raise TypeError(f"cannot save {type(value).__name__}")


def _json_bytes(value: dict[str, Any]) -> Any:
    return base64.b64decode(value[BYTES_KEY]) if set(value) == {BYTES_KEY} else value


def _table_names() -> list[str]:
    from chalicelib.models import TABLE_MODELS

    return [model.Meta.table_name for model in TABLE_MODELS]


def _save_tables(folder: Path) -> int:
    tables = _moto_tables()
    total = 0
    for name in _table_names():
        items = [item.to_json()["Attributes"] for item in tables[name].all_items()]
        write_private(folder / f"{name}.json", json.dumps(items, default=_bytes_as_json))
        total += len(items)
    return total


def _restore_tables(folder: Path) -> int:
    tables = _moto_tables()
    total = 0
    for name in _table_names():
        path = folder / f"{name}.json"
        if not path.exists():
            continue
        items = json.loads(path.read_text(), object_hook=_json_bytes)
        for item in items:
            tables[name].put_item(item)
        total += len(items)
    return total


def _save_objects(folder: Path) -> int:
    from chalicelib.aws import s3_client
    from chalicelib.config import get_settings

    s3, bucket = s3_client(), get_settings().upload_bucket
    index = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            answer = s3.get_object(Bucket=bucket, Key=key)
            filename = f"{len(index)}.bin"
            (folder / filename).write_bytes(answer["Body"].read())
            index[key] = {
                "file": filename,
                "content_type": answer.get("ContentType", "binary/octet-stream"),
                "cache_control": answer.get("CacheControl"),
            }
    write_private(folder / "index.json", json.dumps(index))
    return len(index)


def _restore_objects(folder: Path) -> int:
    from chalicelib.aws import s3_client
    from chalicelib.config import get_settings

    path = folder / "index.json"
    if not path.exists():
        return 0
    s3, bucket = s3_client(), get_settings().upload_bucket
    index = json.loads(path.read_text())
    for key, entry in index.items():
        extra = {"CacheControl": entry["cache_control"]} if entry.get("cache_control") else {}
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=(folder / entry["file"]).read_bytes(),
            ContentType=entry["content_type"],
            **extra,
        )
    return len(index)


def _save_parameters(path: Path) -> int:
    from chalicelib.aws import ssm_client
    from chalicelib.config import get_settings

    prefix = get_settings().ssm_prefix.rstrip("/")
    parameters = []
    if prefix:
        request: dict[str, Any] = {"Path": prefix, "Recursive": True, "WithDecryption": True}
        while True:
            page = ssm_client().get_parameters_by_path(**request)
            parameters += [{"name": p["Name"], "type": p["Type"], "value": p["Value"]} for p in page["Parameters"]]
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    write_private(path, json.dumps(parameters))
    return len(parameters)


def _restore_parameters(path: Path) -> int:
    from botocore.exceptions import ClientError

    from chalicelib.aws import ssm_client

    if not path.exists():
        return 0
    parameters = json.loads(path.read_text())
    for parameter in parameters:
        try:
            ssm_client().put_parameter(
                Name=parameter["name"], Type=parameter["type"], Value=parameter["value"], Overwrite=False
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterAlreadyExists":
                raise
    return len(parameters)


def save(state: Path) -> SnapshotCounts:
    """Write the snapshot of everything the local stack holds (tables, bucket, parameters)."""
    target = state / SNAPSHOT_DIR
    staging = state / f"{SNAPSHOT_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    private_dir(staging)
    private_dir(staging / "dynamodb")
    private_dir(staging / "s3")
    counts = SnapshotCounts(
        items=_save_tables(staging / "dynamodb"),
        objects=_save_objects(staging / "s3"),
        parameters=_save_parameters(staging / "ssm.json"),
    )
    old = state / f"{SNAPSHOT_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return counts


def restore(state: Path) -> SnapshotCounts | None:
    """Load the last snapshot into the (freshly created, empty) tables, bucket and SSM; None if
    there is none."""
    source = state / SNAPSHOT_DIR
    if not source.is_dir():
        return None
    return SnapshotCounts(
        items=_restore_tables(source / "dynamodb"),
        objects=_restore_objects(source / "s3"),
        parameters=_restore_parameters(source / "ssm.json"),
    )


def discard(state: Path) -> None:
    """Forget the saved data (`make reset`)."""
    for name in (SNAPSHOT_DIR, f"{SNAPSHOT_DIR}.new", f"{SNAPSHOT_DIR}.old"):
        shutil.rmtree(state / name, ignore_errors=True)
