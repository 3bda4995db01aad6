"""moto on loopback standing in for the template's DynamoDB tables, secrets and queues.

Every boto3 client in the process (handlers, Powertools Parameters, the runner) reaches moto
through `AWS_ENDPOINT_URL`, so handler code runs unchanged. Resources are created from the
template's own Properties, and the functions' environment variables are resolved against the
names moto gave them, the way CloudFormation would.

IAM is as deployed: each function's role is created from the synthesized template and assumed,
and every request moto receives is checked against the role that signed it (`local/gate.py`);
the runner itself, and tests, sign with the stack's admin key (`local/credentials.py`).

`snapshot()` and `restore()` carry the tables' items and the secrets' values from one start to
the next (`make serve` keeps them in a file); `writes` counts the requests that may have changed
them, so a saver knows when there is something new to save.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import boto3
import requests
from boto3.dynamodb.transform import TransformationInjector

from local import credentials
from local.credentials import AwsCredentials
from local.gate import Environ, GatedMotoServer, IamGate, Principal, StartResponse, WsgiApp
from local.iam import REGION, Role, function_roles, synthesize
from local.moto_speed import json_default
from local.template import (
    FUNCTION_TYPE,
    NO_VALUE,
    Function,
    Resolver,
    Resource,
    ScheduleSource,
    Template,
    cfn_string,
)

ACCOUNT_ID = "123456789012"  # moto's default account
PREFIX = "ddhalo-local"
DEFAULT_METRICS_NAMESPACE = "ddhalo-local"

log = logging.getLogger(__name__)

# moto's backends are process-wide, and so is os.environ: one LocalAws at a time per process.
_ACTIVE = threading.Lock()

# Variables that would send boto3 somewhere other than moto, or sign as a real identity.
_CLEARED = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)  # fmt: skip
# What the environment's credential variables hold: a key the gate refuses. In-process clients
# sign through the routed credentials (a role, or admin); anything that does not is a leak.
UNROUTED_KEY = "LOCAL-UNROUTED-KEY"

# CloudFormation properties of AWS::SQS::Queue that are SQS attributes under the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
    "FifoThroughputLimit",
)  # fmt: skip
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection")
# DynamoDB and Secrets Manager operations that change nothing; any other one counts as a write.
_READ_PREFIXES = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List", "Validate")
_STATE_SERVICES = ("DynamoDB_", "secretsmanager")
BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit
_SIMPLE_TABLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


_conditions_lock = threading.Lock()


def _build_conditions_one_at_a_time() -> None:
    """boto3 writes a request's `Key(...)`/`Attr(...)` conditions with one placeholder counter per
    client, reset at each request: two threads sending on one client at once can both number a
    placeholder `#n0`, and the key condition then names the wrong attribute ("Query condition
    missed key schema element: pk"). Lambda runs one invocation per container, but here every
    function shares the shared code's cached clients (`ddhalo_lambda.services`), so requests
    build their conditions one at a time. Idempotent; lasts for the process."""
    inject = TransformationInjector.inject_condition_expressions
    if getattr(inject, "one_at_a_time", False):
        return

    def one_at_a_time(self: Any, params: Any, model: Any, **kwargs: Any) -> None:
        with _conditions_lock:
            inject(self, params, model, **kwargs)

    one_at_a_time.one_at_a_time = True  # type: ignore[attr-defined]
    TransformationInjector.inject_condition_expressions = one_at_a_time


class EnvPatch:
    """Changes os.environ and can put back exactly what was there before."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str | None) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


@dataclass
class _CountingGate(IamGate):
    """The gate, also counting the requests that may have changed a table or a secret."""

    writes: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dynamodb_lock(self) -> threading.Lock:
        """Held while moto handles a DynamoDB request (the gate runs them one at a time)."""
        return self._dynamodb

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return super().__call__(environ, start_response)
        finally:  # after the request took effect, so a snapshot taken later includes it
            service, _, operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).partition(".")
            if service.startswith(_STATE_SERVICES) and not operation.startswith(_READ_PREFIXES):
                with self._count_lock:
                    self.writes += 1


