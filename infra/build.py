"""Generate, from the models, the data layer's CloudFormation template and each stage's IAM policy.

    python -m infra.build           # rewrite infra/data.json and .chalice/policy-<stage>.json
    python -m infra.build --check   # exit 1 if a committed file is out of date

The tables come from the PynamoDB models (chalicelib.models.TABLE_MODELS): keys, attribute types,
global secondary indexes and their projections, and TTL on every model with a TTLAttribute. So the
template, `manage.py create-tables` and the code cannot disagree; tests/test_infra.py checks both.
The policies grant the actions listed below on exactly those tables and indexes: when
tests/test_iam_policy.py reports a missing action, add it to the list here and rebuild.
"""

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "data.json"
APP = "shoeshop"
# Needs the AWS::LanguageExtensions transform (intrinsic functions in DeletionPolicy).
RETAIN_IN_PROD = {"Fn::If": ["IsProd", "Retain", "Delete"]}
# chalicelib.secrets reads these (the Stripe ones optional)
PARAMETER_NAMES = ("signing-key", "password-pepper", "stripe-secret-key", "stripe-webhook-secret")


def _models() -> list[type]:
    from chalicelib.models import TABLE_MODELS

    return list(TABLE_MODELS)


def short_name(model: type) -> str:
    """Names come from the model's short name, so the build needs no bound (or any) stage."""
    from chalicelib.models import short_table_name

    return short_table_name(model)


def logical_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-")) + "Table"


def ttl_attribute(model: type) -> str | None:
    from pynamodb.attributes import TTLAttribute

    names = [attr.attr_name for attr in model.get_attributes().values() if isinstance(attr, TTLAttribute)]
    return names[0] if names else None


def table_resource(model: type) -> dict[str, Any]:
    schema = model._get_schema()
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    properties: dict[str, Any] = {
        "TableName": {"Fn::Sub": f"{APP}-${{Stage}}-{short_name(model)}"},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in sorted(definitions.items())
        ],
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": {"Fn::If": ["IsProd", True, False]},
    }
    if schema["global_secondary_indexes"]:
        properties["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _key_schema(index["key_schema"]),
                "Projection": index["projection"],
            }
            for index in sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])
        ]
    ttl = ttl_attribute(model)
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        # Prod tables also refuse deletion by API (DeletionProtectionEnabled) and are kept if the
        # stack is deleted or a change would replace them; dev tears down cleanly.
        "DeletionPolicy": RETAIN_IN_PROD,
        "UpdateReplacePolicy": RETAIN_IN_PROD,
        "Properties": properties,
    }


