"""IAM as `sam deploy` creates it, and the check of one AWS call against a role (pure parts).

moto does not enforce IAM the way AWS does (its own check authorizes most services against
resource `*` only), so a function missing a permission worked locally and failed when deployed.
Here the roles come from the *synthesized* template (SAM policy templates, the poller policy SAM
adds for an SQS event source, managed policy ARNs with the documents moto ships), their intrinsics
resolved to the local physical names; :func:`required_access` says which action on which ARN a
request needs, and :func:`evaluate` answers whether a role's statements allow it, as IAM does for
identity-based policies. `local/gate.py` applies both to every request moto receives.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.template import Resolver, load_yaml, logical_id_of

log = logging.getLogger(__name__)

REGION = "ap-southeast-2"  # where the local stack "runs" (the tests' and the runner's region)
LAMBDA_TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}
    ],
}
MAX_ROLE_NAME = 64

# -- the synthesized template -----------------------------------------------------------------


@functools.cache
def _aws_managed_policies() -> dict[str, dict[str, Any]]:
    """AWS managed policies by name, as moto ships them (`Document`, `Path`, ...)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return data


def managed_policy_arn(name: str) -> str:
    """`AWSLambdaBasicExecutionRole` → `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`."""
    path = _aws_managed_policies().get(name, {}).get("Path", "/")
    return f"arn:aws:iam::aws:policy{path}{name}"


def managed_policy_document(arn: str) -> dict[str, Any] | None:
    """The document of an AWS managed policy, by ARN (None for one moto does not know)."""
    found = re.fullmatch(r"arn:aws[\w-]*:iam::aws:policy(/(?:[^/]+/)*)([^/]+)", arn)
    entry = _aws_managed_policies().get(found.group(2)) if found else None
    if found is None or entry is None or entry.get("Path", "/") != found.group(1):
        return None
    document: dict[str, Any] = entry["Document"]
    return document


class ManagedPolicyNames:
    """The translator's managed-policy lookup (`Policies: [AmazonS3ReadOnlyAccess]` → its ARN),
    answered from moto's copy instead of asking IAM, so synthesis works offline."""

    def load(self) -> dict[str, str]:
        return {name: managed_policy_arn(name) for name in _aws_managed_policies()}


def synthesize(path: Path | str, region: str = REGION) -> dict[str, Any]:
    """The CloudFormation `sam deploy` would create from this SAM template (a fresh copy).

    Local paths become S3 URIs first, as `sam package` does. Cached per process by the file's
    content, since every local stack start needs it and the translator takes a while to import.
    """
    path = Path(path).resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return copy.deepcopy(_synthesize(str(path), digest, region))


@functools.lru_cache(maxsize=16)
def _synthesize(path: str, digest: str, region: str) -> dict[str, Any]:
    import boto3
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]
    from samtranslator.utils.py27hash_fix import (  # type: ignore[import-untyped]
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    doc = load_yaml(Path(path))
    holders = [(name, (res or {}).get("Properties")) for name, res in (doc.get("Resources") or {}).items()]
    holders.append(("Globals", (doc.get("Globals") or {}).get("Function")))
    for name, props in holders:  # what `sam package` does
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props, dict) and isinstance(props.get(key), str):
                props[key] = f"s3://deployment-bucket/{name}.zip"
    parameters: dict[str, Any] = {}
    to_py27_compatible_template(doc, parameters)
    # The translator reads the region from a boto3 session: give it one, never the environment's.
    session = boto3.session.Session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
    translator = Translator(None, Parser(), boto_session=session)
    names = ManagedPolicyNames().load()
    out = translator.translate(doc, parameter_values=parameters, get_managed_policy_map=lambda: names)
    result: dict[str, Any] = undo_mark_unicode_str_in_template(out)
    return result


# -- statements and their evaluation ----------------------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in items)


@dataclass(frozen=True)
class Statement:
    """One statement of an identity-based policy; `None` lists mean the element is absent."""

    effect: str
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    condition: Mapping[str, Any] | None = None
    sid: str | None = None
    source: str = ""  # the policy it came from, for messages

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str = "") -> Statement:
        def element(name: str) -> tuple[str, ...] | None:
            return _strings(raw[name]) if name in raw else None

        return cls(
            effect=str(raw.get("Effect", "")),
            actions=element("Action"),
            not_actions=element("NotAction"),
            resources=element("Resource"),
            not_resources=element("NotResource"),
            condition=raw.get("Condition") or None,
            sid=raw.get("Sid"),
            source=source,
        )

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return any(_glob(pattern, action, ignore_case=True) for pattern in self.actions)
        if self.not_actions is not None:
            return not any(_glob(pattern, action, ignore_case=True) for pattern in self.not_actions)
        return False

    def matches_resource(self, resource: str) -> bool:
        if self.resources is not None:
            return any(_glob(pattern, resource) for pattern in self.resources)
        if self.not_resources is not None:
            return not any(_glob(pattern, resource) for pattern in self.not_resources)
        return False

    def applies(self, action: str, resource: str) -> bool:
        return self.matches_action(action) and self.matches_resource(resource)


