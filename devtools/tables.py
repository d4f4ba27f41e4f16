"""Create the stage's tables (TTL and streams on) and bucket: operator and test tooling, not shipped to Lambda."""

from chalicelib.config import get_settings
from chalicelib.models import STREAM_VIEW_TYPE, STREAMED_MODELS, TABLE_MODELS, RateCounter, Session, bind_tables
from chalicelib.models.orders import CartLine

TTL_ATTRIBUTE = {Session: "expires_at", CartLine: "expires_at", RateCounter: "expires_at"}


def create_tables() -> list[str]:
    """Idempotent: creates what is missing, returns the names it created."""
    bind_tables(get_settings())
    created = []
    for model in TABLE_MODELS:
        if not model.exists():
            model.create_table(wait=True)
            created.append(model.Meta.table_name)
            if model in TTL_ATTRIBUTE:
                model._get_connection().connection.client.update_time_to_live(
                    TableName=model.Meta.table_name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE[model]},
                )
        if model in STREAMED_MODELS:
            _enable_stream(model)
    return created


def _enable_stream(model: type) -> None:
    client = model._get_connection().connection.client
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        client.update_table(
            TableName=model.Meta.table_name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        )


def create_bucket() -> bool:
    from botocore.exceptions import ClientError

    from chalicelib.aws import s3_client

    settings = get_settings()
    s3 = s3_client()
    try:
        s3.head_bucket(Bucket=settings.upload_bucket)
        return False
    except ClientError:
        pass
    kwargs = {"Bucket": settings.upload_bucket}
    if settings.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=settings.upload_bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return True
