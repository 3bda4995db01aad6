"""The shapes of botocore, boto3 and moto that the local stack's patches and reads rely on.

Each patch in `local/patches/` replaces or wraps a library's internals because no public way
exists; a library release can move them without a word, and the patch then does nothing or
breaks. These tests fail that day, naming what moved.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.credentials
import pytest
import requests
from boto3.dynamodb.conditions import Key
from boto3.dynamodb.transform import TransformationInjector
from botocore.awsrequest import AWSResponse
from botocore.credentials import CredentialProvider, Credentials
from moto import mock_aws
from werkzeug.serving import WSGIRequestHandler

from local import credentials
from local.aws.resources import ACCOUNT_ID
from local.aws.server import MotoServer
from local.credentials import AwsCredentials, RoutedProvider, acting_as
from local.gate import IamGate
from local.moto_memory import let_go
from local.patches import boto3 as boto3_patch
from local.patches import botocore as botocore_patch
from local.patches import moto as moto_patch
from local.patches.boto3 import build_conditions_one_at_a_time
from local.patches.botocore import put_first_in_every_chain

REGION = "ap-southeast-2"


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


class _Body:
    """A response body as botocore reads one off the wire."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _answer(client: Any, body: dict[str, Any], sent: list[Any]) -> None:
    """`client` answers every request with `body`, unsent; `sent` receives each signed request."""

    def reply(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Body(json.dumps(body).encode()))

    client.meta.events.register("before-send", reply)


def _signed_key(request: Any) -> str:
    return request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0]


# -- botocore: every session's credential chain -----------------------------------------------


@pytest.fixture
def unpatched_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore as it ships for the test's patch, whatever a local stack did before; put back after."""
    shipped = botocore_patch._original or botocore.credentials.create_credential_resolver
    monkeypatch.setattr(botocore.credentials, "create_credential_resolver", shipped)
    monkeypatch.setattr(botocore_patch, "_original", None)
    monkeypatch.setattr(botocore_patch, "_make_first", None)


class _Fixed(CredentialProvider):  # type: ignore[misc]
    METHOD = "test-fixed"

    def load(self) -> Credentials:
        return Credentials("AKIAFIXED", "secret", method=self.METHOD)


def test_botocore_builds_each_session_chain_in_create_credential_resolver(unpatched_botocore):
    assert _parameters(botocore.credentials.create_credential_resolver)[0] == "session"
    put_first_in_every_chain(_Fixed)
    session = boto3.session.Session(region_name=REGION)  # as a library makes its own
    assert session.get_credentials().access_key == "AKIAFIXED"
    assert session.get_credentials().method == "test-fixed"
    explicit = boto3.session.Session(aws_access_key_id="AKIAEXPLICIT", aws_secret_access_key="x")
    assert explicit.get_credentials().access_key == "AKIAEXPLICIT"  # explicit keys bypass every chain


def test_botocore_asks_a_clients_credentials_at_each_signing(unpatched_botocore, monkeypatch):
    """The routed credentials change with the running function: botocore must not freeze them."""
    monkeypatch.setattr(credentials, "_admin", AwsCredentials("AKIAADMIN", "secret"))
    put_first_in_every_chain(RoutedProvider)
    client = boto3.session.Session(region_name=REGION).client("dynamodb")
    sent: list[Any] = []
    _answer(client, {"TableNames": []}, sent)
    client.list_tables()
    with acting_as(AwsCredentials("AKIAROLE", "secret", "token")):
        client.list_tables()
    assert [_signed_key(r) for r in sent] == ["AKIAADMIN", "AKIAROLE"]
    assert sent[1].headers["X-Amz-Security-Token"] == b"token"


# -- boto3: the DynamoDB resource's condition injector ------------------------------------------


class _CountingLock:
    def __init__(self) -> None:
        self.entered = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()
        self.entered += 1

    def __exit__(self, *_: Any) -> None:
        self._lock.release()


def test_boto3_resources_build_conditions_through_the_injectors_method(monkeypatch):
    assert _parameters(TransformationInjector.inject_condition_expressions)[:3] == ["self", "params", "model"]
    build_conditions_one_at_a_time()  # what every local stack's start does; lasts for the process
    lock = _CountingLock()
    monkeypatch.setattr(boto3_patch, "_lock", lock)
    session = boto3.session.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    table = session.resource("dynamodb").Table("t")
    sent: list[Any] = []
    _answer(table.meta.client, {"Items": [], "Count": 0, "ScannedCount": 0}, sent)
    table.query(KeyConditionExpression=Key("pk").eq("RUN#1") & Key("sk").begins_with("ITEM#"))
    assert lock.entered == 1
    body = json.loads(sent[0].body)
    assert body["ExpressionAttributeNames"] == {"#n0": "pk", "#n1": "sk"}


