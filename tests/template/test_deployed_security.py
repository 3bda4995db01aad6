"""Security of the deployed stack, read from the synthesized CloudFormation (not from our intent)."""

import json

import pytest

from local.template import load_template
from tests.template.conftest import TEMPLATE


def resources(synthesized, kind: str) -> dict:
    return {k: v for k, v in synthesized["Resources"].items() if v["Type"] == kind}


# The console's static files: a browser must load the page before anyone can sign in.
CONSOLE_ROUTES = {("get", "/"), ("get", "/console/config.json"), ("get", "/console/{proxy+}")}


def test_every_route_but_the_console_files_needs_a_token_with_its_role_s_scope(synthesized):
    """Reading needs ddhalo/read, everything else ddhalo/operate (a viewer's token lacks it)."""
    (api,) = resources(synthesized, "AWS::ApiGatewayV2::Api").values()
    body = api["Properties"]["Body"]
    operations = [(path, method, op) for path, ops in body["paths"].items() for method, op in ops.items()]
    routes = {(r.method.lower(), r.path) for r in load_template(TEMPLATE).routes}
    assert {(m, p) for p, m, _ in operations} >= routes
    open_routes = set()
    for path, method, operation in operations:
        if (method, path) in CONSOLE_ROUTES:
            open_routes.add((method, path))
            continue
        scope = "ddhalo/read" if method == "get" else "ddhalo/operate"
        assert operation.get("security") == [{"CognitoJwt": [scope]}], (method, path)
    assert open_routes == CONSOLE_ROUTES
    assert not resources(synthesized, "AWS::ApiGatewayV2::Route"), "no route may bypass the API's authorizer"
    scheme = body["components"]["securitySchemes"]["CognitoJwt"]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "jwt" and scheme["identitySource"] == "$request.header.Authorization"
    assert scheme["jwtConfiguration"]["audience"] == [{"Ref": "ConsoleClient"}, {"Ref": "ScriptsClient"}]
    assert "${UserPool}" in scheme["jwtConfiguration"]["issuer"]["Fn::Sub"]


