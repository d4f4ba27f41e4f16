"""infra/edge.json: the WAF web ACL the operators deploy in front of the API stage (make deploy-edge)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EDGE = json.loads((ROOT / "infra" / "edge.json").read_text())


def _rules() -> dict[str, dict]:
    return {rule["Name"]: rule for rule in EDGE["Resources"]["WebACL"]["Properties"]["Rules"]}


def _byte_matches(statement: object) -> list[tuple[str, str, str]]:
    """Every (field, position, value) a statement tree matches on."""
    found = []
    if isinstance(statement, dict):
        match = statement.get("ByteMatchStatement")
        if match:
            field = next(iter(match["FieldToMatch"]))
            found.append((field, match["PositionalConstraint"], match["SearchString"]))
        for value in statement.values():
            found.extend(_byte_matches(value))
    elif isinstance(statement, list):
        for item in statement:
            found.extend(_byte_matches(item))
    return found


def test_edge_template_passes_cfn_lint():
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(ROOT / "infra" / "edge.json")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_web_acl_is_regional_and_associated_with_the_api_stage():
    acl = EDGE["Resources"]["WebACL"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    association = EDGE["Resources"]["WebACLAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["WebACL", "Arn"]}
    assert "/restapis/${RestApiId}/stages/${ApiStageName}" in association["ResourceArn"]["Fn::Sub"]


def test_rate_rules_per_client_address_on_login_register_reset_and_api_writes():
    rules = _rules()
    expected = {
        "LoginRate": {
            ("Method", "EXACTLY", "POST"),
            ("UriPath", "ENDS_WITH", "/login"),
            ("UriPath", "ENDS_WITH", "/admin"),
        },
        "RegisterRate": {("Method", "EXACTLY", "POST"), ("UriPath", "ENDS_WITH", "/register")},
        "PasswordResetRate": {("Method", "EXACTLY", "POST"), ("UriPath", "CONTAINS", "/password-reset")},
        "ApiWriteRate": {
            ("UriPath", "CONTAINS", "/api/v1/"),
            *(("Method", "EXACTLY", m) for m in ("GET", "HEAD", "OPTIONS")),
        },
    }
    for name, matches in expected.items():
        statement = rules[name]["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP"
        assert set(_byte_matches(statement["ScopeDownStatement"])) == matches, name
        assert rules[name]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    # Reads are excluded from the write rule, not included: a NOT around the safe methods.
    write_scope = rules["ApiWriteRate"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert "NotStatement" in json.dumps(write_scope)


def test_aws_managed_rule_groups_guard_every_request():
    groups = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in _rules().values()
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert groups == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }


def test_make_deploy_edge_deploys_the_template_and_throttles_the_stage():
    result = subprocess.run(
        ["make", "-n", "deploy-edge", "STAGE=dev", "REST_API_ID=abcdefghij"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--template-file infra/edge.json" in result.stdout and "RestApiId=abcdefghij" in result.stdout
    assert "throttling/rateLimit,value=50" in result.stdout and "throttling/burstLimit,value=100" in result.stdout
