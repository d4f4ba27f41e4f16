"""Add compiled bytecode to a Lambda deployment zip, and hand it to `chalice deploy`.

    python -m infra.precompile out/prod/deployment.zip                 (make package)
    python -m infra.precompile --for-deploy out/prod/deployment.zip    (make deploy, after make package)

`--for-deploy` puts the (already precompiled) zip where `chalice deploy` looks for its package: Chalice
names it `.chalice/deployments/<hash of requirements.txt and the app code>-python3.11.zip` and
reuses an existing file of that name instead of building one, so the deploy right after uploads
this zip, bytecode included (tests/test_package.py proves it with Chalice's own packager).

Lambda's /var/task is read-only, so Python can never cache the bytecode of what it imports from
the zip: every cold start compiles botocore, Jinja2, PynamoDB and the app from source (about 1 s
measured, docs/benchmarks.md). This writes `__pycache__/<name>.cpython-311.pyc` beside every
module, as unchecked-hash pycs: valid whatever timestamps the unzip gives the sources. It must run
on the same Python minor version as the Lambda runtime (Chalice picks the runtime from it too).
"""

import importlib.util
import py_compile
import shutil
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


def chalice_deploy_zip(project_dir: Path) -> Path:
    """The file `chalice deploy` uploads for the project as it is now (and reuses if present)."""
    from chalice.config import Config
    from chalice.deploy.packager import LambdaDeploymentPackager
    from chalice.utils import UI, OSUtils

    # Naming the file needs no dependency builder: it hashes requirements.txt and the app files.
    packager = LambdaDeploymentPackager(osutils=OSUtils(), dependency_builder=None, ui=UI())  # type: ignore[arg-type]
    return Path(packager.deployment_package_filename(str(project_dir), Config().lambda_python_version))


def install_for_chalice_deploy(zip_path: Path, project_dir: Path) -> Path:
    """Put a (precompiled) package where `chalice deploy` will take it from; returns that path."""
    target = chalice_deploy_zip(project_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(zip_path, target)
    return target


def has_bytecode(zip_path: Path) -> bool:
    with zipfile.ZipFile(zip_path) as archive:
        return any(name.endswith(".cpython-311.pyc") for name in archive.namelist())


def main(argv: list[str]) -> int:
    paths = [arg for arg in argv if arg != "--for-deploy"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    zip_path = Path(paths[0])
    if "--for-deploy" not in argv:
        print(f"precompiled {precompile(zip_path)} modules into {zip_path}")
        return 0
    if not has_bytecode(zip_path):
        print(f"{zip_path} has no bytecode: run `python -m infra.precompile {zip_path}` first", file=sys.stderr)
        return 1
    print(f"chalice deploy will upload the precompiled {zip_path}: {install_for_chalice_deploy(zip_path, Path.cwd())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
