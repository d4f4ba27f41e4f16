"""Reading the hand-written IAM policies (.chalice/policy-<stage>.json) and checking needs against them.

Shared by tests/test_iam_policy.py and tests/test_infra.py. A test run uses its own names
(TABLE_PREFIX shoeshop-test-, ...); `stage_arn` translates a recorded resource to the ARN it has in
a deployed stage, using that stage's environment variables from .chalice/config.json.
"""

import ast
import json
import re
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any

from tests.aws_operations import Need

ROOT = Path(__file__).resolve().parent.parent
CHALICE_DIR = ROOT / ".chalice"
STAGES = ("dev", "prod")
# A deployed stage's ARNs, as IAM would evaluate them (any region and account: the policy names
# resources by name, see docs/operations.md).
SAMPLE_REGION = "eu-west-1"
SAMPLE_ACCOUNT = "123456789012"
TEST_NAMES = {"table_prefix": "shoeshop-test-", "bucket": "shoeshop-test-uploads", "ssm_prefix": "shoeshop/test/"}


@lru_cache
def chalice_config() -> dict[str, Any]:
    return json.loads((CHALICE_DIR / "config.json").read_text())


def stage_env(stage: str) -> dict[str, str]:
    config = chalice_config()
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def load_policy(stage: str, function: str = "") -> dict[str, Any]:
    """The stage's policy for the API function, or for `function` (a stream function's own)."""
    config = chalice_config()["stages"][stage]
    filename = config["lambda_functions"][function]["iam_policy_file"] if function else config["iam_policy_file"]
    return json.loads((CHALICE_DIR / filename).read_text())


def policy_functions(stage: str) -> list[str]:
    """ "" (the API function) and every function with its own policy file in the stage."""
    functions = chalice_config()["stages"][stage].get("lambda_functions", {})
    return ["", *sorted(name for name, config in functions.items() if "iam_policy_file" in config)]


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return _as_list(policy["Statement"])


def stage_arn(need: Need, stage: str) -> str | None:
    """The ARN a recorded resource has in `stage`, or None when it is not one of the stage's names."""
    env = stage_env(stage)
    if need.service == "dynamodb":
        if not need.resource.startswith(TEST_NAMES["table_prefix"]):
            return None
        name = env["TABLE_PREFIX"] + need.resource.removeprefix(TEST_NAMES["table_prefix"])
        return f"arn:aws:dynamodb:{SAMPLE_REGION}:{SAMPLE_ACCOUNT}:table/{name}"
    if need.service == "s3":
        bucket, _, key = need.resource.partition("/")
        if bucket != TEST_NAMES["bucket"]:
            return None
        return f"arn:aws:s3:::{env['UPLOAD_BUCKET']}" + (f"/{key}" if key else "")
    if need.service == "ssm":
        if not need.resource.startswith(TEST_NAMES["ssm_prefix"]):
            return None
        name = env["SSM_PREFIX"].strip("/") + "/" + need.resource.removeprefix(TEST_NAMES["ssm_prefix"])
        return f"arn:aws:ssm:{SAMPLE_REGION}:{SAMPLE_ACCOUNT}:parameter/{name}"
    return None


def allows(policy: dict[str, Any], action: str, arn: str) -> bool:
    """IAM's matching for Allow statements without conditions (the only kind these policies use)."""
    for statement in statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if any(fnmatchcase(action.lower(), a.lower()) for a in actions) and any(fnmatchcase(arn, r) for r in resources):
            return True
    return False


def missing_grants(needs: list[Need], stage: str, function: str = "") -> list[str]:
    """One line per need the stage's policy (of `function`: see load_policy) does not grant,
    naming the action, ARN and caller."""
    policy = load_policy(stage, function)
    filename = f"policy-{stage}.json" if not function else f"{function}'s policy in {stage}"
    problems = []
    for need in sorted(needs, key=lambda n: (n.action, n.resource)):
        arn = stage_arn(need, stage)
        if arn is None:
            problems.append(
                f"{need.action} on {need.service} resource {need.resource!r}, which is not one of the "
                f"stage's tables, bucket or parameters (called from {need.where})"
            )
        elif not allows(policy, need.action, arn):
            problems.append(f"{filename} lacks {need.action} on {arn} (called from {need.where})")
    return sorted(set(problems))


# -- wildcards -----------------------------------------------------------------------------------
S3_PREFIX_WILDCARD = re.compile(r"^arn:aws:s3:::[a-z0-9.-]+/[A-Za-z0-9_.-]+/\*$")
NAMED_ARN = re.compile(r"^arn:aws:(dynamodb|ssm|sqs):(\*|[a-z0-9-]+):(\*|\d{12}):[^*]+$")
# A table's stream: its label (a timestamp) is chosen by DynamoDB when the stream is enabled.
STREAM_ARN = re.compile(r"^arn:aws:dynamodb:(\*|[a-z0-9-]+):(\*|\d{12}):table/[^*/]+/stream/\*$")


