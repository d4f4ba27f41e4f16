"""Builds the deployment package once per test session (`chalice package`, dev stage, with the
merge template), and serves moto over HTTP for the packaged handler to use."""

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class BuiltPackage:
    out: Path  # chalice package's output: deployment.zip and sam.json
    unzipped: Path

    @property
    def zip_path(self) -> Path:
        return self.out / "deployment.zip"

    @property
    def template_path(self) -> Path:
        return self.out / "sam.json"


SHIPPED = ("app.py", "requirements.txt", "chalicelib", ".chalice/config.json", "infra/merge.json")


def staged_project(staging: Path) -> Path:
    """A copy of what `chalice package` reads, without __pycache__ (Chalice would zip compiled files
    left by local runs). The wheel cache (.chalice/deployments) is shared, so only the first build on
    a machine downloads wheels."""
    for name in SHIPPED:
        source = ROOT / name
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    for policy in (ROOT / ".chalice").glob("policy-*.json"):
        shutil.copy2(policy, staging / ".chalice" / policy.name)
    cache = ROOT / ".chalice" / "deployments"
    cache.mkdir(exist_ok=True)
    # Chalice keys the cache on requirements and app code and never prunes it: keep the newest few.
    for stale in sorted(cache.glob("*.zip"), key=lambda p: p.stat().st_mtime)[:-3]:
        stale.unlink()
    (staging / ".chalice" / "deployments").symlink_to(cache)
    return staging


def build_package(out: Path, stage: str = "dev") -> None:
    """The operator's `make package`: the stage's zip (Lambda platform wheels from PyPI, bytecode
    precompiled) and SAM template."""
    staging = staged_project(out.parent / "project")
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", stage, "--merge-template", "infra/merge.json", str(out)],
        cwd=staging,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    from infra.precompile import precompile

    assert precompile(out / "deployment.zip") > 100


@pytest.fixture(scope="session")
def built_package(tmp_path_factory) -> BuiltPackage:
    out = tmp_path_factory.mktemp("package") / "out"
    build_package(out)
    unzipped = out.parent / "unzipped"
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(unzipped)
    return BuiltPackage(out, unzipped)


@pytest.fixture(scope="session")
def moto_http(aws_backend) -> Iterator[str]:
    """A moto server on loopback that shares this process's moto backends (tables made by conftest)."""
    import logging

    from moto.server import ThreadedMotoServer

    from devtools.localenv import free_port

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
