"""The events Lambda hands a handler, built as AWS builds them: API Gateway HTTP API (payload
2.0) requests, SQS event source batches and scheduled events. The local runner sends them, the
sample events are written from them, and the handlers' tests call the handlers with them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = False) -> dict[str, str]:
    """API Gateway v2 joins repeated headers and query parameters with commas."""
    out: dict[str, str] = {}
    for key, value in pairs:
        key = key.lower() if lower else key
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def _api_request_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")[:16]


# Who a loopback caller is: an operator (``make serve`` has no sign-in on 127.0.0.1).
LOCAL_OPERATOR_SCOPES = ("openid", "ddhalo/read", "ddhalo/operate")


def jwt_context(scopes: Sequence[str], username: str = "local") -> dict[str, Any]:
    """``requestContext.authorizer.jwt`` for a Cognito access token with ``scopes`` (API Gateway
    passes every claim as a string, and the token's scopes again as a list)."""
    return {
        "claims": {
            "sub": "00000000-0000-4000-8000-000000000000",
            "token_use": "access",
            "scope": " ".join(scopes),
            "username": username,
            "client_id": "local",
            "iss": "https://cognito-idp.local/local",
        },
        "scopes": list(scopes),
    }


def http_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    api_id: str = "local",
    account_id: str = "123456789012",
    scopes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as a Lambda integration gets it.
    ``scopes``: the route is behind the JWT authorizer and the caller's token carries these
    (None: an unauthenticated route)."""
    # HTTP API hands the integration the path percent-decoded, rawPath included (seen in
    # captures of live events); REST APIs and function URLs would not.
    path = unquote(raw_path)
    header_pairs = list(headers)
    cookies = [c.strip() for k, v in header_pairs if k.lower() == "cookie" for c in v.split(";") if c.strip()]
    hdrs = _joined(((k, v) for k, v in header_pairs if k.lower() != "cookie"), lower=True)
    now = datetime.now(UTC)
    domain = hdrs.get("host", "127.0.0.1")
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": hdrs.get("user-agent", ""),
        },
        "requestId": _api_request_id(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if scopes is not None:  # what the JWT authorizer hands on; loopback calls carry no token
        context["authorizer"] = {"jwt": jwt_context(scopes)}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = parse_qsl(raw_query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = _joined(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """SQS API shape (`StringValue`, bytes) → Lambda event shape (`stringValue`, base64)."""

    def b64(data: Any) -> str:
        return base64.b64encode(data if isinstance(data, bytes) else str(data).encode()).decode()

    out: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = b64(value["BinaryValue"])
    return out


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS event source mapping's event from `ReceiveMessage` results."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    k: _message_attribute(v) for k, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody") or _md5(m.get("Body", "")),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def scheduled_event(rule_arn: str, region: str, account_id: str, input_json: str | None = None) -> Any:
    """What a schedule delivers: its constant Input if it has one, else EventBridge's envelope."""
    if input_json is not None:
        return json.loads(input_json)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
