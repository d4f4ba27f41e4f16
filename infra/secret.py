"""The input for `aws ssm put-parameter --cli-input-json file:///dev/stdin`: a new random secret
for one stage, piped straight to the AWS CLI so it never appears in argv, a shell history or a file.

    python -m infra.secret dev signing-key [--overwrite] | aws ssm put-parameter --cli-input-json file:///dev/stdin
"""

import base64
import json
import secrets
import sys

from infra.stage_env import stage_environment

NAMES = ("signing-key", "password-pepper")  # chalicelib.secrets SIGNING_KEY_NAME, PEPPER_NAME


def generate_secret() -> str:
    """A new base64 secret, as stored in SSM or in APP_SIGNING_KEY / APP_PASSWORD_PEPPER."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def parameter_input(stage: str, name: str, overwrite: bool) -> dict:
    if name not in NAMES:
        raise SystemExit(f"unknown secret {name!r}; one of {', '.join(NAMES)}")
    prefix = stage_environment(stage)["SSM_PREFIX"].rstrip("/")
    return {
        "Name": f"{prefix}/{name}",
        "Description": f"Stride Shoes {stage} {name} (base64, 32 random bytes)",
        "Type": "SecureString",
        "Value": generate_secret(),
        "Overwrite": overwrite,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(parameter_input(argv[0], argv[1], "--overwrite" in argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