@dataclass
class LocalAws:
    """Start with `start()` (or `with`); `resolver` then knows every resource's physical name."""

    template: Template
    region: str = REGION
    prefix: str = PREFIX
    endpoint_url: str = ""
    resolver: Resolver = field(init=False)
    roles: dict[str, Role] = field(default_factory=dict, init=False)  # by function id
    gate: IamGate | None = field(default=None, init=False, repr=False)
    admin: AwsCredentials = field(init=False, repr=False)
    _credentials: dict[str, AwsCredentials] = field(default_factory=dict, init=False, repr=False)
    _secret_arns: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _server: GatedMotoServer | None = field(default=None, init=False, repr=False)
    _env: EnvPatch = field(default_factory=EnvPatch, init=False, repr=False)
    _owns_lock: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(
            parameters=self.template.parameter_defaults(),
            conditions=self.template.conditions,
            region=self.region,
            account_id=ACCOUNT_ID,
            stack_name=self.prefix,
        )
        self.admin = AwsCredentials(_access_key(), secrets.token_urlsafe(30))

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("Another local AWS is already running in this process; stop it first.")
        self._owns_lock = True
        try:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per moto call is noise
            synthesized = synthesize(self.template.path, self.region)  # fails early on a bad template
            self._server = GatedMotoServer(self._make_gate)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            self._point_boto3_here()
            # Backends outlive a stopped server in this process: start from an empty account.
            requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
            self._create_resources()
            self._create_roles(synthesized)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        credentials.uninstall()
        boto3.DEFAULT_SESSION = None  # its credentials route to this stack's identities
        self._env.restore()
        if self._owns_lock:
            self._owns_lock = False
            _ACTIVE.release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """A client of this stack; it signs as admin, or as the function running when it is used."""
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region)

    def function_credentials(self, function_id: str) -> AwsCredentials:
        """The credentials of the function's role (what Lambda gives the function)."""
        return self._credentials[function_id]

    @property
    def function_credentials_by_id(self) -> dict[str, AwsCredentials]:
        return dict(self._credentials)

    def _make_gate(self, app: WsgiApp) -> IamGate:
        self.gate = _CountingGate(app, account=ACCOUNT_ID, secret_arn=self.secret_arn)
        self.gate.admin_keys.add(self.admin.access_key)
        return self.gate

    def _point_boto3_here(self) -> None:
        for name in [*_CLEARED, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]:
            self._env.set(name, None)
        for name, value in {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": UNROUTED_KEY,
            "AWS_SECRET_ACCESS_KEY": UNROUTED_KEY,
        }.items():
            self._env.set(name, value)
        credentials.install(self.admin)
        _build_conditions_one_at_a_time()  # before the clients of this stack are made
        boto3.DEFAULT_SESSION = None  # a session made earlier may hold other credentials

    # -- state between starts ---------------------------------------------------------------
    @property
    def writes(self) -> int:
        """Requests since start that may have changed a table's items or a secret's value."""
        return self.gate.writes if isinstance(self.gate, _CountingGate) else 0

    def snapshot(self) -> dict[str, Any]:
        """Every item of the template's tables and every secret's current value, by logical id,
        as JSON-ready data (DynamoDB's typed attribute values; binary values in base64)."""
        secretsmanager = self.client("secretsmanager")
        tables = {
            res.logical_id: self.table_items(self.resolver.refs[res.logical_id])
            for res in self.template.tables
        }
        values: dict[str, dict[str, str]] = {}
        for res in self.template.secrets:
            got = secretsmanager.get_secret_value(SecretId=self.resolver.refs[res.logical_id])
            if "SecretString" in got:
                values[res.logical_id] = {"SecretString": got["SecretString"]}
            elif "SecretBinary" in got:
                values[res.logical_id] = {"SecretBinary": base64.b64encode(got["SecretBinary"]).decode()}
        return {"tables": tables, "secrets": values}

    def table_items(self, name: str) -> list[dict[str, Any]]:
        """Every item of table ``name``, JSON-ready. Copied from moto's backend in this process
        while no DynamoDB request runs: milliseconds for thousands of items, where a Scan through
        the server takes seconds (and the request lock meanwhile). A Scan if that copy fails."""
        try:
            return self._backend_items(name)
        except Exception:
            log.debug("copying %s from moto's backend failed; scanning it", name, exc_info=True)
        return self.scan_items(name)

    def _backend_items(self, name: str) -> list[dict[str, Any]]:
        from moto.dynamodb.models import dynamodb_backends

        if not isinstance(self.gate, _CountingGate):
            raise RuntimeError("not started")
        table = dynamodb_backends[ACCOUNT_ID][self.region].get_table(name)
        with self.gate.dynamodb_lock:
            # moto keeps a binary attribute as bytes: base64, as DynamoDB's JSON protocol answers it
            copied: list[dict[str, Any]] = json.loads(
                json.dumps([item.to_json()["Attributes"] for item in table.all_items()], default=json_default)
            )
        return copied

    def scan_items(self, name: str) -> list[dict[str, Any]]:
        """Every item of table ``name`` through the API (a consistent Scan), JSON-ready."""
        items: list[dict[str, Any]] = []
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
        for page in pages:
            items += [_json_item(item) for item in page["Items"]]
        return items

    def restore(self, snapshot: dict[str, Any]) -> int:
        """Put a :meth:`snapshot` back into the (new, empty) resources; tables or secrets the
        template no longer has are skipped with a warning. Answers how many items were put."""
        dynamodb, secretsmanager = self.client("dynamodb"), self.client("secretsmanager")
        tables = {res.logical_id: res for res in self.template.tables}
        put = 0
        for logical_id, items in (snapshot.get("tables") or {}).items():
            if logical_id not in tables:
                log.warning("the saved state has a table %s the template does not; skipped", logical_id)
                continue
            name = self.resolver.refs[logical_id]
            for start in range(0, len(items), BATCH_WRITE):
                batch = [
                    {"PutRequest": {"Item": _dynamo_item(i)}} for i in items[start : start + BATCH_WRITE]
                ]
                pending: dict[str, Any] = {name: batch}
                while pending:
                    pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                put += len(batch)
        secrets_ = {res.logical_id for res in self.template.secrets}
        for logical_id, value in (snapshot.get("secrets") or {}).items():
            if logical_id not in secrets_:
                log.warning("the saved state has a secret %s the template does not; skipped", logical_id)
                continue
            arn = self.resolver.refs[logical_id]
            if "SecretString" in value:
                secretsmanager.put_secret_value(SecretId=arn, SecretString=value["SecretString"])
            elif "SecretBinary" in value:
                secretsmanager.put_secret_value(
                    SecretId=arn, SecretBinary=base64.b64decode(value["SecretBinary"])
                )
        return put

    # -- roles --------------------------------------------------------------------------------
    def _create_roles(self, synthesized: dict[str, Any]) -> None:
        """Each function's role as `sam deploy` creates it, assumed as Lambda assumes it."""
        self.roles = function_roles(synthesized, self.resolver, self.prefix)
        if missing := set(self.template.functions) - set(self.roles):  # they would run unchecked
            raise RuntimeError(f"No role synthesized for {sorted(missing)}")
        self._credentials.clear()
        assert self.gate is not None
        self.gate.principals.clear()
        iam, sts = self.client("iam"), self.client("sts")
        by_name: dict[str, Role] = {role.name: role for role in self.roles.values()}

        def create(role: Role) -> str:
            arn: str = iam.create_role(
                RoleName=role.name, AssumeRolePolicyDocument=json.dumps(role.trust_policy)
            )["Role"]["Arn"]
            for name, document in role.inline.items():
                # IAM takes a document without a Version (2008-10-17); moto insists on one.
                versioned = {"Version": "2012-10-17", **document}
                iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(versioned))
            # moto loads no AWS managed policies to attach: the gate reads their documents from its data.
            return arn

        def assume(fid: str, role_arn: str) -> None:
            assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName=self.function_name(fid)[:64])
            keys = assumed["Credentials"]
            self._credentials[fid] = AwsCredentials(
                keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"]
            )
            assert self.gate is not None
            self.gate.principals[keys["AccessKeyId"]] = Principal(
                fid, assumed["AssumedRoleUser"]["Arn"], tuple(self.roles[fid].statements)
            )

        # One at a time: moto's IAM backend is not thread-safe (a put_role_policy looking its role
        # up while another thread creates one fails with "dictionary changed size during
        # iteration"), and threads saved no time on this in-process server anyway.
        arns = {name: create(role) for name, role in by_name.items()}
        for fid in self.roles:
            assume(fid, arns[self.roles[fid].name])

    def secret_arn(self, secret_id: str) -> str:
        """A secret's full ARN from its name, full or partial ARN (IAM checks the full one)."""
        if secret_id in self._secret_arns:
            return self._secret_arns[secret_id]
        for arn in self._secret_arns.values():
            if secret_id == arn or (secret_id.startswith("arn:") and arn.startswith(secret_id + "-")):
                return arn
        if secret_id.startswith("arn:"):
            return secret_id
        return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}:secret:{secret_id}"

    # -- resources ----------------------------------------------------------------------------
    def _name(self, res: Resource, prop: str) -> str:
        given = self.resolver.resolve(res.properties.get(prop))
        return given if isinstance(given, str) else f"{self.prefix}-{res.logical_id}"

    def _create_resources(self) -> None:
        """Tables, queues, secrets, topics (their properties may `!Sub` earlier names)."""
        for res in self.template.resources.values():
            self._placeholder(res)
        for res in self.template.tables:
            self._create_table(res)
        for res in self.template.queues:
            self._create_queue(res)
        for res in self.template.queues:
            self._set_redrive(res)
        for res in self.template.secrets:
            self._create_secret(res)
        for res in self.template.of_type("AWS::SNS::Topic"):
            self._create_topic(res)
        for source in self.template.schedules:
            self._create_rule(source)

    def _create_rule(self, source: ScheduleSource) -> None:
        """Named schedule rules exist in moto too, so code that switches them works locally.
        (They are not fired by moto; `--schedule-every` does that.)"""
        if source.kind != "Schedule" or source.name is None:
            return
        self.client("events").put_rule(
            Name=cfn_string(self.resolver.resolve(source.name)),
            ScheduleExpression=source.expression,
            State="ENABLED" if source.enabled else "DISABLED",
        )

    def _placeholder(self, res: Resource) -> None:
        """Names for resources moto does not host, so `!Ref`/`!GetAtt` of them still resolve."""
        if res.type == FUNCTION_TYPE:
            fn = self.template.functions[res.logical_id]
            name = fn.function_name or f"{self.prefix}-{res.logical_id}"
            arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        else:
            name = f"{self.prefix}-{res.logical_id}"
            service = res.type.split("::")[1].lower() if res.type.count("::") == 2 else "local"
            arn = f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{name}"
        self.resolver.refs[res.logical_id] = name
        self.resolver.attrs[(res.logical_id, "Arn")] = arn

    def _create_table(self, res: Resource) -> None:
        props = self.resolver.resolve(res.properties)
        name = self._name(res, "TableName")
        args: dict[str, Any] = {"TableName": name, "BillingMode": "PAY_PER_REQUEST"}
        if res.type == "AWS::Serverless::SimpleTable":
            key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
            args["KeySchema"] = [{"AttributeName": key["Name"], "KeyType": "HASH"}]
            args["AttributeDefinitions"] = [
                {"AttributeName": key["Name"], "AttributeType": _SIMPLE_TABLE_TYPES[key["Type"]]}
            ]
        else:
            args["KeySchema"] = props["KeySchema"]
            args["AttributeDefinitions"] = props["AttributeDefinitions"]
        for prop in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(prop):
                args[prop] = [{k: ix[k] for k in _INDEX_KEYS if k in ix} for ix in props[prop]]
        if stream := props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        client = self.client("dynamodb")
        table = client.create_table(**args)["TableDescription"]
        if (ttl := props.get("TimeToLiveSpecification")) and ttl.get("Enabled"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        self.resolver.refs[res.logical_id] = name
        self.resolver.attrs[(res.logical_id, "Arn")] = table["TableArn"]
        if "LatestStreamArn" in table:
            self.resolver.attrs[(res.logical_id, "StreamArn")] = table["LatestStreamArn"]

    def _create_queue(self, res: Resource) -> None:
        props = self.resolver.resolve(res.properties)
        name = self._name(res, "QueueName")
        fifo = cfn_string(props.get("FifoQueue", False)) == "true"
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {k: cfn_string(props[k]) for k in _QUEUE_ATTRIBUTES if k in props}
        client = self.client("sqs")
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.resolver.refs[res.logical_id] = url
        self.resolver.attrs.update(
            {
                (res.logical_id, "Arn"): arn,
                (res.logical_id, "QueueName"): name,
                (res.logical_id, "QueueUrl"): url,
            }
        )

    def _set_redrive(self, res: Resource) -> None:
        """After every queue exists, since a dead-letter queue may be declared after its source."""
        attributes = {}
        for prop in ("RedrivePolicy", "RedriveAllowPolicy"):
            value = self.resolver.resolve(res.properties.get(prop))
            if value:
                attributes[prop] = value if isinstance(value, str) else json.dumps(value)
        if attributes:
            self.client("sqs").set_queue_attributes(
                QueueUrl=self.queue_url(res.logical_id), Attributes=attributes
            )

    def _create_topic(self, res: Resource) -> None:
        """moto keeps what is published (``published``); email subscriptions are not made here."""
        name = self._name(res, "TopicName")
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.resolver.refs[res.logical_id] = arn  # a topic's Ref is its ARN
        self.resolver.attrs.update({(res.logical_id, "TopicArn"): arn, (res.logical_id, "TopicName"): name})

    def published(self, topic_logical_id: str) -> list[dict[str, Any]]:
        """What was published to a topic of this stack: subject and message, oldest first."""
        from moto.sns.models import sns_backends  # this process's: the server runs in it

        arn = self.resolver.refs[topic_logical_id]
        topic = sns_backends[ACCOUNT_ID][self.region].topics.get(arn)
        return [
            {"subject": subject, "message": message}
            for _, message, subject, *_ in (topic.sent_notifications if topic else [])
        ]

    def _create_secret(self, res: Resource) -> None:
        props = self.resolver.resolve(res.properties)
        value = props.get("SecretString")
        if value is None:
            value = _generated_secret(props.get("GenerateSecretString") or {})
        name = self._name(res, "Name")
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        self._secret_arns[name] = arn
        self.resolver.refs[res.logical_id] = arn
        self.resolver.attrs[(res.logical_id, "Arn")] = arn
        self.resolver.attrs[(res.logical_id, "Id")] = arn

    def queue_url(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def queue_arn(self, logical_id: str) -> str:
        return self.resolver.attrs[(logical_id, "Arn")]

    def function_name(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    # -- environment --------------------------------------------------------------------------
    def function_environment(self, fn: Function) -> dict[str, str]:
        """The function's variables as Lambda would see them (strings, `AWS::NoValue` dropped)."""
        env: dict[str, str] = {}
        for name, raw in fn.environment.items():
            value = self.resolver.resolve(raw)
            if value is NO_VALUE:
                continue
            env[name] = cfn_string(value)
            if "${" in env[name]:
                log.warning("%s: %s=%s could not be fully resolved locally", fn.logical_id, name, env[name])
        return env

    def apply_function_environment(self) -> dict[str, str]:
        """One process hosts every function, so their variables are merged into os.environ."""
        merged: dict[str, str] = {}
        owner: dict[str, str] = {}
        for fn in self.template.functions.values():
            for name, value in self.function_environment(fn).items():
                if name in merged and merged[name] != value:
                    log.warning(
                        "%s and %s disagree on %s; using %s's value",
                        owner[name],
                        fn.logical_id,
                        name,
                        owner[name],
                    )
                    continue
                merged.setdefault(name, value)
                owner.setdefault(name, fn.logical_id)
        merged["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon locally
        # One process is the only "container", with one in-process worker: it has the whole budget.
        merged["HALO_RATE_SHARE"] = "1"
        # No sign-in on loopback (the `make serve` contract): the console loads without Cognito,
        # and the runner hands each request an operator's claims (``local.invoke.jwt_context``).
        merged["CONSOLE_AUTH_DOMAIN"] = merged["CONSOLE_CLIENT_ID"] = ""
        # The fakes listen on 127.0.0.1: upstream URLs may name loopback here (never deployed).
        merged["ALLOW_LOOPBACK_UPSTREAMS"] = "true"
        merged.setdefault("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE)
        for name, value in merged.items():
            self._env.set(name, value)
        return merged


def _json_value(value: dict[str, Any]) -> dict[str, Any]:
    """One DynamoDB attribute value (as the low-level client answers it) made JSON-ready."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {kind: base64.b64encode(inner).decode()}
    if kind == "BS":
        return {kind: [base64.b64encode(b).decode() for b in inner]}
    if kind == "M":
        return {kind: _json_item(inner)}
    if kind == "L":
        return {kind: [_json_value(v) for v in inner]}
    return {kind: inner}


def _dynamo_value(value: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`_json_value`."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {kind: base64.b64decode(inner)}
    if kind == "BS":
        return {kind: [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {kind: _dynamo_item(inner)}
    if kind == "L":
        return {kind: [_dynamo_value(v) for v in inner]}
    return {kind: inner}


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _json_value(value) for name, value in item.items()}


def _dynamo_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _dynamo_value(value) for name, value in item.items()}


def _access_key() -> str:
    """An access key id shaped like AWS's (20 upper-case letters and digits)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def _generated_secret(spec: dict[str, Any]) -> str:
    """A local stand-in for CloudFormation's GenerateSecretString."""
    password = secrets.token_urlsafe(int(spec.get("PasswordLength", 32)))[
        : int(spec.get("PasswordLength", 32))
    ]
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        return json.dumps({**json.loads(template), key: password})
    return password
