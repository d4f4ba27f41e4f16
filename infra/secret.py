"""The input for `aws ssm put-parameter --cli-input-json file:///dev/stdin`: a new random secret
for one stage, piped straight to the AWS CLI so it never appears in argv, a shell history or a file.

    python -m infra.secret dev signing-key [--overwrite] | aws ssm put-parameter --cli-input-json file:///dev/stdin

Rotation reads the current signing-key value on stdin and keeps its newest key after the new one
("new,previous"), so tokens signed a minute before the rotation still verify:

    aws ssm get-parameter ... | python -m infra.secret dev signing-key --rotate | aws ssm put-parameter ...

The Stripe keys are not generated: they come from the Stripe dashboard (Developers > API keys, and
the webhook endpoint's signing secret). `--ask` reads one without echo from the terminal; an empty
answer skips it (exit 3), and the stage then offers no card payments:

    python -m infra.secret dev stripe-secret-key --ask | aws ssm put-parameter --cli-input-json file:///dev/stdin
"""

import base64
import binascii
import json
import secrets
import sys

from infra.stage_env import stage_environment

NAMES = ("signing-key", "password-pepper")  # chalicelib.secrets SIGNING_KEY_NAME, PEPPER_NAME
# chalicelib.secrets STRIPE_SECRET_KEY_NAME, STRIPE_WEBHOOK_SECRET_NAME: asked for, never generated
STRIPE_NAMES = {"stripe-secret-key": ("sk_", "rk_"), "stripe-webhook-secret": ("whsec_",)}
SKIPPED = 3
ROTATABLE = ("signing-key",)  # the pepper never rotates: every password hash depends on it
KEY_SEPARATOR = ","  # chalicelib.secrets.KEY_SEPARATOR: signing keys, newest first
KEPT_KEYS = 2  # the new key and the previous one


def generate_secret() -> str:
    """A new base64 secret, as stored in SSM or in APP_SIGNING_KEY / APP_PASSWORD_PEPPER (a valid
    initial value for every name: a signing-key list of one key)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def rotated_value(current: str) -> str:
    """A new key first, then the newest key of the current value; older keys are dropped."""
    previous = [part.strip() for part in current.strip().split(KEY_SEPARATOR) if part.strip()]
    if not previous:
        raise SystemExit("no current signing-key value on stdin; nothing was changed")
    for part in previous:
        try:
            base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            raise SystemExit("the current signing-key value is not base64 keys; nothing was changed") from None
    return KEY_SEPARATOR.join([generate_secret(), *previous][:KEPT_KEYS])


def parameter_input(stage: str, name: str, overwrite: bool, value: str | None = None) -> dict:
    if name not in NAMES and name not in STRIPE_NAMES:
        raise SystemExit(f"unknown secret {name!r}; one of {', '.join([*NAMES, *STRIPE_NAMES])}")
    prefix = stage_environment(stage)["SSM_PREFIX"].rstrip("/")
    kind = "from the Stripe dashboard" if name in STRIPE_NAMES else "base64 32-byte keys, newest first"
    return {
        "Name": f"{prefix}/{name}",
        "Description": f"Stride Shoes {stage} {name} ({kind})",
        "Type": "SecureString",
        "Value": value if value is not None else generate_secret(),
        "Overwrite": overwrite,
    }


def stripe_value(name: str, answer: str) -> str | None:
    """The pasted key, checked for the kind of key it must be; None when skipped."""
    value = answer.strip()
    if not value:
        return None
    if not value.startswith(STRIPE_NAMES[name]):
        raise SystemExit(f"{name} must start with {' or '.join(STRIPE_NAMES[name])}; nothing was stored")
    return value


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    stage, name = argv[0], argv[1]
    if name in STRIPE_NAMES:
        import getpass

        if not sys.stdin.isatty():
            return SKIPPED  # nothing to ask (CI, a pipe): the key is left for a terminal session
        value = stripe_value(name, getpass.getpass(f"{name} for {stage} (empty: skip): "))
        if value is None:
            return SKIPPED
        print(json.dumps(parameter_input(stage, name, "--overwrite" in argv, value)))
        return 0
    if "--rotate" in argv:
        if name not in ROTATABLE:
            raise SystemExit(f"{name} cannot be rotated; only {', '.join(ROTATABLE)}")
        print(json.dumps(parameter_input(stage, name, True, rotated_value(sys.stdin.read()))))
        return 0
    print(json.dumps(parameter_input(stage, name, "--overwrite" in argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
