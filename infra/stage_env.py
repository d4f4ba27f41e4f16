"""Run a command with a deployed stage's environment variables from .chalice/config.json, so
operator commands (manage.py create-admin, create-tables) use that stage's tables and SSM secrets.

    python -m infra.stage_env prod python manage.py create-admin --username ada --email ada@example.com

AWS credentials and region come from your usual AWS configuration (AWS_PROFILE, AWS_REGION).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage not in config["stages"]:
        raise SystemExit(f"unknown stage {stage!r}; one of {', '.join(config['stages'])}")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    env = {**os.environ, **stage_environment(argv[0])}
    # A stage's commands must reach real AWS, never a local moto server left in the environment.
    env.pop("AWS_ENDPOINT_URL", None)
    os.execvpe(argv[1], argv[1:], env)  # noqa: S606 - the operator's own command line
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