def test_people_are_created_by_an_administrator_and_may_use_mfa(synthesized):
    (pool,) = resources(synthesized, "AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    assert props["MfaConfiguration"] == "OPTIONAL" and props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    trigger = props["LambdaConfig"]["PreTokenGenerationConfig"]
    assert trigger == {"LambdaArn": {"Fn::GetAtt": ["PreTokenFunction", "Arn"]}, "LambdaVersion": "V2_0"}
    groups = {
        g["Properties"]["GroupName"] for g in resources(synthesized, "AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {"operators", "viewers"}


def test_the_console_client_cannot_ask_for_the_api_s_scopes_and_scripts_use_client_credentials(synthesized):
    """A viewer's browser could ask Cognito for any scope its app client allows: it allows none of
    the API's, so only the trigger (by group) gives them."""
    clients = {c["Properties"]["ClientName"]: c["Properties"] for c in
               resources(synthesized, "AWS::Cognito::UserPoolClient").values()}  # fmt: skip
    console, scripts = clients["console"], clients["scripts"]
    assert console["GenerateSecret"] is False and "AllowedOAuthScopes" not in console
    (settings,) = [
        r for r in synthesized["Resources"].values() if r["Type"] == "Custom::ConsoleClientSettings"
    ]
    assert not [s for s in settings["Properties"]["Scopes"] if s.startswith("ddhalo/")]
    assert scripts["GenerateSecret"] is True and scripts["AllowedOAuthFlows"] == ["client_credentials"]
    assert sorted(scripts["AllowedOAuthScopes"]) == ["ddhalo/operate", "ddhalo/read"]


def test_only_cognito_may_invoke_the_trigger_and_the_custom_resource_touches_only_the_pool(synthesized):
    (permission,) = [
        r["Properties"] for r in resources(synthesized, "AWS::Lambda::Permission").values()
        if r["Properties"].get("Principal") == "cognito-idp.amazonaws.com"
    ]  # fmt: skip
    assert permission["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    policies = synthesized["Resources"]["ConsoleClientFunctionRole"]["Properties"]["Policies"]
    statements = [st for p in policies for st in p["PolicyDocument"]["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["cognito-idp:DescribeUserPoolClient", "cognito-idp:UpdateUserPoolClient"],
            "Resource": {"Fn::GetAtt": ["UserPool", "Arn"]},
        }
    ]
    assert not synthesized["Resources"]["PreTokenFunctionRole"]["Properties"].get("Policies")


def test_the_unauthenticated_routes_reach_only_the_console_function(synthesized):
    template = load_template(TEMPLATE)
    assert {r.function_id for r in template.routes if not r.auth} == {"ConsoleFunction"}
    assert all(r.auth for r in template.routes if r.function_id != "ConsoleFunction")


def test_the_console_function_has_no_data_permissions(synthesized):
    role = synthesized["Resources"]["ConsoleFunctionRole"]["Properties"]
    assert not role.get("Policies"), "the console serves files: it needs no inline policy"
    managed = {str(arn).rsplit("/", 1)[-1] for arn in role.get("ManagedPolicyArns", [])}
    assert managed <= {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}, managed
    function = synthesized["Resources"]["ConsoleFunction"]["Properties"]
    assert "CONSOLE_AUTH_DOMAIN" in function["Environment"]["Variables"]


def statements(synthesized):
    for name, role in resources(synthesized, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("service", ["dynamodb:", "secretsmanager:", "sqs:", "events:"])
def test_data_permissions_name_their_resources(synthesized, service):
    found = 0
    for role, statement in statements(synthesized):
        actions = [a for a in as_list(statement["Action"]) if a.startswith(service)]
        if not actions:
            continue
        found += 1
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"{role} grants {actions} on every resource"
            assert "*" not in json.dumps(resource) or "table/" in json.dumps(resource), (role, resource)
    assert found, f"no {service} statement found: the check would prove nothing"


def test_only_the_settings_function_may_write_the_secret(synthesized):
    writers = {
        role
        for role, statement in statements(synthesized)
        if "secretsmanager:PutSecretValue" in as_list(statement["Action"])
    }
    assert writers == {"SettingsFunctionRole"}


def test_no_wildcard_actions_on_data_services(synthesized):
    for role, statement in statements(synthesized):
        for action in as_list(statement["Action"]):
            assert action not in ("*", "dynamodb:*", "secretsmanager:*", "sqs:*"), (role, action)


def test_storage_is_kept_and_encrypted(sam_template):
    table = sam_template["Resources"]["Table"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    for queue in ("WorkQueue", "WorkDeadLetterQueue"):
        assert sam_template["Resources"][queue]["Properties"]["SqsManagedSseEnabled"] is True
    assert sam_template["Resources"]["CredentialsSecret"]["DeletionPolicy"] == "Retain"


def test_functions_are_traced_and_log_no_events(sam_template):
    globals_ = sam_template["Globals"]["Function"]
    assert globals_["Tracing"] == "Active"
    assert globals_["Environment"]["Variables"]["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def test_alarms_watch_failed_stuck_and_dead_lettered_syncs(synthesized):
    metrics = {
        a["Properties"]["MetricName"] for a in resources(synthesized, "AWS::CloudWatch::Alarm").values()
    }
    assert {"sync_runs_failed", "sync_stuck", "ApproximateNumberOfMessagesVisible"} <= metrics
    assert resources(synthesized, "AWS::CloudWatch::Dashboard")


def test_the_alarm_topic_is_encrypted_with_a_key_alarms_and_the_worker_may_use(synthesized):
    """Under the AWS managed key alias/aws/sns, CloudWatch alarms cannot publish (its key policy
    lets no service principal use it): the topic has its own key, granted to both publishers."""
    (topic,) = resources(synthesized, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmKey"}
    key = synthesized["Resources"]["AlarmKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    (alarms,) = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    grants = {
        (role, action)
        for role, statement in statements(synthesized)
        for action in as_list(statement["Action"])
        if statement.get("Resource") == {"Fn::GetAtt": ["AlarmKey", "Arn"]}
    }
    assert grants == {("WorkerFunctionRole", "kms:Decrypt"), ("WorkerFunctionRole", "kms:GenerateDataKey")}
    publishers = {role for role, s in statements(synthesized) if "sns:Publish" in as_list(s["Action"])}
    assert publishers == {"WorkerFunctionRole"}
