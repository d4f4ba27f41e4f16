"""Add compiled bytecode to a Lambda deployment zip.

    python -m infra.precompile out/prod/deployment.zip

Lambda's /var/task is read-only, so Python can never cache the bytecode of what it imports from
the zip: every cold start compiles botocore, Jinja2, PynamoDB and the app from source (about 1 s
measured, docs/benchmarks.md). This writes `__pycache__/<name>.cpython-311.pyc` beside every
module, as unchecked-hash pycs: valid whatever timestamps the unzip gives the sources. It must run
on the same Python minor version as the Lambda runtime (Chalice picks the runtime from it too).
"""

import importlib.util
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path


def precompile(zip_path: Path) -> int:
    """Rewrite the zip with a .pyc for every .py; returns how many modules were compiled."""
    compiled = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
            originals = {info.filename: info for info in archive.infolist()}
        for source in sorted(root.rglob("*.py")):
            target = Path(importlib.util.cache_from_source(str(source)))
            try:
                py_compile.compile(
                    str(source),
                    cfile=str(target),
                    dfile=str(source.relative_to(root)),
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
                compiled += 1
            except py_compile.PyCompileError:
                continue  # a file that is never imported (templates, py2-only samples): skip it
        rebuilt = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    name = str(path.relative_to(root))
                    original = originals.get(name)
                    info = zipfile.ZipInfo(name, date_time=original.date_time if original else (1980, 1, 1, 0, 0, 0))
                    info.external_attr = original.external_attr if original else 0o644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())
        rebuilt.replace(zip_path)
    return compiled


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    count = precompile(Path(argv[0]))
    print(f"precompiled {count} modules into {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
