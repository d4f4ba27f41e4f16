"""Cold import of `app` against the floor `import chalice.app, jinja2, pynamodb.models`.

Each sample is a fresh Python process timing its own imports (after the interpreter is up, as
Lambda's INIT does after the runtime starts). The two are interleaved in the same run, so the
machine's noise hits both alike; medians are reported, and their ratio.

    python -m bench.cold_import [--runs 21]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys, time
started = time.perf_counter()
{imports}
elapsed = time.perf_counter() - started
print(json.dumps({{"ms": elapsed * 1000, "boto3": "boto3" in sys.modules,
                   "pkg_resources": "pkg_resources" in sys.modules, "modules": len(sys.modules)}}))
"""

CASES = {
    "floor: import chalice.app, jinja2, pynamodb.models": "import chalice.app, jinja2, pynamodb.models",
    "import app": "import app",
}


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))}
    return env


def sample(imports: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(runs: int) -> dict[str, list[dict]]:
    for imports in CASES.values():  # warm the OS file cache and .pyc files once
        sample(imports)
    samples: dict[str, list[dict]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, imports in CASES.items():
            samples[name].append(sample(imports))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)
    samples = measure(args.runs)
    medians = {name: statistics.median(s["ms"] for s in runs) for name, runs in samples.items()}
    floor_name, app_name = list(CASES)
    print(f"Cold import, median of {args.runs} fresh processes each, interleaved (Python {sys.version.split()[0]})")
    print()
    print("| What | Median | p90 | Modules loaded | boto3 imported |")
    print("|---|---|---|---|---|")
    for name, runs in samples.items():
        times = sorted(s["ms"] for s in runs)
        p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
        print(
            f"| `{name}` | {medians[name]:.0f} ms | {p90:.0f} ms | {runs[0]['modules']} | "
            f"{'yes' if runs[0]['boto3'] else 'no'} |"
        )
    print()
    extra = medians[app_name] - medians[floor_name]
    print(f"`import app` costs {extra:+.0f} ms over the floor ({medians[app_name] / medians[floor_name]:.2f}x).")
    if samples[app_name][0]["boto3"] or samples[app_name][0]["pkg_resources"]:
        print("WARNING: `import app` pulled in boto3 or pkg_resources.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
