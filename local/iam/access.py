"""Which actions on which resources IAM checks for one AWS request, and AWS's wording of a refusal.

A request names its resources in its own way (a table name, a queue URL, a secret's partial ARN,
a rule on an event bus); IAM checks ARNs. :func:`required_access` turns the request's parameters
into the (action, ARN) pairs the role must allow, per service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Access:
    """One action on one resource that a request needs (a request may need several)."""

    action: str
    resource: str


# Signing names whose IAM prefix differs.
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "scheduler": "scheduler"}
_DYNAMODB_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_SQS_BATCHES = {"SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"}
_NO_PERMISSION = {("sts", "GetCallerIdentity")}  # callable by anyone signed

SecretLookup = Callable[[str], str]


@dataclass(frozen=True)
class Target:
    """Where a request was made: region and account fill the ARNs the request names."""

    region: str
    account: str
    url_path: str = "/"
    secret_arn: SecretLookup | None = field(default=None, compare=False)


def required_access(service: str, operation: str, params: Mapping[str, Any], target: Target) -> list[Access]:
    """Every (action, resource) IAM checks for this call; resource `*` where it names none.

    `service` is the SigV4 signing name, `operation` the API operation (`PutItem`), `params`
    the request's JSON body or query parameters.
    """
    if (service, operation) in _NO_PERMISSION:
        return []
    derive = _DERIVERS.get(service)
    if derive is not None:
        found = derive(operation, params, target)
        if found is not None:
            return found
    prefix = IAM_PREFIX.get(service, service)
    return [Access(f"{prefix}:{operation}", _str(params.get("ResourceArn")) or "*")]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def table_arn(name: str, target: Target) -> str:
    return (
        name if name.startswith("arn:") else f"arn:aws:dynamodb:{target.region}:{target.account}:table/{name}"
    )


def _dynamodb(operation: str, params: Mapping[str, Any], target: Target) -> list[Access] | None:
    if operation in ("TransactWriteItems", "TransactGetItems"):  # no action of their own: per item
        needed: list[Access] = []
        for entry in params.get("TransactItems") or []:
            for kind, item in entry.items():
                action = _DYNAMODB_ITEM_ACTIONS.get(kind, kind)
                needed.append(Access(f"dynamodb:{action}", table_arn(str(item.get("TableName", "")), target)))
        return needed
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [
            Access(f"dynamodb:{operation}", table_arn(t, target)) for t in params.get("RequestItems") or {}
        ]
    table = _str(params.get("TableName"))
    if table is None:
        return None
    resource = table_arn(table, target)
    if operation in ("Query", "Scan") and (index := _str(params.get("IndexName"))):
        resource = f"{resource}/index/{index}"
    return [Access(f"dynamodb:{operation}", resource)]


def queue_arn(queue_url: str, target: Target) -> str | None:
    """`http://host/123456789012/name` → `arn:aws:sqs:<region>:123456789012:name`."""
    parts = [p for p in urlsplit(queue_url).path.split("/") if p]
    if len(parts) < 2 or not parts[-2].isdigit():
        return None
    host = urlsplit(queue_url).hostname or ""
    found = re.match(r"sqs\.([a-z0-9-]+)\.amazonaws\.com", host)
    region = found.group(1) if found else target.region
    return f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}"


def _sqs(operation: str, params: Mapping[str, Any], target: Target) -> list[Access] | None:
    action = "sqs:" + (operation.removesuffix("Batch") if operation in _SQS_BATCHES else operation)
    if url := _str(params.get("QueueUrl")):
        return [Access(action, queue_arn(url, target) or "*")]
    if name := _str(params.get("QueueName")):
        account = _str(params.get("QueueOwnerAWSAccountId")) or target.account
        return [Access(action, f"arn:aws:sqs:{target.region}:{account}:{name}")]
    if arn := queue_arn(target.url_path, target):  # query protocol, posted to the queue's URL
        return [Access(action, arn)]
    return [Access(action, "*")]


def secret_arn(secret_id: str, target: Target) -> str:
    if target.secret_arn is not None:
        return target.secret_arn(secret_id)
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:aws:secretsmanager:{target.region}:{target.account}:secret:{secret_id}"


def _secretsmanager(operation: str, params: Mapping[str, Any], target: Target) -> list[Access] | None:
    action = f"secretsmanager:{operation}"
    if secret := _str(params.get("SecretId")) or (
        _str(params.get("Name")) if operation == "CreateSecret" else None
    ):
        return [Access(action, secret_arn(secret, target))]
    if operation == "BatchGetSecretValue":
        ids = params.get("SecretIdList") or []
        return [
            Access(action, "*"),
            *(Access("secretsmanager:GetSecretValue", secret_arn(str(s), target)) for s in ids),
        ]
    return None


def _bus_name(value: Any) -> str:
    text = _str(value) or "default"
    return text.rsplit("/", 1)[1] if text.startswith("arn:") else text


def _events(operation: str, params: Mapping[str, Any], target: Target) -> list[Access] | None:
    action = f"events:{operation}"
    base = f"arn:aws:events:{target.region}:{target.account}"
    rule = _str(params.get("Name") if "Name" in params else params.get("Rule"))
    if rule and operation not in ("CreateEventBus", "DeleteEventBus", "DescribeEventBus"):
        if rule.startswith("arn:"):
            return [Access(action, rule)]
        bus = _bus_name(params.get("EventBusName"))
        return [Access(action, f"{base}:rule/{rule}" if bus == "default" else f"{base}:rule/{bus}/{rule}")]
    if operation == "PutEvents":
        buses = {_bus_name(e.get("EventBusName")) for e in params.get("Entries") or []} or {"default"}
        return [Access(action, f"{base}:event-bus/{bus}") for bus in sorted(buses)]
    if name := _str(params.get("Name")):
        return [Access(action, f"{base}:event-bus/{_bus_name(name)}")]
    return None


def _sts(operation: str, params: Mapping[str, Any], target: Target) -> list[Access] | None:
    if role := _str(params.get("RoleArn")):
        return [Access(f"sts:{operation}", role)]
    return None


def _sns(operation: str, params: Mapping[str, Any], target: Target) -> list[Access] | None:
    """A topic's actions act on the topic (``TopicArn``); a subscription's on its topic too."""
    if topic := _str(params.get("TopicArn")):
        return [Access(f"sns:{operation}", topic)]
    return None


_DERIVERS: dict[str, Callable[[str, Mapping[str, Any], Target], list[Access] | None]] = {
    "dynamodb": _dynamodb,
    "sns": _sns,
    "sqs": _sqs,
    "secretsmanager": _secretsmanager,
    "events": _events,
    "sts": _sts,
}


def denial_message(principal_arn: str, access: Access, explicit: bool, service: str = "") -> str:
    """AWS's wording (SQS names its actions in lower case there)."""
    action = access.action.lower() if service == "sqs" else access.action
    reason = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    return (
        f"User: {principal_arn} is not authorized to perform: {action} on resource: {access.resource} "
        + reason
    )