def wildcard_problems(policy: dict[str, Any]) -> list[str]:
    """Wildcard actions anywhere; wildcard resources except in a logs-only statement. Allowed shapes:
    DynamoDB and SSM ARNs naming one resource (region and account may be `*`), and S3 object ARNs
    under one named prefix (`bucket/prefix/*`)."""
    problems = []
    for statement in statements(policy):
        actions = _as_list(statement.get("Action", []))
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"statement {statement.get('Sid')} uses NotAction/NotResource")
        for action in actions:
            if "*" in action or "?" in action:
                problems.append(f"wildcard action {action!r} in statement {statement.get('Sid')}")
        logs_only = all(action.startswith("logs:") for action in actions)
        if logs_only:
            continue
        for resource in _as_list(statement.get("Resource", [])):
            if not (NAMED_ARN.match(resource) or S3_PREFIX_WILDCARD.match(resource) or STREAM_ARN.match(resource)):
                problems.append(f"wildcard or unscoped resource {resource!r} in statement {statement.get('Sid')}")
    return problems


# -- static scan of the code ---------------------------------------------------------------------
PYNAMODB_CLASS_CALLS = {
    "get": "dynamodb:GetItem",
    "batch_get": "dynamodb:BatchGetItem",
    "batch_write": "dynamodb:BatchWriteItem",
    "query": "dynamodb:Query",
    "count": "dynamodb:Query",
    "scan": "dynamodb:Scan",
}
TRANSACTION_CALLS = {
    "save": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "condition_check": "dynamodb:ConditionCheckItem",
    "get": "dynamodb:GetItem",
}


@lru_cache
def _client_operations(service: str) -> dict[str, str]:
    """snake_case method name -> API operation name, from botocore's own service model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def _model_names() -> set[str]:
    import chalicelib.models as models

    return {model.__name__ for model in models.ALL_MODELS}


def _s3_action(operation: str) -> str:
    from tests.aws_operations import S3_ACTIONS

    return "s3:DeleteObject" if operation == "DeleteObjects" else S3_ACTIONS.get(operation, f"s3:{operation}")


def static_actions() -> dict[str, set[str]]:
    """IAM actions the code's text implies, with where each is used.

    Catches boto3 client calls (`s3_client().put_object`, presigned URL/POST) and PynamoDB class-level
    calls (`Shoe.query`, `Stock.batch_get`, `Shoe.by_price.query`, transactions) even in code no test
    exercises yet. Instance calls (`shoe.save()`) are left to the runtime recording."""
    found: dict[str, set[str]] = {}
    model_names = _model_names()
    files = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        transaction_names = {
            item.optional_vars.id
            for node in ast.walk(tree)
            if isinstance(node, ast.With)
            for item in node.items
            if isinstance(item.optional_vars, ast.Name)
            and isinstance(item.context_expr, ast.Call)
            and ast.unparse(item.context_expr.func).split(".")[-1] in ("TransactWrite", "TransactGet")
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method = node.func.attr
            receiver = ast.unparse(node.func.value)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            for action in _actions_for_call(method, receiver, node, transaction_names, model_names):
                found.setdefault(action, set()).add(where)
    return found


def _actions_for_call(
    method: str, receiver: str, node: ast.Call, transaction_names: set[str], model_names: set[str]
) -> list[str]:
    head = receiver.split(".")[0].split("(")[0]
    if method == "generate_presigned_post":
        return ["s3:PutObject"]
    if method == "generate_presigned_url" and node.args and isinstance(node.args[0], ast.Constant):
        return [_s3_action(_client_operations("s3").get(node.args[0].value, node.args[0].value))]
    if head in transaction_names and method in TRANSACTION_CALLS:
        return [TRANSACTION_CALLS[method]]
    if head in model_names and method in PYNAMODB_CLASS_CALLS:
        return [PYNAMODB_CLASS_CALLS[method]]
    lowered = receiver.lower()
    for service in ("s3", "ssm", "dynamodb"):
        if service in lowered and method in _client_operations(service):
            operation = _client_operations(service)[method]
            return [_s3_action(operation)] if service == "s3" else [f"{service}:{operation}"]
    return []


def granted_actions(policy: dict[str, Any]) -> set[str]:
    return {action for statement in statements(policy) for action in _as_list(statement.get("Action", []))}
