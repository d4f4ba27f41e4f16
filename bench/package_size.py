"""Deployment package size and cold import time of `app` from the package: plain (as `chalice
package` builds it, no bytecode), precompiled (what `make package` and `make deploy` ship), and
with botocore taken from the runtime (as Lambda's Python runtime provides boto3/botocore under
/var/runtime).

    python -m bench.package_size [--runs 7]

Builds the package as `make package` does into a temporary folder (wheels cached by Chalice), then
imports `app` in fresh interpreters (`python -I -S -B`, only the layout on sys.path), the layouts
taking turns in the same run, and reports medians. Figures go in docs/benchmarks.md, "Package size".
"""

import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def _cold_sample(paths: list[str], cwd: Path) -> tuple[float, float]:
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    out = subprocess.run(
        # -B: /var/task is read-only in Lambda, so nothing imported from the zip is ever cached as .pyc
        [sys.executable, "-I", "-S", "-B", "-c", COLD.format(paths=paths)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def cold_imports(layouts: dict[str, tuple[list[str], Path]], runs: int) -> dict[str, tuple[float, float]]:
    """Median (import app, + first DynamoDB client) per layout, the layouts interleaved."""
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in layouts}
    for paths, cwd in layouts.values():  # warm the OS file cache once
        _cold_sample(paths, cwd)
    for _ in range(runs):
        for label, (paths, cwd) in layouts.items():
            samples[label].append(_cold_sample(paths, cwd))
    return {
        label: (statistics.median(s[0] for s in taken), statistics.median(s[1] for s in taken))
        for label, taken in samples.items()
    }


def app_source_bytes(zip_path: Path) -> int:
    """Uncompressed app.py + chalicelib/ sources in the zip (bytecode excluded): the budgeted figure."""
    with zipfile.ZipFile(zip_path) as archive:
        return sum(
            info.file_size
            for info in archive.infolist()
            if (info.filename == "app.py" or info.filename.startswith("chalicelib/"))
            and "__pycache__" not in info.filename
        )


def _without_bytecode(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        out = tmp_path / "out"
        build_package(out)  # chalice package + infra/precompile, as `make package`
        zip_path = out / "deployment.zip"
        parts = sizes(zip_path)
        total_c = sum(c for _, c in parts.values())
        print(f"deployment.zip (precompiled): {zip_path.stat().st_size / 1e6:.2f} MB")
        print("| part | unzipped KB | zipped KB | share of zip |\n|---|---:|---:|---:|")
        for name, (raw, packed) in sorted(parts.items(), key=lambda kv: -kv[1][1])[:12]:
            print(f"| {name} | {raw / 1024:.0f} | {packed / 1024:.0f} | {packed / total_c:.0%} |")
        print(f"app code (app.py + chalicelib, uncompressed source): {app_source_bytes(zip_path) / 1024:.0f} KB")

        precompiled = tmp_path / "precompiled"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(precompiled)
        plain = tmp_path / "plain"  # as `chalice package` builds it, before infra/precompile
        _without_bytecode(precompiled, plain)
        plain_zip = tmp_path / "plain.zip"
        shutil.make_archive(str(plain_zip.with_suffix("")), "zip", plain)
        print(f"without the bytecode (as chalice package builds it): {plain_zip.stat().st_size / 1e6:.2f} MB zip")
        lean = tmp_path / "lean"
        runtime = tmp_path / "runtime"  # stands in for /var/runtime
        _without_bytecode(precompiled, lean)
        runtime.mkdir()
        for entry in list(lean.iterdir()):
            if _top_level(entry.name) in RUNTIME_PROVIDED or entry.name == "six.py":
                shutil.move(str(entry), runtime / entry.name)
        # Lambda's runtime ships its boto3/botocore compiled; the zip's files are compiled at every cold start.
        compileall.compile_dir(runtime, quiet=1)
        lean_zip = tmp_path / "lean.zip"
        shutil.make_archive(str(lean_zip.with_suffix("")), "zip", lean)
        print(f"without runtime-provided packages: {lean_zip.stat().st_size / 1e6:.2f} MB zip")
        medians = cold_imports(
            {
                "plain: as `chalice package` builds it (botocore in the zip, no .pyc)": ([str(plain)], plain),
                "precompiled: what `make package` / `make deploy` ship": ([str(precompiled)], precompiled),
                "botocore from the runtime (precompiled there), app not precompiled": (
                    [str(lean), str(runtime)],
                    lean,
                ),
            },
            runs,
        )
        print("| layout | `import app` | + first DynamoDB client |\n|---|---:|---:|")
        for label, (imported, with_client) in medians.items():
            print(f"| {label} | {imported:.0f} ms | {with_client:.0f} ms |")
        print(f"(medians of {runs} fresh interpreters each, layouts interleaved in one run)")


if __name__ == "__main__":
    main()
