"""The template's tables, queues, secrets, topics and schedule rules, created in moto.

Each resource is created from the template's own Properties, and what CloudFormation's `!Ref`
and `!GetAtt` would answer for it (its physical name, ARN, URL) goes into the stack's resolver,
so later properties, roles and the functions' variables resolve to the names moto gave.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.intrinsics import Resolver, cfn_string
from local.template import FUNCTION_TYPE, Resource, ScheduleSource, Template

ACCOUNT_ID = "123456789012"  # moto's default account
PREFIX = "ddhalo-local"  # the stack's name, and the start of the names the template leaves unset

# CloudFormation properties of AWS::SQS::Queue that are SQS attributes under the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
    "FifoThroughputLimit",
)  # fmt: skip
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection")
_SIMPLE_TABLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


@dataclass
class StackResources:
    """Creates the template's resources through `client` (a client of the stack, as admin)."""

    template: Template
    resolver: Resolver
    client: Callable[[str], Any]
    region: str
    prefix: str = PREFIX
    secret_arns: dict[str, str] = field(default_factory=dict)  # by name

    def create(self) -> None:
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

    def _name(self, res: Resource, prop: str) -> str:
        given = self.resolver.resolve(res.properties.get(prop))
        return given if isinstance(given, str) else f"{self.prefix}-{res.logical_id}"

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
        client = self.client("dynamodb")
        table = client.create_table(**_table_arguments(res.type, name, props))["TableDescription"]
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
                QueueUrl=self.resolver.refs[res.logical_id], Attributes=attributes
            )

    def _create_secret(self, res: Resource) -> None:
        props = self.resolver.resolve(res.properties)
        value = props.get("SecretString")
        if value is None:
            value = _generated_secret(props.get("GenerateSecretString") or {})
        name = self._name(res, "Name")
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        self.secret_arns[name] = arn
        self.resolver.refs[res.logical_id] = arn
        self.resolver.attrs[(res.logical_id, "Arn")] = arn
        self.resolver.attrs[(res.logical_id, "Id")] = arn

    def _create_topic(self, res: Resource) -> None:
        """moto keeps what is published (`LocalAws.published`); email subscriptions are not made."""
        name = self._name(res, "TopicName")
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.resolver.refs[res.logical_id] = arn  # a topic's Ref is its ARN
        self.resolver.attrs.update({(res.logical_id, "TopicArn"): arn, (res.logical_id, "TopicName"): name})

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


def _table_arguments(resource_type: str, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """CreateTable's arguments from a table's resolved Properties (billing: on demand)."""
    args: dict[str, Any] = {"TableName": name, "BillingMode": "PAY_PER_REQUEST"}
    if resource_type == "AWS::Serverless::SimpleTable":
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
    return args


def _generated_secret(spec: dict[str, Any]) -> str:
    """A local stand-in for CloudFormation's GenerateSecretString."""
    length = int(spec.get("PasswordLength", 32))
    password = secrets.token_urlsafe(length)[:length]
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        return json.dumps({**json.loads(template), key: password})
    return password
