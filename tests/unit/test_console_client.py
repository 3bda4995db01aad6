"""The custom resource that gives the console's app client its sign-in URLs (against moto)."""

import json

import boto3
import pytest

from functions.console_client import app

URL = "https://abc123.execute-api.ap-southeast-2.amazonaws.com/"


@pytest.fixture
def pool(aws):
    cognito = boto3.client("cognito-idp", region_name="ap-southeast-2")
    pool_id = cognito.create_user_pool(PoolName="console")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="console",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        AccessTokenValidity=60,
        TokenValidityUnits={"AccessToken": "minutes"},
    )["UserPoolClient"]
    return cognito, pool_id, client["ClientId"]


@pytest.fixture
def responses(monkeypatch):
    sent: list[dict] = []
    monkeypatch.setattr(
        app,
        "respond",
        lambda event, status, data, reason="": sent.append(
            {"status": status, "data": data, "reason": reason}
        ),
    )
    return sent


def cfn_event(kind: str, pool_id: str, client_id: str) -> dict:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/",
        "StackId": "arn:aws:cloudformation:ap-southeast-2:123456789012:stack/ddhalo/1",
        "RequestId": "r1",
        "LogicalResourceId": "ConsoleClientSettings",
        "ResourceProperties": {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "Url": URL,
            "Scopes": ["openid", "email"],
        },
    }


def test_create_sets_the_oauth_settings_and_keeps_the_rest(pool, responses, lambda_context):
    cognito, pool_id, client_id = pool
    app.handle(cfn_event("Create", pool_id, client_id), lambda_context, cognito=cognito)
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert responses == [{"status": "SUCCESS", "data": {"CallbackURL": URL}, "reason": ""}]
    assert (client["CallbackURLs"], client["LogoutURLs"], client["AllowedOAuthFlows"]) == (
        [URL],
        [URL],
        ["code"],
    )
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["openid", "email"]
    assert client["AccessTokenValidity"] == 60  # what UpdateUserPoolClient would have reset
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]


def test_a_failure_is_reported_to_cloudformation_not_left_hanging(pool, responses, lambda_context):
    cognito, pool_id, _ = pool
    app.handle(cfn_event("Update", pool_id, "no-such-client"), lambda_context, cognito=cognito)
    assert responses[0]["status"] == "FAILED" and "ResourceNotFound" in responses[0]["reason"]


def test_delete_changes_nothing(pool, responses, lambda_context):
    cognito, pool_id, client_id = pool
    app.handle(cfn_event("Delete", pool_id, client_id), lambda_context, cognito=cognito)
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert responses[0]["status"] == "SUCCESS" and "CallbackURLs" not in client


def test_the_answer_to_cloudformation_is_a_put_of_its_documented_shape(monkeypatch):
    seen: dict = {}

    class Answer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        seen.update(method=request.get_method(), url=request.full_url, body=json.loads(request.data))
        return Answer()

    monkeypatch.setattr(app.urllib.request, "urlopen", urlopen)
    app.respond(cfn_event("Create", "p", "c"), "SUCCESS", {"CallbackURL": URL})
    assert seen["method"] == "PUT" and seen["url"].startswith("https://cloudformation")
    assert seen["body"] == {
        "Status": "SUCCESS",
        "Reason": "see the function's log",
        "PhysicalResourceId": "console-client-ConsoleClientSettings",
        "StackId": "arn:aws:cloudformation:ap-southeast-2:123456789012:stack/ddhalo/1",
        "RequestId": "r1",
        "LogicalResourceId": "ConsoleClientSettings",
        "Data": {"CallbackURL": URL},
    }
