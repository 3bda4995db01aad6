"""A CloudFormation custom resource: gives the console's Cognito app client its sign-in URLs.

The API's JWT authorizer names the app client (its audience), and the app client's callback URL
is the API's own URL: each would depend on the other, a cycle CloudFormation refuses. So the
client is created without OAuth settings and this resource, which depends on both, sets them
once the API exists. ``UpdateUserPoolClient`` resets whatever it is not given, so the client's
current settings are read first and sent back with the OAuth ones.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3

from ddhalo_lambda.entry import event_handler
from ddhalo_lambda.observability import logger

# What UpdateUserPoolClient accepts of what DescribeUserPoolClient answers.
KEPT = (
    "ClientName",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
)


def oauth_settings(url: str, scopes: list[str]) -> dict[str, Any]:
    """Authorization code (with PKCE, which Cognito requires of a client without a secret)."""
    return {
        "CallbackURLs": [url],
        "LogoutURLs": [url],
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": scopes,
        "SupportedIdentityProviders": ["COGNITO"],
    }


def configure(cognito: Any, props: dict[str, Any]) -> dict[str, Any]:
    """Set the OAuth settings on the client, keeping everything else it has."""
    pool, client = props["UserPoolId"], props["ClientId"]
    current = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)["UserPoolClient"]
    update = {k: current[k] for k in KEPT if k in current}
    update.update(oauth_settings(props["Url"], list(props.get("Scopes") or ["openid", "email"])))
    cognito.update_user_pool_client(UserPoolId=pool, ClientId=client, **update)
    return {"CallbackURL": props["Url"]}


def respond(event: dict[str, Any], status: str, data: dict[str, Any], reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or "see the function's log",
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or f"console-client-{event['LogicalResourceId']}",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


def handle(event: dict[str, Any], context: Any, cognito: Any = None) -> None:
    """Create and Update set the URLs; Delete has nothing to undo (the client goes with the stack)."""
    try:
        data: dict[str, Any] = {}
        if event["RequestType"] in ("Create", "Update"):
            data = configure(cognito or boto3.client("cognito-idp"), event["ResourceProperties"])
        respond(event, "SUCCESS", data)
    except Exception as exc:
        logger.exception("console client settings failed")
        respond(event, "FAILED", {}, reason=f"{type(exc).__name__}: {exc}"[:500])


lambda_handler = event_handler(handle)
