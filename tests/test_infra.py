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


def test_sessions_and_carts_expire_by_ttl():
    tables = _tables("prod")
    assert tables["shoeshop-prod-sessions"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert tables["shoeshop-prod-carts"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


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
    (expiry,) = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["Prefix"] == "incoming/" and expiry["ExpirationInDays"] == 1 and expiry["Status"] == "Enabled"


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
