"""Concurrency as deployed: the SQS event source runs MaximumConcurrency invocations at once, HTTP
requests to one function overlap (each in its own container), ReservedConcurrentExecutions caps
a function, and a function without a permission gets AccessDenied in its handler; and requests
on one client (functions share the shared code's cached ones here) build their conditions apart."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import botocore.session
import pytest
import requests
from boto3.dynamodb.conditions import ConditionExpressionBuilder, Key
from boto3.dynamodb.transform import TransformationInjector

from local.patches.boto3 import build_conditions_one_at_a_time
from local.serve.app import LocalApp

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    CodeUri: fn/
    Timeout: 10
    Environment:
      Variables:
        OUT_DIR: {out}
        QUEUE_URL: !Ref Jobs
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {{VisibilityTimeout: 30}}
  Meet:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.meet
      Events:
        Meet: {{Type: HttpApi, Properties: {{Method: GET, Path: /meet}}}}
  Solo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.solo
      ReservedConcurrentExecutions: 1
      Events:
        Solo: {{Type: HttpApi, Properties: {{Method: GET, Path: /solo}}}}
  Enqueue:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.enqueue
      Policies:
        - SQSSendMessagePolicy: {{QueueName: !GetAtt Jobs.QueueName}}
      Events:
        Enqueue: {{Type: HttpApi, Properties: {{Method: POST, Path: /jobs}}}}
  Nosy:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.enqueue
      Events:
        Nosy: {{Type: HttpApi, Properties: {{Method: POST, Path: /nosy}}}}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.work
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 1
            ScalingConfig: {{MaximumConcurrency: 2}}
"""

# Shared by every container of every function, as a layer's module would be.
RENDEZVOUS = """
import threading
pair = threading.Barrier(2, timeout=5)
jobs = threading.Barrier(2, timeout=5)
lock = threading.Lock()
running = 0
peak = 0
"""

HANDLERS = """
import json, os, pathlib, time
import boto3
from botocore.exceptions import ClientError
import rendezvous

def meet(event, context):
    rendezvous.pair.wait()  # returns only while another request is in here too
    return {"statusCode": 200, "body": json.dumps({"module": __name__})}

def solo(event, context):
    with rendezvous.lock:
        rendezvous.running += 1
        rendezvous.peak = max(rendezvous.peak, rendezvous.running)
    time.sleep(0.2)
    with rendezvous.lock:
        rendezvous.running -= 1
    return {"statusCode": 200, "body": json.dumps({"peak": rendezvous.peak})}

def enqueue(event, context):
    try:
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=event.get("body") or "-")
    except ClientError as exc:
        return {"statusCode": 403, "body": json.dumps(exc.response["Error"])}
    return {"statusCode": 202, "body": "queued"}

def work(event, context):
    (record,) = event["Records"]
    started = time.monotonic()
    rendezvous.jobs.wait()  # returns only while another job runs too
    line = json.dumps({"body": record["body"], "start": started, "end": time.monotonic()})
    with open(pathlib.Path(os.environ["OUT_DIR"]) / "worked", "a") as f:
        f.write(line + "\\n")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("concurrency")
    (root / "fn").mkdir()
    (root / "fn" / "handlers.py").write_text(HANDLERS)
    (root / "fn" / "rendezvous.py").write_text(RENDEZVOUS)
    (root / "template.yaml").write_text(TEMPLATE.format(out=root))
    with LocalApp(port=0, template=root / "template.yaml", seed=False) as app:
        yield app


def _at_once(count: int, call):
    start = threading.Barrier(count)

    def one(_: int):
        start.wait()
        return call()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_http_requests_to_one_function_overlap_in_separate_containers(app):
    answers = _at_once(2, lambda: requests.get(f"{app.url}/meet", timeout=20))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert len({a.json()["module"] for a in answers}) == 2  # two containers, each its own module copy


def test_reserved_concurrency_caps_a_function(app):
    answers = _at_once(3, lambda: requests.get(f"{app.url}/solo", timeout=20))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert max(a.json()["peak"] for a in answers) == 1


def test_the_worker_runs_its_maximum_concurrency_of_jobs_at_once(app):
    (source,) = app.template.sqs_sources
    assert source.maximum_concurrency == 2
    assert app.concurrency(source) == 2
    pollers = [t for t in threading.enumerate() if t.name.startswith("sqs-Worker-Jobs-")]
    assert len(pollers) == 2
    for body in ("first", "second"):
        assert requests.post(f"{app.url}/jobs", data=body, timeout=10).status_code == 202
    worked = app.template.root / "worked"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (worked.exists() and len(worked.read_text().splitlines()) == 2):
        time.sleep(0.05)
    jobs = [json.loads(line) for line in worked.read_text().splitlines()]
    assert sorted(j["body"] for j in jobs) == ["first", "second"]
    first, second = sorted(jobs, key=lambda j: j["start"])
    assert second["start"] < first["end"]  # they ran at the same time


def test_a_function_without_the_permission_gets_access_denied_in_its_handler(app):
    answer = requests.post(f"{app.url}/nosy", data="x", timeout=10)
    assert answer.status_code == 403, answer.text
    error = answer.json()
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/ddhalo-local-NosyRole/ddhalo-local-Nosy "
        f"is not authorized to perform: sqs:sendmessage on resource: {app.aws.queue_arn('Jobs')} "
        "because no identity-based policy allows the sqs:sendmessage action"
    )


def test_requests_on_one_client_build_their_key_conditions_one_at_a_time(monkeypatch):
    """boto3 numbers a request's placeholders with one counter per client, reset per request: a
    second request must not restart it while the first is numbering (or both write `#n0`, and
    the first query's key condition names `sk` twice: "missed key schema element: pk")."""
    build_conditions_one_at_a_time()  # as every local stack's start does
    build = ConditionExpressionBuilder.build_expression
    inside = most = 0
    counting = threading.Lock()

    def slow_build(self, condition, is_key_condition=False):
        nonlocal inside, most
        with counting:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.05)  # long enough for the other request to start meanwhile
            return build(self, condition, is_key_condition)
        finally:
            with counting:
                inside -= 1

    monkeypatch.setattr(ConditionExpressionBuilder, "build_expression", slow_build)
    injector = TransformationInjector()  # one per client
    query = botocore.session.get_session().get_service_model("dynamodb").operation_model("Query")

    def params(run: str) -> dict:
        sent = {"KeyConditionExpression": Key("pk").eq(run) & Key("sk").begins_with("ITEM#")}
        injector.inject_condition_expressions(sent, query)
        return sent

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(params, ["RUN#1", "RUN#2"])
    assert most == 1
    for run, sent in (("RUN#1", first), ("RUN#2", second)):
        assert sent["ExpressionAttributeNames"] == {"#n0": "pk", "#n1": "sk"}
        assert sent["ExpressionAttributeValues"] == {":v0": run, ":v1": "ITEM#"}
