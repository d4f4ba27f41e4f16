"""ruff (lint and format) and bandit run with the suite, so CI fails on either."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean():
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_finds_no_high_severity_issue():
    result = _run(
        str(BIN / "bandit"), "-q", "-lll", "-c", "pyproject.toml", "-r", "app.py", "chalicelib", "devtools", "manage.py"
    )
    assert result.returncode == 0, result.stdout + result.stderr
