"""Builds the deployment package once per test session (`chalice package`, dev stage, with the
merge template), and serves moto over HTTP for the packaged handler to use."""

import os
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


def build_package(out: Path, stage: str = "dev") -> None:
    """The operator's `make package`. Wheels for Lambda's platform come from PyPI (cached by Chalice in
    .chalice/deployments, so only the first build on a machine downloads them)."""
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", stage, "--merge-template", "infra/merge.json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


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
