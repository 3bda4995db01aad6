"""Cognito's pre-token-generation trigger (V2_0): a person's access token carries the scopes of
their groups (operators: read and operate; viewers: read), and no others.

The console's app client may not ask for the API's scopes itself, so a viewer cannot obtain
``ddhalo/operate`` by asking for it; the scopes are suppressed here as well in case it ever could.
"""

from typing import Any

from ddhalo_lambda.access import GROUP_SCOPES, scopes_of_groups
from ddhalo_lambda.entry import event_handler
from ddhalo_lambda.observability import logger

ALL_SCOPES = sorted({s for scopes in GROUP_SCOPES.values() for s in scopes})


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event.get("request") or {}
    groups = list((request.get("groupConfiguration") or {}).get("groupsToOverride") or [])
    granted = scopes_of_groups(groups)
    event["response"] = {
        "claimsAndScopeOverrideDetails": {
            "accessTokenGeneration": {
                "scopesToAdd": granted,
                "scopesToSuppress": [s for s in ALL_SCOPES if s not in granted],
            }
        }
    }
    logger.info("token scopes", extra={"groups": groups, "scopes": granted})
    return event


lambda_handler = event_handler(handle)