def _key_schema(keys: list[dict[str, str]]) -> list[dict[str, str]]:
    order = {"HASH": 0, "RANGE": 1}
    ordered = sorted(keys, key=lambda k: order[k["KeyType"]])
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def bucket_resources() -> dict[str, Any]:
    return {
        "UploadBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": RETAIN_IN_PROD,
            "UpdateReplacePolicy": RETAIN_IN_PROD,
            "Properties": {
                "BucketName": {"Fn::Sub": f"{APP}-${{Stage}}-uploads"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
                    ]
                },
                # Browsers POST uploads straight to S3 (presigned POST) from the shop's origin.
                "CorsConfiguration": {
                    "CorsRules": [
                        {
                            "AllowedOrigins": [{"Ref": "UploadOrigin"}],
                            "AllowedMethods": ["POST", "GET"],
                            "AllowedHeaders": ["*"],
                            "MaxAge": 3000,
                        }
                    ]
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            # Unverified uploads: the admin flow moves what it accepts to images/.
                            "Id": "expire-incoming",
                            "Status": "Enabled",
                            "Prefix": "incoming/",
                            "ExpirationInDays": 1,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
            },
        },
        "UploadBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "UploadBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyPlainHttp",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": ["UploadBucket", "Arn"]},
                                {"Fn::Sub": "${UploadBucket.Arn}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def build_template() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for model in _models():
        name = short_name(model)
        resources[logical_id(name)] = table_resource(model)
        outputs[logical_id(name) + "Name"] = {"Value": {"Ref": logical_id(name)}}
    resources.update(bucket_resources())
    outputs["UploadBucketName"] = {"Value": {"Ref": "UploadBucket"}}
    for parameter in PARAMETER_NAMES:
        key = "".join(p.capitalize() for p in parameter.split("-")) + "Parameter"
        outputs[key] = {
            "Description": "SecureString to create with `make secrets STAGE=...` (CloudFormation cannot)",
            "Value": {"Fn::Sub": f"/{APP}/${{Stage}}/{parameter}"},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::LanguageExtensions",
        "Description": "Stride Shoes data layer for one stage: DynamoDB tables and the upload bucket. "
        "Generated by infra/build.py from chalicelib/models; do not edit by hand.",
        "Parameters": {
            "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Description": "dev or prod"},
            "UploadOrigin": {
                "Type": "String",
                "AllowedPattern": "^https://[A-Za-z0-9.-]+(:[0-9]+)?$",
                "Description": "The shop's origin, allowed to POST uploads to the bucket "
                "(https://<api-id>.execute-api.<region>.amazonaws.com or https://shop.example.com)",
            },
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": resources,
        "Outputs": outputs,
    }


# -- IAM: what the Lambda may do (least privilege; see docs/operations.md) -------------------------
# Item actions on every table of the stage. Transactions need the per-item actions (Put/Update/
# Delete/ConditionCheckItem); there is no IAM action for TransactWriteItems itself.
TABLE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Query",
]
INDEX_ACTIONS = ["dynamodb:Query"]
# Objects under these prefixes only: uploads land in incoming/ (presigned POST = PutObject), verified
# images are written to images/ and shown through presigned GETs.
OBJECT_PREFIXES = ["incoming/", "images/"]
OBJECT_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
# The parameters are SecureStrings under the AWS managed key aws/ssm, whose key policy lets SSM decrypt
# for any principal of the account allowed ssm:GetParameters: no kms statement is needed. With a
# customer managed key, add kms:Decrypt on that key's ARN.
PARAMETER_ACTIONS = ["ssm:GetParameters"]
# The admin dashboard's low-stock count reads the stock table with a capped, filtered Scan (an admin
# route only; see docs/admin.md). No other table may be scanned.
SCANNED_TABLES = ["stock"]


def build_policy(stage: str) -> dict[str, Any]:
    tables = []
    indexes = []
    for model in _models():
        arn = f"arn:aws:dynamodb:*:*:table/{APP}-{stage}-{short_name(model)}"
        tables.append(arn)
        indexes += [f"{arn}/index/{i['index_name']}" for i in model._get_schema()["global_secondary_indexes"]]
    bucket = f"arn:aws:s3:::{APP}-{stage}-uploads"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "arn:aws:logs:*:*:*",
            },
            {"Sid": "TableItems", "Effect": "Allow", "Action": TABLE_ACTIONS, "Resource": tables},
            {"Sid": "IndexQueries", "Effect": "Allow", "Action": INDEX_ACTIONS, "Resource": sorted(indexes)},
            {
                "Sid": "AdminStockScan",
                "Effect": "Allow",
                "Action": ["dynamodb:Scan"],
                "Resource": [f"arn:aws:dynamodb:*:*:table/{APP}-{stage}-{name}" for name in SCANNED_TABLES],
            },
            {
                "Sid": "UploadsAndImages",
                "Effect": "Allow",
                "Action": OBJECT_ACTIONS,
                "Resource": [f"{bucket}/{prefix}*" for prefix in OBJECT_PREFIXES],
            },
            {
                "Sid": "Secrets",
                "Effect": "Allow",
                "Action": PARAMETER_ACTIONS,
                "Resource": [f"arn:aws:ssm:*:*:parameter/{APP}/{stage}/{name}" for name in PARAMETER_NAMES],
            },
        ],
    }


def outputs() -> dict[Path, str]:
    files = {TEMPLATE_PATH: json.dumps(build_template(), indent=2) + "\n"}
    for stage in ("dev", "prod"):
        files[ROOT / ".chalice" / f"policy-{stage}.json"] = json.dumps(build_policy(stage), indent=2) + "\n"
    return files


def main(argv: list[str]) -> int:
    stale = []
    for path, text in outputs().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `python -m infra.build`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
