"""The hand-written IAM policies grant what the code uses, scoped to the stage's own resources.

Operations are discovered two ways: recorded at run time (tests/aws_operations.py wraps botocore for
the whole test session, so every other engineer's tests feed it), and read statically from the code
(boto3 client calls, presigned URLs/POSTs, PynamoDB class calls and transactions). When a check fails,
the message names the stage's policy file, the action, the ARN and the line of code that needs it:
add the action (or prefix) to the lists in infra/build.py and run `python -m infra.build`, which
rewrites .chalice/policy-dev.json and policy-prod.json (tables and indexes come from the models).
"""

import pytest

from tests import aws_operations
from tests.aws_operations import Need
from tests.iam_policy import (
    STAGES,
    allows,
    granted_actions,
    load_policy,
    missing_grants,
    policy_functions,
    stage_env,
    static_actions,
    wildcard_problems,
)
from tests.journeys import run_journey


@pytest.mark.parametrize("stage", STAGES)
def test_policy_has_no_wildcard_action_or_resource_except_logs(stage):
    for function in policy_functions(stage):
        assert wildcard_problems(load_policy(stage, function)) == [], function or "API"


def test_wildcard_check_catches_broad_grants():
    broad = {
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/x"},
            {"Sid": "B", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "C", "Effect": "Allow", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:*:*:table/*"},
            {"Sid": "D", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
            {
                "Sid": "E",
                "Effect": "Allow",
                "Action": "dynamodb:GetRecords",
                "Resource": "arn:aws:dynamodb:*:*:table/*/stream/*",
            },
        ]
    }
    problems = wildcard_problems(broad)
    assert len(problems) == 5, problems
    one_stream = "arn:aws:dynamodb:*:*:table/shoeshop-dev-shoes/stream/*"
    assert (
        wildcard_problems({"Statement": [{"Effect": "Allow", "Action": "dynamodb:GetRecords", "Resource": one_stream}]})
        == []
    )


@pytest.mark.parametrize("stage", STAGES)
def test_policy_names_only_this_stages_resources(stage):
    env = stage_env(stage)
    other = {"dev": "prod", "prod": "dev"}[stage]
    text = str(load_policy(stage))
    assert env["TABLE_PREFIX"] in text and env["UPLOAD_BUCKET"] in text and env["SSM_PREFIX"].strip("/") in text
    assert f"shoeshop-{other}-" not in text and f"/shoeshop/{other}/" not in text


def test_dev_and_prod_policies_differ_only_in_stage_names():
    assert policy_functions("dev") == policy_functions("prod")
    for function in policy_functions("dev"):
        dev = str(load_policy("dev", function)).replace("shoeshop-dev-", "STAGE-").replace("shoeshop/dev/", "STAGE/")
        prod = (
            str(load_policy("prod", function)).replace("shoeshop-prod-", "STAGE-").replace("shoeshop/prod/", "STAGE/")
        )
        assert dev == prod, function


@pytest.mark.parametrize("stage", STAGES)
def test_each_stream_function_has_its_own_policy_reading_only_its_own_stream(stage):
    from chalicelib.models import STREAMED_MODELS, short_table_name
    from chalicelib.stream_handler import function_name

    tables = [short_table_name(model) for model in STREAMED_MODELS]
    assert policy_functions(stage) == ["", *sorted(function_name(table) for table in tables)]
    for table in tables:
        policy = load_policy(stage, function_name(table))
        stream = (
            f"arn:aws:dynamodb:eu-west-1:123456789012:table/shoeshop-{stage}-{table}/stream/2026-12-01T00:00:00.000"
        )
        for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
            assert allows(policy, action, stream), (table, action)
        others = [other for other in tables if other != table]
        assert not any(allows(policy, "dynamodb:GetRecords", stream.replace(f"-{table}/", f"-{o}/")) for o in others)
        dead_letters = f"arn:aws:sqs:eu-west-1:123456789012:shoeshop-{stage}-stream-dead-letters"
        assert allows(policy, "sqs:SendMessage", dead_letters)
        # Nothing of the web app's: no users, sessions, uploads or secrets.
        assert not allows(
            policy, "dynamodb:GetItem", f"arn:aws:dynamodb:eu-west-1:123456789012:table/shoeshop-{stage}-users"
        )
        assert not allows(policy, "s3:GetObject", f"arn:aws:s3:::shoeshop-{stage}-uploads/images/a.webp")
        text = str(policy)
        assert "ssm:" not in text and "s3:" not in text
    assert not any(
        allows(load_policy(stage, function_name("orders")), "dynamodb:PutItem", f"arn:aws:dynamodb:*:*:table/{name}")
        for name in (f"shoeshop-{stage}-catalogue-index", f"shoeshop-{stage}-orders")
    )  # no consumer of the orders stream yet: it may touch no table


def test_stream_functions_calls_on_drained_records_are_granted_by_their_own_policies(web, drain_streams):
    """Admin changes and an order, then each table's records through the real handler, recording
    what the handler calls; each stream function's own policy must grant it."""
    from chalicelib.services import cart, catalogue_index, checkout, products
    from chalicelib.stream_handler import function_name
    from tests.factories import ADDRESS, ADMIN, make_user, shoe_via_admin

    shoe = shoe_via_admin({"42": 1, "43": 3})
    products.set_stock(shoe.shoe_id, "43", 2, None, ADMIN)
    user = make_user("alice")
    checkout.save_address(user, checkout.clean_address(ADDRESS))
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    checkout.place_order(user, "key-iam-00000001")
    by_table: dict[str, list] = {}
    for record in drain_streams.read():
        table = record["eventSourceARN"].split(":table/shoeshop-test-", 1)[1].split("/stream/", 1)[0]
        by_table.setdefault(table, []).append(record)
    assert set(by_table) == {"shoes", "stock", "orders"}
    for table, records in sorted(by_table.items()):
        with aws_operations.recording() as needs:
            assert drain_streams.deliver(records) == []
        if table in ("shoes", "stock"):
            assert needs, table  # the read model was brought up to date
        for stage in STAGES:
            assert missing_grants(needs, stage, function_name(table)) == [], table
    assert catalogue_index.current(force=True).card(shoe.shoe_id).sizes_in_stock == ("43",)


@pytest.mark.parametrize("stage", STAGES)
def test_missing_action_is_reported_by_name(stage):
    scan = Need("dynamodb:Scan", "dynamodb", "shoeshop-test-shoes", "chalicelib/services/x.py:1 in f")
    unknown_index = Need("dynamodb:Query", "dynamodb", "shoeshop-test-shoes/index/by-brand", "x.py:2 in g")
    other_bucket = Need("s3:GetObject", "s3", "someone-elses-bucket/a.jpg", "x.py:3 in h")
    problems = missing_grants([scan, unknown_index, other_bucket], stage)
    assert any(
        f"policy-{stage}.json lacks dynamodb:Scan on arn:aws:dynamodb:" in p
        and f"table/shoeshop-{stage}-shoes (called from chalicelib/services/x.py:1 in f)" in p
        for p in problems
    ), problems
    assert any("index/by-brand" in p for p in problems), problems
    assert any("someone-elses-bucket" in p and "not one of the stage's" in p for p in problems), problems


def test_static_scan_finds_the_code_operations_it_knows():
    found = static_actions()
    # registration and account deletion are transactions; deleting a cart is a batch write over a query
    for action in (
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "s3:PutObject",
        "ssm:GetParameters",
    ):
        assert action in found, sorted(found)


@pytest.mark.parametrize("stage", STAGES)
def test_every_action_in_the_code_text_is_granted(stage):
    granted = {action.lower() for action in granted_actions(load_policy(stage))}
    missing = {action: sorted(places) for action, places in static_actions().items() if action.lower() not in granted}
    assert not missing, f"policy-{stage}.json lacks these actions the code uses (add them in infra/build.py): {missing}"


def test_journey_operations_are_granted(web, other_web):
    run_journey(web, other_web)
    needs = aws_operations.recorded()
    actions = {need.action for need in needs}
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= actions, actions
    for stage in STAGES:
        assert missing_grants(needs, stage) == []


def test_presigned_urls_count_as_the_operation_they_stand_for():
    from chalicelib.services.images import image_url

    image_url("images/shoe1/abc-thumb.webp")
    recorded = {(n.action, n.resource) for n in aws_operations.recorded()}
    assert ("s3:GetObject", "shoeshop-test-uploads/images/shoe1/abc-thumb.webp") in recorded
    assert allows(load_policy("prod"), "s3:GetObject", "arn:aws:s3:::shoeshop-prod-uploads/images/shoe1/abc-thumb.webp")
    assert not allows(load_policy("prod"), "s3:GetObject", "arn:aws:s3:::shoeshop-prod-uploads/other/x.webp")


@pytest.mark.runs_last
@pytest.mark.parametrize("stage", STAGES)
def test_every_operation_the_whole_suite_performed_is_granted(stage):
    """Runs after every other test: the union of what app code did in the suite, against the policy."""
    problems = missing_grants(aws_operations.recorded(), stage)
    assert not problems, "Add to infra/build.py and run `python -m infra.build` (or stop calling):\n" + "\n".join(
        problems
    )


def test_a_presigned_post_from_app_code_counts_as_put_object_on_its_key():
    """The admin upload flow's presigned POST: the browser's upload is a PutObject under the role."""
    from chalicelib.aws import s3_client

    # Stands in for a call made from app code: the recorder attributes calls by source file.
    snippet = "s3.generate_presigned_post(Bucket='shoeshop-test-uploads', Key='incoming/upload-1')"
    code = compile(snippet, str(aws_operations.ROOT / "chalicelib" / "uploads_example.py"), "exec")
    exec(code, {"s3": s3_client()})  # noqa: S102 - a fixed snippet
    recorded = {(n.action, n.resource) for n in aws_operations.recorded()}
    assert ("s3:PutObject", "shoeshop-test-uploads/incoming/upload-1") in recorded
    assert missing_grants([n for n in aws_operations.recorded() if n.resource.endswith("upload-1")], "prod") == []