def statements_of(document: Mapping[str, Any], source: str = "") -> list[Statement]:
    raw = document.get("Statement") or []
    return [
        Statement.parse(s, source) for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict)
    ]


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex + r"\Z", (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters (across `:` and `/`), `?` any one character."""
    return _pattern(pattern, ignore_case).match(value) is not None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool = False
    statement: Statement | None = None  # the Allow that allowed it, or the Deny that denied it
    skipped: tuple[Statement, ...] = ()  # statements with a Condition, not evaluated (fail closed)


def evaluate(statements: Iterable[Statement], action: str, resource: str) -> Decision:
    """IAM's identity-policy logic: an explicit Deny wins, else an Allow is needed, else denied.

    Conditions are not evaluated: an Allow with a Condition does not allow, a Deny with one
    denies (fail closed either way); such statements are answered in `skipped`.
    """
    allow: Statement | None = None
    skipped: list[Statement] = []
    for statement in statements:
        if not statement.applies(action, resource):
            continue
        if statement.effect == "Deny":
            if statement.condition:
                skipped.append(statement)
            return Decision(False, explicit_deny=True, statement=statement, skipped=tuple(skipped))
        if statement.effect == "Allow":
            if statement.condition:
                skipped.append(statement)
            elif allow is None:
                allow = statement
    return Decision(allow is not None, statement=allow, skipped=tuple(skipped))


# -- what a request needs ---------------------------------------------------------------------


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


# -- roles of the synthesized template --------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """A function's execution role: what IAM would hold, intrinsics resolved."""

    logical_id: str
    name: str
    trust_policy: dict[str, Any]
    inline: dict[str, dict[str, Any]]  # policy name → document
    managed: tuple[str, ...]  # policy ARNs
    managed_documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # those known

    @property
    def statements(self) -> list[Statement]:
        found = [s for name, doc in self.inline.items() for s in statements_of(doc, name)]
        for arn in self.managed:
            if (doc := self.managed_documents.get(arn)) is not None:
                found += statements_of(doc, arn)
        return found


def function_roles(synthesized: Mapping[str, Any], resolver: Resolver, prefix: str) -> dict[str, Role]:
    """Each `AWS::Lambda::Function`'s role, by function logical id (SAM keeps the ids)."""
    resources: Mapping[str, Any] = synthesized.get("Resources") or {}
    extra_inline: dict[str, dict[str, dict[str, Any]]] = {}
    extra_managed: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for lid, res in resources.items():  # standalone policies that name their roles
        kind, props = res.get("Type"), res.get("Properties") or {}
        if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        document = resolver.resolve(props.get("PolicyDocument") or {})
        for role_ref in props.get("Roles") or []:
            role_id = logical_id_of(role_ref)
            if role_id is None:
                continue
            if kind == "AWS::IAM::Policy":
                extra_inline.setdefault(role_id, {})[str(props.get("PolicyName", lid))] = document
            else:
                extra_managed.setdefault(role_id, []).append((f"local:{lid}", document))

    roles: dict[str, Role] = {}
    for fid, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        role_ref = (res.get("Properties") or {}).get("Role")
        role_id = logical_id_of(role_ref)
        role_res = resources.get(role_id) if role_id else None
        if role_id is None or role_res is None or role_res.get("Type") != "AWS::IAM::Role":
            log.warning(
                "%s: its role %s is not in the template, so it may call nothing locally", fid, role_ref
            )
            roles[fid] = Role(f"{fid}Role", _role_name(prefix, f"{fid}Role"), LAMBDA_TRUST_POLICY, {}, ())
            continue
        roles[fid] = _role(
            role_id,
            role_res.get("Properties") or {},
            resources,
            resolver,
            prefix,
            extra_inline.get(role_id, {}),
            extra_managed.get(role_id, []),
        )
    for role in roles.values():
        _warn_unresolved(role)
    return roles


def _role_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{logical_id}"[:MAX_ROLE_NAME]


def _role(
    role_id: str,
    props: Mapping[str, Any],
    resources: Mapping[str, Any],
    resolver: Resolver,
    prefix: str,
    extra_inline: Mapping[str, dict[str, Any]],
    extra_managed: list[tuple[str, dict[str, Any]]],
) -> Role:
    inline = {
        str(p.get("PolicyName", f"{role_id}Policy{i}")): resolver.resolve(p.get("PolicyDocument") or {})
        for i, p in enumerate(props.get("Policies") or [])
    }
    inline.update(extra_inline)
    managed: list[str] = []
    documents: dict[str, dict[str, Any]] = {}
    for raw in props.get("ManagedPolicyArns") or []:
        ref = logical_id_of(raw)
        target = resources.get(ref) if ref else None
        if target is not None and target.get("Type") == "AWS::IAM::ManagedPolicy":
            arn = f"local:{ref}"
            documents[arn] = resolver.resolve((target.get("Properties") or {}).get("PolicyDocument") or {})
        else:
            arn = str(resolver.resolve(raw))
            document = managed_policy_document(arn)
            if document is None:
                log.warning(
                    "%s: managed policy %s is unknown locally, so it grants nothing here", role_id, arn
                )
            else:
                documents[arn] = document
        managed.append(arn)
    for arn, document in extra_managed:
        managed.append(arn)
        documents[arn] = document
    name = resolver.resolve(props.get("RoleName"))
    return Role(
        logical_id=role_id,
        name=name if isinstance(name, str) else _role_name(prefix, role_id),
        trust_policy=resolver.resolve(props.get("AssumeRolePolicyDocument") or LAMBDA_TRUST_POLICY),
        inline=inline,
        managed=tuple(managed),
        managed_documents=documents,
    )


def _warn_unresolved(role: Role) -> None:
    for statement in role.statements:
        for resource in (*(statement.resources or ()), *(statement.not_resources or ())):
            if "${" in resource:
                log.warning(
                    "%s: %s cannot be resolved locally, so it matches nothing", role.logical_id, resource
                )