# -- moto: the DynamoDB speed-up ----------------------------------------------------------------


def _as_shipped(key: str, owner: type, name: str) -> Any:
    """What moto defines for `owner.name`, whether or not the speed-up replaced it."""
    replaced = moto_patch._replaced.get(key)
    return replaced.original if replaced is not None else getattr(owner, name, None)


def test_moto_replaced_methods_keep_their_signatures():
    from moto.core.responses import ActionResult
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    transact = _as_shipped("transact", DynamoDBBackend, "transact_write_items")
    assert _parameters(transact) == ["self", "transact_items"]
    query = _as_shipped("query", Table, "query")
    wrapper = _parameters(moto_patch._partition_query)
    assert _parameters(query) == [
        "self",
        *wrapper[1:-1],
        "hash_key_conditions",
        "range_key_conditions",
        "filter_kwargs",
    ]
    execute_result = _as_shipped("execute_result", DynamoResult, "execute_result")
    assert execute_result is ActionResult.execute_result  # inherited: restored by deleting ours
    assert _parameters(execute_result) == ["self", "context"]
    assert _as_shipped("deepcopy", Table, "__deepcopy__") is None  # moto's deepcopy is the generic one


def test_moto_tables_keep_their_items_where_the_speed_up_reads_them():
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    assert RESULT_SIZE_LIMIT == 1_000_000
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
        )
        for sk in ("b", "a"):
            client.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": sk}, "n": {"N": "1"}})
        backend = dynamodb_backends[ACCOUNT_ID][REGION]
        table = backend.tables["t"]
        assert (table.name, table.hash_key_attr, table.range_key_attr, table.range_key_type) == (
            "t",
            "pk",
            "sk",
            "S",
        )
        ((hash_key, partition),) = table.items.items()
        assert hash_key.value == "p"
        assert sorted(k.value for k in partition) == ["a", "b"]
        key = min(partition, key=lambda k: k.value)
        assert key.compare("BEGINS_WITH", [type(key)({"S": "a"})])
        item = partition[key]
        assert item.size() > 0
        assert item.to_json()["Attributes"] == {"pk": {"S": "p"}, "sk": {"S": "a"}, "n": {"N": "1"}}
        last_key = table._get_last_evaluated_key(item, None)
        assert {name: value.value for name, value in last_key.items()} == {"pk": "p", "sk": "a"}
        found = backend.get_item("t", {"pk": {"S": "p"}, "sk": {"S": "a"}})
        assert found.to_json() == item.to_json()
        backend.delete_item("t", {"pk": {"S": "p"}, "sk": {"S": "a"}})
        backend.put_item("t", {"pk": {"S": "p"}, "sk": {"S": "c"}})
        assert [i.to_json()["Attributes"]["sk"] for i in table.all_items()] == [{"S": "b"}, {"S": "c"}]


# -- moto: what the local stack reads or calls (no patch) ---------------------------------------


def test_moto_tracks_models_in_instances_tracked_and_lets_go_on_reset():
    from moto.dynamodb.models.dynamo_type import Item

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        client.put_item(TableName="t", Item={"pk": {"S": "p"}})
        assert Item.instances_tracked  # else moto stopped tracking: local/moto_memory.py can go
        let_go()
        assert Item.instances_tracked == []


def test_moto_sns_keeps_what_was_published():
    from moto.sns.models import sns_backends

    with mock_aws():
        client = boto3.client("sns", region_name=REGION)
        arn = client.create_topic(Name="alarms")["TopicArn"]
        client.publish(TopicArn=arn, Subject="subject", Message="message")
        sent = sns_backends[ACCOUNT_ID][REGION].topics.get(arn).sent_notifications
        assert [(message, subject) for _, message, subject, *_ in sent] == [("message", "subject")]


def test_motos_wsgi_app_serves_behind_a_gate_on_werkzeug():
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    assert issubclass(MotoRequestHandler, WSGIRequestHandler)
    gates: list[IamGate] = []

    def make_gate(app: Any) -> IamGate:
        gates.append(IamGate(app, account=ACCOUNT_ID))
        return gates[0]

    server = MotoServer(make_gate)
    url = server.start()
    try:
        assert requests.get(f"{url}/moto-api/data.json", timeout=10).ok  # moto's own, past the gate
        refused = requests.post(
            url, headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"}, data="{}", timeout=10
        )
        assert refused.json()["__type"] == "MissingAuthenticationTokenException"  # the gate's answer
    finally:
        server.stop()
    assert len(gates) == 1
