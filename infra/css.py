"""Build step: minify the stylesheets in styles/ (the sources you edit) into chalicelib/static/css/
(what ships and is served at content-hashed URLs). `make css`; `--check` fails when out of date.

shop.css is every page's; admin.css only the back office's (admin/base.html loads it after shop.css).
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "styles"
OUTPUT = ROOT / "chalicelib" / "static" / "css"
STYLESHEETS = ("shop.css", "admin.css")

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SPACE = re.compile(r"\s+")
# Spaces around these never matter. Not ":" (".nav :focus" differs from ".nav:focus") and not
# "+"/"-" (calc() needs them).
_AROUND = re.compile(r"\s*([{};,>])\s*")


def minify(css: str) -> str:
    """Comments and layout whitespace out; our stylesheets have no strings or url() with spaces."""
    text = _SPACE.sub(" ", _COMMENT.sub("", css))
    text = _AROUND.sub(r"\1", text)
    text = re.sub(r":\s+", ":", text)  # after a colon (declarations, media features) a space never matters
    return text.replace(";}", "}").strip() + "\n"


def built() -> dict[Path, str]:
    return {OUTPUT / name: minify((SOURCES / name).read_text(encoding="utf-8")) for name in STYLESHEETS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Minify styles/*.css into chalicelib/static/css/.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a built stylesheet is out of date")
    args = parser.parse_args(argv)
    stale = [path for path, text in built().items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run `make css`", file=sys.stderr)
        return 1 if stale else 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for path, text in built().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
