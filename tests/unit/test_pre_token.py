"""The pre-token-generation trigger: a person's access token carries their groups' scopes only."""

from functions.pre_token.app import lambda_handler


def trigger(groups: list[str], asked: list[str] | None = None) -> dict:
    return {
        "version": "2",
        "triggerSource": "TokenGeneration_HostedAuth",
        "userPoolId": "ap-southeast-2_abc",
        "userName": "alice",
        "request": {
            "userAttributes": {"email": "alice@example.com"},
            "groupConfiguration": {
                "groupsToOverride": groups,
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "scopes": asked or ["openid", "email"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def scopes(answer: dict) -> dict:
    return answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]


def test_operators_get_read_and_operate(lambda_context):
    assert scopes(lambda_handler(trigger(["operators"]), lambda_context)) == {
        "scopesToAdd": ["ddhalo/operate", "ddhalo/read"],
        "scopesToSuppress": [],
    }


def test_viewers_get_read_and_operate_is_suppressed_even_if_asked_for(lambda_context):
    answer = lambda_handler(trigger(["viewers"], asked=["openid", "ddhalo/operate"]), lambda_context)
    assert scopes(answer) == {"scopesToAdd": ["ddhalo/read"], "scopesToSuppress": ["ddhalo/operate"]}


def test_someone_in_no_group_gets_no_scope_of_the_api(lambda_context):
    assert scopes(lambda_handler(trigger([]), lambda_context)) == {
        "scopesToAdd": [],
        "scopesToSuppress": ["ddhalo/operate", "ddhalo/read"],
    }
