"""Generate, from the models, the data layer's CloudFormation template and each stage's IAM policies.

    python -m infra.build           # rewrite infra/data.json, .chalice/policy-<stage>*.json, the
                                    # stream functions' entries in .chalice/config.json and infra/merge.json
    python -m infra.build --check   # exit 1 if a committed file is out of date

The tables come from the PynamoDB models (chalicelib.models.TABLE_MODELS): keys, attribute types,
global secondary indexes and their projections, and TTL on every model with a TTLAttribute. So the
template, `manage.py create-tables` and the code cannot disagree; tests/test_infra.py checks both.
The policies grant the actions listed below on exactly those tables and indexes: when
tests/test_iam_policy.py reports a missing action, add it to the list here and rebuild.

Streams: every model in chalicelib.models.STREAMED_MODELS gets a stream (NEW_AND_OLD_IMAGES) whose
ARN the data stack exports, and a stream Lambda (`<table>_stream` in app.py) with its own policy:
read its stream, send to the dead-letter queue, and the table actions its consumers (registered in
chalicelib.wiring.STREAM_CONSUMERS) declare in CONSUMER_ACCESS below.
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


def _streamed_models() -> list[type]:
    from chalicelib.models import STREAMED_MODELS

    return list(STREAMED_MODELS)


def _stream_view_type() -> str:
    from chalicelib.models import STREAM_VIEW_TYPE

    return STREAM_VIEW_TYPE


def streamed_tables() -> list[str]:
    return [short_name(model) for model in _streamed_models()]


def stream_export_suffix(table: str) -> str:
    """The data stack exports each stream's ARN as `<stack name>-<this>` (shoeshop-dev-data-ShoesStreamArn)."""
    return logical_id(table).removesuffix("Table") + "StreamArn"


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
    if model in _streamed_models():
        properties["StreamSpecification"] = {"StreamViewType": _stream_view_type()}
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
                        },
                        {"Id": "expire-exports", "Status": "Enabled", "Prefix": "exports/", "ExpirationInDays": 2},
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
        if model in _streamed_models():
            # The packaged app template imports these (infra/merge.json); `make deploy` reads them.
            outputs[stream_export_suffix(name)] = {
                "Description": f"The {name} table's stream, read by the {name}_stream Lambda",
                "Value": {"Fn::GetAtt": [logical_id(name), "StreamArn"]},
                "Export": {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{stream_export_suffix(name)}"}},
            }
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
# CSV exports of orders go to exports/ (written by the app, fetched by a presigned GET, expire in 2 days).
OBJECT_PREFIXES = ["incoming/", "images/", "exports/"]
OBJECT_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
# The parameters are SecureStrings under the AWS managed key aws/ssm, whose key policy lets SSM decrypt
# for any principal of the account allowed ssm:GetParameters: no kms statement is needed. With a
# customer managed key, add kms:Decrypt on that key's ARN.
PARAMETER_ACTIONS = ["ssm:GetParameters"]
# The outbox's sender sends as the stage's address (its domain is the verified SES identity) through
# the stage's configuration set (bounces and complaints go to SNS from there): .chalice/config.json.
EMAIL_ACTIONS = ["ses:SendEmail"]
# No table is scanned by the app: the dashboard reads counters maintained from the streams.


def stage_variables(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def email_resources(stage: str) -> list[str]:
    variables = stage_variables(stage)
    domain = variables["EMAIL_FROM_ADDRESS"].rpartition("@")[2]
    resources = [f"arn:aws:ses:*:*:identity/{domain}"]
    if variables.get("SES_CONFIGURATION_SET"):
        resources.append(f"arn:aws:ses:*:*:configuration-set/{variables['SES_CONFIGURATION_SET']}")
    return resources


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


# -- stream Lambdas (app.py `<table>_stream`, chalicelib/stream_handler.py) ----------------------
STAGES = ("dev", "prod")
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]
READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
# What each stream consumer reads and writes, by table short name (indexes: "<table>/index/<name>").
# A consumer registered in chalicelib.wiring.STREAM_CONSUMERS without an entry here fails the build.
# tests/test_iam_policy.py checks these against the calls the handler really makes on drained records.
CONSUMER_ACCESS: dict[str, dict[str, list[str]]] = {
    "chalicelib.services.catalogue_index.apply_changes": {
        # The affected shoes and their offered sizes' stock, re-read consistently per shard.
        "shoes": ["dynamodb:BatchGetItem"],
        "stock": ["dynamodb:BatchGetItem"],
        "catalogue-index": READ + WRITE,
    },
    # Claims, marks and suppresses messages (SES: EMAIL_SENDERS below, on the outbox's function only).
    "chalicelib.services.mailer.send_changes": {
        "outbox": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    },
    # Per subscriber one transaction: delete it, count it out, put its email in the outbox.
    "chalicelib.services.back_in_stock.on_stock_changes": {
        "shoes": ["dynamodb:GetItem"],
        "restock-subscriptions": ["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"],
        "outbox": ["dynamodb:PutItem"],
    },
    # The dashboard's tallies: marker GetItem + TransactWriteItems (a Put and ADD Updates).
    "chalicelib.services.dashboard.on_order_changes": {
        "counters": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    },
    # Return reasons per shoe and size: the same tally (marker GetItem + TransactWriteItems).
    "chalicelib.services.return_reasons.on_order_changes": {
        "counters": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    },
    "chalicelib.services.dashboard.on_stock_changes": {
        "counters": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "stock": ["dynamodb:GetItem"],
        "shoes": ["dynamodb:GetItem"],
    },
    "chalicelib.services.dashboard.on_shoe_changes": {
        "counters": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "stock": ["dynamodb:GetItem", "dynamodb:Query"],
        "shoes": ["dynamodb:GetItem"],
    },
    # Per changed review: a consistent GetItem, then one TransactWriteItems (the review's `counted`
    # flag and the summary's ADDs).
    "chalicelib.services.reviews.on_review_changes": {"reviews": ["dynamodb:GetItem", "dynamodb:UpdateItem"]},
}
# Consumers that send email: their stream Lambda alone may ses:SendEmail (never the web function).
EMAIL_SENDERS = {"chalicelib.services.mailer.send_changes"}
DEAD_LETTER_QUEUE = "stream-dead-letters"  # shoeshop-<stage>-stream-dead-letters (infra/merge.json)
STREAM_BATCH_SIZE = 100
STREAM_MAX_RETRIES = 3  # then the failing record is set aside in the dead-letter queue
STREAM_MAX_RECORD_AGE_SECONDS = 6 * 3600  # older records go to the dead-letter queue unprocessed
STREAM_LAMBDA_TIMEOUT = 60
STREAM_LAMBDA_MEMORY = 1769


def _consumer_name(consumer: Any) -> str:
    return f"{consumer.__module__}.{consumer.__qualname__}"


def consumer_access(table: str) -> dict[str, list[str]]:
    """Table (or index) short name -> actions, for every consumer of `table`'s stream."""
    from chalicelib.wiring import STREAM_CONSUMERS

    access: dict[str, set[str]] = {}
    for streamed, consumer in STREAM_CONSUMERS:
        if streamed != table:
            continue
        name = _consumer_name(consumer)
        if name not in CONSUMER_ACCESS:
            raise SystemExit(f"infra/build.py: add the tables {name} reads and writes to CONSUMER_ACCESS")
        for target, actions in CONSUMER_ACCESS[name].items():
            access.setdefault(target, set()).update(actions)
    return {target: sorted(actions) for target, actions in sorted(access.items())}


def _sends_email(table: str) -> bool:
    from chalicelib.wiring import STREAM_CONSUMERS

    return any(
        streamed == table and _consumer_name(consumer) in EMAIL_SENDERS for streamed, consumer in STREAM_CONSUMERS
    )


def stream_function(table: str) -> str:
    from chalicelib.stream_handler import function_name

    return function_name(table)


def stream_policy_file(stage: str, table: str) -> str:
    return f"policy-{stage}-{table}-stream.json"


def build_stream_policy(stage: str, table: str) -> dict[str, Any]:
    table_arn = f"arn:aws:dynamodb:*:*:table/{APP}-{stage}-{table}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:*",
        },
        # The four actions Lambda's poller needs, on this table's stream only (its label changes
        # if the stream is ever re-enabled, hence the `stream/*`).
        {"Sid": "ReadStream", "Effect": "Allow", "Action": STREAM_READ_ACTIONS, "Resource": f"{table_arn}/stream/*"},
        {
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": f"arn:aws:sqs:*:*:{APP}-{stage}-{DEAD_LETTER_QUEUE}",
        },
    ]
    if _sends_email(table):
        statements.append(
            {"Sid": "SendEmail", "Effect": "Allow", "Action": EMAIL_ACTIONS, "Resource": email_resources(stage)}
        )
    for number, (target, actions) in enumerate(consumer_access(table).items()):
        statements.append(
            {
                "Sid": f"Consumers{number}",
                "Effect": "Allow",
                "Action": actions,
                "Resource": f"arn:aws:dynamodb:*:*:table/{APP}-{stage}-{target}",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


CONFIG_PATH = ROOT / ".chalice" / "config.json"
MERGE_PATH = ROOT / "infra" / "merge.json"
GENERATED = "infra/build.py (streams)"  # marks what build owns in the hand-written merge template


def build_config() -> dict[str, Any]:
    """.chalice/config.json with each stage's stream functions (own policy, timeout) filled in."""
    config = json.loads(CONFIG_PATH.read_text())
    for stage in STAGES:
        functions = config["stages"][stage].setdefault("lambda_functions", {})
        for name in [n for n in functions if n.endswith("_stream")]:
            del functions[name]
        for table in streamed_tables():
            functions[stream_function(table)] = {
                "iam_policy_file": stream_policy_file(stage, table),
                "lambda_timeout": STREAM_LAMBDA_TIMEOUT,
                "lambda_memory_size": STREAM_LAMBDA_MEMORY,
            }
    return config


def _cfn_name(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(name)


def build_merge_template() -> dict[str, Any]:
    """infra/merge.json with the stream wiring (generated) beside the hand-written rest: each stream
    function's event source imports the data stack's stream ARN and sets retries, bisection and the
    dead-letter queue; the queue itself; log retention."""
    merge = json.loads(MERGE_PATH.read_text())
    resources = {
        key: value
        for key, value in merge.get("Resources", {}).items()
        if value.get("Metadata", {}).get("GeneratedBy") != GENERATED
    }
    resources["StreamDeadLetterQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Metadata": {"GeneratedBy": GENERATED},
        "Properties": {
            "QueueName": {"Fn::Sub": f"{APP}-${{Stage}}-{DEAD_LETTER_QUEUE}"},
            "MessageRetentionPeriod": 14 * 24 * 3600,
            "SqsManagedSseEnabled": True,
        },
    }
    for table in streamed_tables():
        function = _cfn_name(stream_function(table))
        event = _cfn_name(f"{stream_function(table)}-dynamodb-event-source")
        resources[function] = {
            "Metadata": {"GeneratedBy": GENERATED},
            "Properties": {
                "Events": {
                    event: {
                        "Properties": {
                            "Stream": {
                                "Fn::ImportValue": {"Fn::Sub": f"{APP}-${{Stage}}-data-{stream_export_suffix(table)}"}
                            },
                            "BisectBatchOnFunctionError": True,
                            "MaximumRetryAttempts": STREAM_MAX_RETRIES,
                            "MaximumRecordAgeInSeconds": STREAM_MAX_RECORD_AGE_SECONDS,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                            "DestinationConfig": {
                                "OnFailure": {
                                    "Type": "SQS",
                                    "Destination": {"Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]},
                                }
                            },
                        }
                    }
                }
            },
        }
        resources[f"{function}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "Metadata": {"GeneratedBy": GENERATED},
            "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"}, "RetentionInDays": 30},
        }
    parameters = dict(merge.get("Parameters", {}))
    parameters["Stage"] = {
        "Type": "String",
        "AllowedValues": list(STAGES),
        "Description": "dev or prod: names the data stack whose stream ARNs the stream functions import",
    }
    return {**merge, "Parameters": parameters, "Resources": resources}


def outputs() -> dict[Path, str]:
    files = {TEMPLATE_PATH: json.dumps(build_template(), indent=2) + "\n"}
    for stage in STAGES:
        files[ROOT / ".chalice" / f"policy-{stage}.json"] = json.dumps(build_policy(stage), indent=2) + "\n"
        for table in streamed_tables():
            files[ROOT / ".chalice" / stream_policy_file(stage, table)] = (
                json.dumps(build_stream_policy(stage, table), indent=2) + "\n"
            )
    files[CONFIG_PATH] = json.dumps(build_config(), indent=2) + "\n"
    files[MERGE_PATH] = json.dumps(build_merge_template(), indent=2) + "\n"
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
