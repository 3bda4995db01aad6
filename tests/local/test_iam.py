"""The pure parts of local IAM: statement evaluation, what a request needs, and roles from the
synthesized template (the gate that applies them: test_gate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.iam import (
    Access,
    Statement,
    Target,
    denial_message,
    evaluate,
    function_roles,
    managed_policy_arn,
    managed_policy_document,
    required_access,
    statements_of,
    synthesize,
)
from local.intrinsics import Resolver

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "ap-southeast-2"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"
HERE = Target(REGION, ACCOUNT)


def allow(action, resource="*", **extra) -> Statement:
    return Statement.parse({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def deny(action, resource="*", **extra) -> Statement:
    return Statement.parse({"Effect": "Deny", "Action": action, "Resource": resource, **extra})


# -- evaluation -------------------------------------------------------------------------------


def test_nothing_allows_by_default():
    assert evaluate([], "dynamodb:GetItem", TABLE).allowed is False


def test_an_allow_needs_both_action_and_resource():
    statements = [allow("dynamodb:GetItem", TABLE)]
    assert evaluate(statements, "dynamodb:GetItem", TABLE).allowed
    assert not evaluate(statements, "dynamodb:PutItem", TABLE).allowed
    assert not evaluate(statements, "dynamodb:GetItem", TABLE + "2").allowed
    assert not evaluate(statements, "dynamodb:GetItem", TABLE + "/index/gsi1").allowed


def test_actions_match_case_insensitively_with_wildcards():
    statements = [allow(["sqs:SendMessage*", "secretsmanager:Get?ecretValue"])]
    for action in (
        "sqs:SendMessage",
        "SQS:sendmessage",
        "sqs:SendMessageBatch",
        "secretsmanager:GetSecretValue",
    ):
        assert evaluate(statements, action, "*").allowed, action
    assert not evaluate(statements, "sqs:ReceiveMessage", "*").allowed
    assert not evaluate(statements, "secretsmanager:GetSecretValues", "*").allowed


def test_resources_match_case_sensitively_with_wildcards_across_separators():
    statements = [allow("dynamodb:Query", f"{TABLE}/index/*")]
    assert evaluate(statements, "dynamodb:Query", f"{TABLE}/index/gsi1").allowed
    assert evaluate(statements, "dynamodb:Query", f"{TABLE}/index/a/b").allowed
    assert not evaluate(statements, "dynamodb:Query", TABLE).allowed
    assert not evaluate(statements, "dynamodb:Query", f"{TABLE.upper()}/index/gsi1").allowed
    assert not evaluate(
        [allow("sqs:*", "arn:aws:sqs:*:*:q?")], "sqs:SendMessage", "arn:aws:sqs:r:1:q12"
    ).allowed
    assert evaluate([allow("sqs:*", "arn:aws:sqs:*:*:q?")], "sqs:SendMessage", "arn:aws:sqs:r:1:q1").allowed


def test_brackets_and_dots_are_literal():
    assert not evaluate(
        [allow("s3:GetObject", "arn:aws:s3:::b/[a]")], "s3:GetObject", "arn:aws:s3:::b/a"
    ).allowed
    assert not evaluate(
        [allow("s3:GetObject", "arn:aws:s3:::a.c")], "s3:GetObject", "arn:aws:s3:::abc"
    ).allowed


def test_not_action_and_not_resource():
    everything_but = Statement.parse({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate([everything_but], "dynamodb:PutItem", TABLE).allowed
    assert not evaluate([everything_but], "IAM:CreateRole", "*").allowed
    elsewhere = Statement.parse({"Effect": "Allow", "Action": "dynamodb:*", "NotResource": TABLE})
    assert evaluate([elsewhere], "dynamodb:PutItem", TABLE + "2").allowed
    assert not evaluate([elsewhere], "dynamodb:PutItem", TABLE).allowed


def test_an_explicit_deny_wins_wherever_it_is():
    allow_all, deny_delete = allow("dynamodb:*"), deny("dynamodb:DeleteItem", TABLE)
    for statements in ([allow_all, deny_delete], [deny_delete, allow_all]):
        decision = evaluate(statements, "dynamodb:DeleteItem", TABLE)
        assert (decision.allowed, decision.explicit_deny) == (False, True)
        assert decision.statement is not None and decision.statement.effect == "Deny"
        assert evaluate(statements, "dynamodb:PutItem", TABLE).allowed


def test_a_statement_with_a_condition_fails_closed():
    conditional = allow("dynamodb:GetItem", TABLE, Condition={"Bool": {"aws:SecureTransport": "true"}})
    decision = evaluate([conditional], "dynamodb:GetItem", TABLE)
    assert (decision.allowed, decision.skipped) == (False, (conditional,))
    also_plain = evaluate([conditional, allow("dynamodb:GetItem", TABLE)], "dynamodb:GetItem", TABLE)
    assert also_plain.allowed and also_plain.skipped == (conditional,)
    conditional_deny = deny("dynamodb:*", "*", Condition={"StringEquals": {"aws:RequestedRegion": "x"}})
    assert evaluate([allow("dynamodb:*"), conditional_deny], "dynamodb:GetItem", TABLE).explicit_deny


def test_statements_of_a_document_accept_single_values():
    (statement,) = statements_of({"Statement": {"Effect": "Allow", "Action": "a:B", "Resource": "r"}}, "p")
    assert (statement.actions, statement.resources, statement.source) == (("a:B",), ("r",), "p")
    assert not Statement.parse({"Effect": "Allow", "Action": "a:B"}).applies("a:B", "r")  # no Resource


# -- what a request needs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("PutItem", {"TableName": "t"}, [("dynamodb:PutItem", TABLE)]),
        ("GetItem", {"TableName": TABLE}, [("dynamodb:GetItem", TABLE)]),
        ("Query", {"TableName": "t", "IndexName": "gsi1"}, [("dynamodb:Query", f"{TABLE}/index/gsi1")]),
        ("Scan", {"TableName": "t"}, [("dynamodb:Scan", TABLE)]),
        ("DescribeTable", {"TableName": "t"}, [("dynamodb:DescribeTable", TABLE)]),
        ("ListTables", {}, [("dynamodb:ListTables", "*")]),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "t"}},
                    {"Update": {"TableName": "u"}},
                    {"Delete": {"TableName": "t"}},
                    {"ConditionCheck": {"TableName": "t"}},
                ]
            },
            [
                ("dynamodb:PutItem", TABLE),
                ("dynamodb:UpdateItem", TABLE[:-1] + "u"),
                ("dynamodb:DeleteItem", TABLE),
                ("dynamodb:ConditionCheckItem", TABLE),
            ],
        ),
        ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "t"}}]}, [("dynamodb:GetItem", TABLE)]),
        (
            "BatchWriteItem",
            {"RequestItems": {"t": [], "u": []}},
            [("dynamodb:BatchWriteItem", TABLE), ("dynamodb:BatchWriteItem", TABLE[:-1] + "u")],
        ),
        ("BatchGetItem", {"RequestItems": {"t": {}}}, [("dynamodb:BatchGetItem", TABLE)]),
    ],
)
def test_dynamodb_calls_name_their_tables_and_indexes(operation, params, expected):
    assert required_access("dynamodb", operation, params, HERE) == [Access(a, r) for a, r in expected]


QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:work"


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("SendMessage", {"QueueUrl": f"http://127.0.0.1:5000/{ACCOUNT}/work"}, ("sqs:SendMessage", QUEUE)),
        ("SendMessageBatch", {"QueueUrl": f"http://x/{ACCOUNT}/work"}, ("sqs:SendMessage", QUEUE)),
        ("DeleteMessageBatch", {"QueueUrl": f"http://x/{ACCOUNT}/work"}, ("sqs:DeleteMessage", QUEUE)),
        (
            "ChangeMessageVisibilityBatch",
            {"QueueUrl": f"http://x/{ACCOUNT}/work"},
            ("sqs:ChangeMessageVisibility", QUEUE),
        ),
        (
            "ReceiveMessage",
            {"QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/work"},
            ("sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:work"),
        ),
        ("GetQueueUrl", {"QueueName": "work"}, ("sqs:GetQueueUrl", QUEUE)),
        (
            "GetQueueUrl",
            {"QueueName": "w", "QueueOwnerAWSAccountId": "1"},
            ("sqs:GetQueueUrl", "arn:aws:sqs:ap-southeast-2:1:w"),
        ),
        ("ListQueues", {}, ("sqs:ListQueues", "*")),
    ],
)
def test_sqs_calls_name_their_queue_and_batches_need_the_single_action(operation, params, expected):
    assert required_access("sqs", operation, params, HERE) == [Access(*expected)]


def test_sqs_query_protocol_posted_to_the_queue_url():
    target = Target(REGION, ACCOUNT, url_path=f"/{ACCOUNT}/work")
    assert required_access("sqs", "SendMessage", {"Action": "SendMessage"}, target) == [
        Access("sqs:SendMessage", QUEUE)
    ]


def test_secrets_are_checked_by_their_full_arn():
    full = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:creds-AbCdEf"
    target = Target(REGION, ACCOUNT, secret_arn={"creds": full, full: full}.__getitem__)
    for secret_id in ("creds", full):
        for operation in ("GetSecretValue", "PutSecretValue", "DescribeSecret"):
            assert required_access("secretsmanager", operation, {"SecretId": secret_id}, target) == [
                Access(f"secretsmanager:{operation}", full)
            ]
    assert required_access("secretsmanager", "ListSecrets", {}, target) == [
        Access("secretsmanager:ListSecrets", "*")
    ]
    assert required_access("secretsmanager", "BatchGetSecretValue", {"SecretIdList": ["creds"]}, target) == [
        Access("secretsmanager:BatchGetSecretValue", "*"),
        Access("secretsmanager:GetSecretValue", full),
    ]


def test_eventbridge_rules_and_buses():
    base = f"arn:aws:events:{REGION}:{ACCOUNT}"
    for operation in ("PutRule", "DescribeRule", "EnableRule", "DisableRule"):
        assert required_access("events", operation, {"Name": "sync"}, HERE) == [
            Access(f"events:{operation}", f"{base}:rule/sync")
        ]
    assert required_access("events", "PutTargets", {"Rule": "sync", "EventBusName": "mine"}, HERE) == [
        Access("events:PutTargets", f"{base}:rule/mine/sync")
    ]
    assert required_access(
        "events", "PutEvents", {"Entries": [{}, {"EventBusName": f"{base}:event-bus/b"}]}, HERE
    ) == [
        Access("events:PutEvents", f"{base}:event-bus/b"),
        Access("events:PutEvents", f"{base}:event-bus/default"),
    ]
    assert required_access("events", "ListRules", {}, HERE) == [Access("events:ListRules", "*")]


def test_other_calls():
    assert required_access("sts", "GetCallerIdentity", {}, HERE) == []
    assert required_access("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r"}, HERE) == [
        Access("sts:AssumeRole", "arn:aws:iam::1:role/r")
    ]
    assert required_access("monitoring", "PutMetricData", {}, HERE) == [
        Access("cloudwatch:PutMetricData", "*")
    ]
    assert required_access("lambda", "TagResource", {"ResourceArn": "arn:x"}, HERE) == [
        Access("lambda:TagResource", "arn:x")
    ]


def test_denial_messages_read_as_aws_writes_them():
    who = f"arn:aws:sts::{ACCOUNT}:assumed-role/r/fn"
    assert denial_message(who, Access("dynamodb:PutItem", TABLE), explicit=False) == (
        f"User: {who} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert denial_message(who, Access("dynamodb:PutItem", TABLE), explicit=True).endswith(
        f"on resource: {TABLE} with an explicit deny in an identity-based policy"
    )
    assert "perform: sqs:sendmessage on resource" in denial_message(
        who, Access("sqs:SendMessage", QUEUE), False, "sqs"
    )


# -- roles of the synthesized template --------------------------------------------------------


def test_managed_policies_come_from_morotos_copy():
    arn = managed_policy_arn("AWSLambdaSQSQueueExecutionRole")
    assert arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
    document = managed_policy_document(arn)
    assert document is not None and "sqs:ReceiveMessage" in json.dumps(document)
    assert (
        managed_policy_document("arn:aws:iam::aws:policy/AWSLambdaSQSQueueExecutionRole") is None
    )  # wrong path
    assert managed_policy_document("arn:aws:iam::123456789012:policy/mine") is None


@pytest.fixture(scope="module")
def roles():
    resolver = Resolver(
        refs={"Table": "tbl", "CredentialsSecret": "arn:secret-x"},
        attrs={("WorkQueue", "QueueName"): "work"},
        stack_name="stack",
    )
    return function_roles(synthesize(ROOT / "template.yaml"), resolver, "stack")


def test_every_function_has_its_role_with_policies_resolved(roles):
    assert set(roles) == {
        "TestConfigFunction", "SettingsFunction", "GenerateMappingsFunction", "MappingsFunction",
        "ImportCustomersFunction", "ImportSubscriptionsFunction", "RunsFunction", "SyncFunction",
        "WorkerFunction", "ConsoleFunction", "PreTokenFunction", "ConsoleClientFunction", "ProductsFunction",
        "BillingFunction",
    }  # fmt: skip
    settings = roles["SettingsFunction"]
    assert settings.name == "stack-SettingsFunctionRole"
    assert settings.trust_policy["Statement"][0]["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tbl"
    assert evaluate(settings.statements, "dynamodb:PutItem", table).allowed
    assert evaluate(settings.statements, "dynamodb:Query", f"{table}/index/gsi1").allowed
    assert evaluate(settings.statements, "secretsmanager:PutSecretValue", "arn:secret-x").allowed
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/stack-sync"
    assert evaluate(settings.statements, "events:PutRule", rule).allowed
    assert not evaluate(settings.statements, "events:PutRule", rule + "2").allowed
    runs = roles["RunsFunction"]
    assert evaluate(runs.statements, "dynamodb:Query", table).allowed
    assert not evaluate(runs.statements, "dynamodb:PutItem", table).allowed
    assert not evaluate(runs.statements, "secretsmanager:GetSecretValue", "arn:secret-x").allowed


def test_the_worker_has_the_sqs_poller_policy_sam_adds(roles):
    worker = roles["WorkerFunction"]
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" in worker.managed
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:work"
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert evaluate(worker.statements, action, queue).allowed, action
    assert evaluate(
        worker.statements, "logs:PutLogEvents", "arn:aws:logs:x"
    ).allowed  # AWSLambdaBasicExecutionRole


def test_the_worker_may_queue_its_follow_up_jobs_and_nothing_else(roles):
    worker = roles["WorkerFunction"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:work"
    assert evaluate(worker.statements, "sqs:SendMessage", queue).allowed
    assert not evaluate(worker.statements, "sqs:SendMessage", queue + "-dead-letters").allowed
    assert not evaluate(worker.statements, "sqs:PurgeQueue", queue).allowed
