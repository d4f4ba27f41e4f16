"""Deployment package size and cold import time, with botocore shipped in the zip or taken from
the runtime (as Lambda's Python runtime provides boto3/botocore under /var/runtime).

    python -m bench.package_size [--runs 7]

Builds `chalice package --stage dev` into a temporary folder (wheels cached by Chalice), then
for each layout imports `app` in fresh interpreters (`python -I -S`, only the layout on sys.path)
and reports medians. Figures go in docs/benchmarks.md, "Package size".
"""

import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

from tests.package_fixtures import build_package

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
COLD = (
    "import sys, time; sys.path[:0] = {paths!r}; t = time.perf_counter(); import app; "
    "a = time.perf_counter(); from chalicelib.aws import dynamodb_client; dynamodb_client(); "
    "c = time.perf_counter(); print((a - t) * 1000, (c - t) * 1000)"
)


def _top_level(name: str) -> str:
    first = name.split("/", 1)[0]
    return first.split("-")[0].removesuffix(".py") if ".dist-info" in first or ".data" in first else first


def sizes(zip_path: Path) -> dict[str, tuple[int, int]]:
    parts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            part = parts[_top_level(info.filename)]
            part[0] += info.file_size
            part[1] += info.compress_size
    return {k: (v[0], v[1]) for k, v in parts.items()}


def cold_import(paths: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    imports, clients = [], []
    for _ in range(runs):
        out = subprocess.run(
            # -B: /var/task is read-only in Lambda, so nothing imported from the zip is ever cached as .pyc
            [sys.executable, "-I", "-S", "-B", "-c", COLD.format(paths=paths)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        imports.append(float(out[0]))
        clients.append(float(out[1]))
    return statistics.median(imports), statistics.median(clients)


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        out = tmp_path / "out"
        build_package(out)
        zip_path = out / "deployment.zip"
        parts = sizes(zip_path)
        total_c = sum(c for _, c in parts.values())
        print(f"deployment.zip: {zip_path.stat().st_size / 1e6:.2f} MB ({total_c / 1e6:.2f} MB compressed entries)")
        print("| part | unzipped KB | zipped KB | share of zip |\n|---|---:|---:|---:|")
        for name, (raw, packed) in sorted(parts.items(), key=lambda kv: -kv[1][1])[:12]:
            print(f"| {name} | {raw / 1024:.0f} | {packed / 1024:.0f} | {packed / total_c:.0%} |")
        app_raw = sum(parts[k][0] for k in ("app.py", "chalicelib") if k in parts)
        print(f"app code (app.py + chalicelib): {app_raw / 1024:.0f} KB unzipped")

        shipped = tmp_path / "shipped"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(shipped)
        lean = tmp_path / "lean"
        runtime = tmp_path / "runtime"  # stands in for /var/runtime
        shutil.copytree(shipped, lean)
        runtime.mkdir()
        for entry in list(lean.iterdir()):
            if _top_level(entry.name) in RUNTIME_PROVIDED or entry.name == "six.py":
                shutil.move(str(entry), runtime / entry.name)
        # Lambda's runtime ships its boto3/botocore compiled; the zip's files are compiled at every cold start.
        compileall.compile_dir(runtime, quiet=1)
        lean_zip = tmp_path / "lean.zip"
        shutil.make_archive(str(lean_zip.with_suffix("")), "zip", lean)
        print(f"without runtime-provided packages: {lean_zip.stat().st_size / 1e6:.2f} MB zip")
        for label, zipped in (("shipped", zip_path), ("lean", lean_zip)):
            target = tmp_path / f"unzip-{label}"
            started = time.perf_counter()
            with zipfile.ZipFile(zipped) as archive:
                archive.extractall(target)
            print(f"unzip {label}: {(time.perf_counter() - started) * 1000:.0f} ms")
        compiled = tmp_path / "compiled"  # the zip's contents with .pyc added before zipping
        shutil.copytree(shipped, compiled)
        compileall.compile_dir(compiled, quiet=1)
        compiled_zip = tmp_path / "compiled.zip"
        shutil.make_archive(str(compiled_zip.with_suffix("")), "zip", compiled)
        print(f"with .pyc precompiled into the zip: {compiled_zip.stat().st_size / 1e6:.2f} MB zip")
        for label, paths, cwd in (
            ("botocore shipped in the zip (as chalice builds it)", [str(shipped)], shipped),
            ("botocore from the runtime (precompiled there)", [str(lean), str(runtime)], lean),
            ("botocore shipped, zip precompiled", [str(compiled)], compiled),
        ):
            imported, with_client = cold_import(paths, cwd, runs)
            print(f"{label}: import app {imported:.0f} ms; + first DynamoDB client {with_client:.0f} ms")
        print(f"(medians of {runs} fresh interpreters each)")


if __name__ == "__main__":
    main()
