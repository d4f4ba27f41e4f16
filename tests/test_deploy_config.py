"""Stage settings: every AWS call's worst case fits in the Lambda timeout, which fits in API Gateway's
29 s; memory gives a bcrypt cost-12 login about one full vCPU."""

import json
from pathlib import Path

import pytest

from chalicelib import aws
from chalicelib.config import DEFAULT_AWS_READ_TIMEOUT_SECONDS, get_settings
from chalicelib.models import TABLE_MODELS
from devtools.devserver import COMPRESSIBLE_TYPES, minimum_compression_size
from tests.package_fixtures import built_package  # noqa: F401 (fixture)

CONFIG = json.loads((Path(__file__).resolve().parent.parent / ".chalice" / "config.json").read_text())
API_GATEWAY_LIMIT_SECONDS = 29
# botocore standard retry mode: random backoff up to 2**attempt seconds (capped at 20) between attempts.
STANDARD_BACKOFF_SECONDS = sum(min(2**attempt, 20) for attempt in range(aws.MAX_ATTEMPTS - 1))


def test_worst_case_aws_call_fits_in_the_lambda_timeout_which_fits_in_api_gateway():
    for stage in CONFIG["stages"].values():
        variables = {**CONFIG.get("environment_variables", {}), **stage["environment_variables"]}
        read_timeout = int(variables.get("AWS_READ_TIMEOUT_SECONDS", DEFAULT_AWS_READ_TIMEOUT_SECONDS))
        worst_call = aws.MAX_ATTEMPTS * (aws.CONNECT_TIMEOUT_SECONDS + read_timeout) + STANDARD_BACKOFF_SECONDS
        lambda_timeout = stage.get("lambda_timeout", CONFIG["lambda_timeout"])
        assert worst_call <= lambda_timeout < API_GATEWAY_LIMIT_SECONDS


@pytest.mark.parametrize("client_name", ["dynamodb", "s3", "ssm"])
def test_every_aws_client_uses_the_short_timeouts_and_bounded_retries(client_name):
    client = getattr(aws, f"{client_name}_client")()
    config = client.meta.config
    assert config.connect_timeout == aws.CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == get_settings().aws_read_timeout_seconds == DEFAULT_AWS_READ_TIMEOUT_SECONDS
    assert config.retries == {"mode": "standard", "total_max_attempts": aws.MAX_ATTEMPTS}


def test_every_model_talks_through_the_shared_client():
    """PynamoDB's own per-model clients (15 s connect, 30 s read by default) are never used."""
    for model in TABLE_MODELS:
        assert model._get_connection().connection.client is aws.dynamodb_client(), model.__name__


def test_memory_gives_one_full_vcpu_for_bcrypt_and_stages_hash_at_cost_12():
    assert CONFIG["lambda_memory_size"] >= 1769  # Lambda's memory size for one full vCPU
    for stage in CONFIG["stages"].values():
        assert stage["environment_variables"]["BCRYPT_ROUNDS"] == "12"
        assert stage["environment_variables"]["SECURE_COOKIES"] == "true"
        assert stage["environment_variables"]["URL_PREFIX"] == "auto"
    assert CONFIG["autogen_policy"] is False


def test_deployed_stages_compress_text_responses_in_api_gateway(built_package):  # noqa: F811
    """API Gateway gzips any response of at least minimum_compression_size bytes for clients that
    accept it; the local server (devtools/devserver.py) uses the same threshold."""
    assert CONFIG["minimum_compression_size"] == minimum_compression_size() == 1024
    template = json.loads(built_package.template_path.read_text())
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["MinimumCompressionSize"] == 1024
    assert {"text/html", "text/css", "application/json", "application/xml"} <= COMPRESSIBLE_TYPES
