"""infra/data.json (the data layer's CloudFormation) is generated from the models, creates exactly
what `manage.py create-tables` creates, matches every stage's configuration and IAM policy, and
passes cfn-lint."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import aws
from chalicelib.models import TABLE_MODELS, short_table_name
from chalicelib.secrets import PEPPER_NAME, SIGNING_KEY_NAME, STRIPE_SECRET_KEY_NAME, STRIPE_WEBHOOK_SECRET_NAME
from tests.iam_policy import STAGES, allows, load_policy, stage_env

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / "infra" / "data.json").read_text())
BIN = Path(sys.executable).parent


def _tables(stage: str) -> dict[str, dict]:
    """Table name in `stage` -> the template's table properties."""
    found = {}
    for resource in TEMPLATE["Resources"].values():
        if resource["Type"] == "AWS::DynamoDB::Table":
            name = resource["Properties"]["TableName"]["Fn::Sub"].replace("${Stage}", stage)
            found[name] = resource["Properties"]
    return found


def _bucket() -> dict:
    return TEMPLATE["Resources"]["UploadBucket"]["Properties"]


def test_committed_template_and_policies_are_what_the_generator_builds_from_the_models():
    # The command `make infra` runs; names come from the models' short names, so no stage is needed.
    result = subprocess.run(
        [sys.executable, "-m", "infra.build", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _normalised(description: dict, ttl: str | None) -> dict:
    return {
        "keys": description["KeySchema"],
        "attributes": sorted(description["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "indexes": sorted(
            (
                {
                    "IndexName": index["IndexName"],
                    "KeySchema": index["KeySchema"],
                    "Projection": index["Projection"],
                }
                for index in description.get("GlobalSecondaryIndexes", [])
            ),
            key=lambda i: i["IndexName"],
        ),
        "on_demand": description.get("BillingMode", description.get("BillingModeSummary", {}).get("BillingMode"))
        == "PAY_PER_REQUEST",
        "ttl": ttl,
        "stream": description.get("StreamSpecification", {}).get("StreamViewType"),
    }


def test_template_tables_are_exactly_what_create_tables_creates():
    """conftest created the tables with devtools/tables.py create_tables(); describe what exists."""
    client = aws.dynamodb_client()
    template_tables = _tables("test")
    assert set(template_tables) == {model.Meta.table_name for model in TABLE_MODELS}
    for model in TABLE_MODELS:
        name = model.Meta.table_name
        created = client.describe_table(TableName=name)["Table"]
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        created_ttl = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None
        template = template_tables[name]
        template_ttl = template.get("TimeToLiveSpecification", {}).get("AttributeName")
        assert _normalised(template, template_ttl) == _normalised(created, created_ttl), name


def test_streamed_tables_have_new_and_old_image_streams_whose_arns_the_stack_exports():
    from chalicelib.models import STREAMED_MODELS

    streamed = {short_table_name(model) for model in STREAMED_MODELS}
    assert {"shoes", "stock", "orders"} <= streamed
    for name, properties in _tables("prod").items():
        short = name.removeprefix("shoeshop-prod-")
        expected = {"StreamViewType": "NEW_AND_OLD_IMAGES"} if short in streamed else None
        assert properties.get("StreamSpecification") == expected, short
    exports = {
        output["Export"]["Name"]["Fn::Sub"]: output["Value"]
        for output in TEMPLATE["Outputs"].values()
        if "Export" in output
    }
    for short in streamed:
        logical = next(
            key
            for key, resource in TEMPLATE["Resources"].items()
            if resource["Type"] == "AWS::DynamoDB::Table"
            and resource["Properties"]["TableName"]["Fn::Sub"].endswith(f"-{short}")
        )
        export = "${AWS::StackName}-" + logical.removesuffix("Table") + "StreamArn"
        assert exports[export] == {"Fn::GetAtt": [logical, "StreamArn"]}, short


def test_the_packaged_stream_functions_import_those_exports_and_set_aside_poison_records():
    """infra/merge.json (generated part): each stream function's event source reads its table's
    exported stream, retries a few times, bisects, reports item failures and sends to the DLQ."""
    from chalicelib.models import STREAMED_MODELS
    from chalicelib.stream_handler import function_name
    from infra.build import STREAM_MAX_RETRIES, logical_id

    merge = json.loads((ROOT / "infra" / "merge.json").read_text())
    assert merge["Parameters"]["Stage"]["AllowedValues"] == ["dev", "prod"]
    queue = merge["Resources"]["StreamDeadLetterQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["QueueName"] == {"Fn::Sub": "shoeshop-${Stage}-stream-dead-letters"}
    for model in STREAMED_MODELS:
        short = short_table_name(model)
        cfn = "".join(part.capitalize() for part in function_name(short).split("_"))
        (event,) = merge["Resources"][cfn]["Properties"]["Events"].values()
        properties = event["Properties"]
        export = f"shoeshop-${{Stage}}-data-{logical_id(short).removesuffix('Table')}StreamArn"
        assert properties["Stream"] == {"Fn::ImportValue": {"Fn::Sub": export}}
        assert properties["BisectBatchOnFunctionError"] is True
        assert properties["MaximumRetryAttempts"] == STREAM_MAX_RETRIES
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert properties["DestinationConfig"]["OnFailure"] == {
            "Type": "SQS",
            "Destination": {"Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]},
        }
        assert merge["Resources"][f"{cfn}LogGroup"]["Properties"]["RetentionInDays"] == 30


def test_sessions_and_carts_expire_by_ttl():
    tables = _tables("prod")
    assert tables["shoeshop-prod-sessions"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert tables["shoeshop-prod-carts"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_the_outbox_table_is_streamed_with_both_images_in_the_template_and_locally():
    """The sender reads the outbox's stream: without it no email would ever leave."""
    assert _tables("prod")["shoeshop-prod-outbox"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert TEMPLATE["Outputs"]["OutboxStreamArn"]["Value"] == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}
    created = aws.dynamodb_client().describe_table(TableName="shoeshop-test-outbox")["Table"]
    assert created["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_every_table_is_on_demand_with_point_in_time_recovery_and_prod_deletion_protection():
    assert TEMPLATE["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    for resource in TEMPLATE["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
        assert resource["DeletionPolicy"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}


def test_bucket_blocks_public_access_encrypts_allows_the_upload_origin_and_expires_incoming():
    bucket = _bucket()
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    cors = bucket["CorsConfiguration"]["CorsRules"]
    assert cors[0]["AllowedOrigins"] == [{"Ref": "UploadOrigin"}] and "POST" in cors[0]["AllowedMethods"]
    expiry, exports = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["Prefix"] == "incoming/" and expiry["ExpirationInDays"] == 1 and expiry["Status"] == "Enabled"
    assert exports["Prefix"] == "exports/" and exports["ExpirationInDays"] == 2 and exports["Status"] == "Enabled"


@pytest.mark.parametrize("stage", STAGES)
def test_template_names_match_the_stage_configuration(stage):
    env = stage_env(stage)
    short_names = {short_table_name(model) for model in TABLE_MODELS}
    assert set(_tables(stage)) == {env["TABLE_PREFIX"] + short for short in short_names}
    assert _bucket()["BucketName"]["Fn::Sub"].replace("${Stage}", stage) == env["UPLOAD_BUCKET"]
    parameters = {
        output["Value"]["Fn::Sub"].replace("${Stage}", stage)
        for key, output in TEMPLATE["Outputs"].items()
        if key.endswith("Parameter")
    }
    names = (SIGNING_KEY_NAME, PEPPER_NAME, STRIPE_SECRET_KEY_NAME, STRIPE_WEBHOOK_SECRET_NAME)
    assert parameters == {f"{env['SSM_PREFIX']}/{name}" for name in names}


@pytest.mark.parametrize("stage", STAGES)
def test_policy_reaches_every_table_and_index_of_the_stage(stage):
    policy = load_policy(stage)
    for name, properties in _tables(stage).items():
        table_arn = f"arn:aws:dynamodb:eu-west-1:123456789012:table/{name}"
        assert allows(policy, "dynamodb:GetItem", table_arn), name
        for index in properties.get("GlobalSecondaryIndexes", []):
            assert allows(policy, "dynamodb:Query", f"{table_arn}/index/{index['IndexName']}"), index
    bucket = stage_env(stage)["UPLOAD_BUCKET"]
    assert allows(policy, "s3:PutObject", f"arn:aws:s3:::{bucket}/incoming/abc")
    assert not allows(policy, "s3:PutObject", f"arn:aws:s3:::{bucket}/elsewhere/abc")


def test_data_template_passes_cfn_lint():
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(ROOT / "infra" / "data.json")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_fails_a_broken_template(tmp_path):
    broken = json.loads(json.dumps(TEMPLATE))
    broken["Resources"]["UploadBucket"]["Properties"]["NoSuchProperty"] = True
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([str(BIN / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "NoSuchProperty" in result.stdout


def test_make_deploy_gets_each_stream_arn_from_the_data_stack_outputs():
    from infra.stream_arns import stream_arns

    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/shoeshop-dev-{}/stream/2026-12-01T00:00:00.000"
    outputs = [
        {"OutputKey": "ShoesStreamArn", "OutputValue": arn.format("shoes")},
        {"OutputKey": "StockStreamArn", "OutputValue": arn.format("stock")},
        {"OutputKey": "OrdersStreamArn", "OutputValue": arn.format("orders")},
        {"OutputKey": "OutboxStreamArn", "OutputValue": arn.format("outbox")},
        {"OutputKey": "ReviewsStreamArn", "OutputValue": arn.format("reviews")},
        {"OutputKey": "ShoesTableName", "OutputValue": "shoeshop-dev-shoes"},
    ]
    assert stream_arns("dev", outputs) == {
        "STREAM_ARN_SHOES": arn.format("shoes"),
        "STREAM_ARN_STOCK": arn.format("stock"),
        "STREAM_ARN_ORDERS": arn.format("orders"),
        "STREAM_ARN_OUTBOX": arn.format("outbox"),
        "STREAM_ARN_REVIEWS": arn.format("reviews"),
    }
    with pytest.raises(SystemExit, match="no output OrdersStreamArn: run `make deploy-data STAGE=dev` first"):
        stream_arns("dev", outputs[:2])
