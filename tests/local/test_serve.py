"""The local runner end to end: real template and handlers, plus a synthetic template for
path parameters, SQS draining into a DLQ and schedules."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local.events import http_event, scheduled_event
from local.serve.app import LocalApp
from local.serve.http_server import lambda_http_response
from local.serve.router import Router
from local.serve.upstreams import (
    FAKE_DICKER_DATA_TOKEN,
    FAKE_HALO_CLIENT_ID,
    FAKE_HALO_CLIENT_SECRET,
    DickerDataUpstream,
    UpstreamTargets,
)
from local.template import Route
from tests.local.waits import eventually

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_VARS = ("DICKER_DATA_", "HALO_")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- pieces ---------------------------------------------------------------------------------


def test_router_prefers_specific_routes_and_decodes_parameters():
    def route(method: str, path: str) -> Route:
        return Route(method, path, f"{method} {path}", "e", auth=False)

    router = Router(
        [
            route("ANY", "$default"),
            route("GET", "/a/{id}"),
            route("GET", "/a/me"),
            route("ANY", "/files/{proxy+}"),
        ]
    )
    assert router.match("GET", "/a/me")[0].path == "/a/me"
    assert router.match("GET", "/a/x%20y") == (route("GET", "/a/{id}"), {"id": "x y"})
    assert router.match("PUT", "/files/a/b")[1] == {"proxy": "a/b"}
    assert router.match("DELETE", "/a/me")[0].path == "$default"
    assert Router([route("GET", "/a")]).match("POST", "/a") is None


def test_http_event_follows_payload_v2():
    event = http_event(
        "POST",
        "/x/1",
        "a=1&a=2&b=",
        [("Host", "h"), ("X-Multi", "1"), ("x-multi", "2"), ("Cookie", "c=1; d=2"), ("User-Agent", "t")],
        b"\xff\x00",
        route_key="POST /x/{id}",
        path_parameters={"id": "1"},
    )
    assert event["version"] == "2.0"
    assert event["headers"] == {"host": "h", "x-multi": "1,2", "user-agent": "t"}
    assert event["cookies"] == ["c=1", "d=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"id": "1"}
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, b"\xff\x00")
    ctx = event["requestContext"]
    assert (ctx["routeKey"], ctx["stage"], ctx["http"]["method"], ctx["http"]["userAgent"]) == (
        "POST /x/{id}",
        "$default",
        "POST",
        "t",
    )
    bare = http_event("GET", "/", "", [], b"", route_key="GET /")
    assert not {"queryStringParameters", "pathParameters", "body", "cookies"} & bare.keys()


def test_handler_answers_become_http_responses():
    status, headers, body = lambda_http_response({"ok": True})
    assert (status, json.loads(body)) == (200, {"ok": True})
    status, headers, body = lambda_http_response(
        {
            "statusCode": 201,
            "headers": {"a": "1"},
            "multiValueHeaders": {"b": ["1", "2"]},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (status, body) == (201, b"\x01")
    assert headers == [("a", "1"), ("b", "1"), ("b", "2"), ("Set-Cookie", "s=1")]


def test_scheduled_event_is_the_input_or_the_envelope():
    assert scheduled_event("arn:rule", "r", "1", '{"full": true}') == {"full": True}
    envelope = scheduled_event("arn:rule", "r", "1")
    assert (envelope["detail-type"], envelope["source"], envelope["resources"], envelope["detail"]) == (
        "Scheduled Event",
        "aws.events",
        ["arn:rule"],
        {},
    )


# -- the real template ----------------------------------------------------------------------


@pytest.fixture(scope="class")
def real_app():
    with LocalApp(port=0, upstreams=UpstreamTargets()) as app:
        yield app


class TestRealTemplate:
    @pytest.fixture
    def app(self, real_app):
        return real_app

    def test_config_test_passes_against_the_seeded_fakes(self, app):
        response = requests.post(f"{app.url}/config/test", timeout=20)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True
        assert body["dicker_data"]["ok"] is True
        assert body["halo"]["ok"] is True

    def test_settings_never_show_secrets(self, app):
        response = requests.get(f"{app.url}/settings", timeout=10)
        assert response.status_code == 200, response.text
        for secret in (FAKE_DICKER_DATA_TOKEN, FAKE_HALO_CLIENT_ID, FAKE_HALO_CLIENT_SECRET):
            assert secret not in response.text
        assert response.json()["halo_api_url"] == app.fakes["halo"].api_url

    def test_unknown_route_is_a_404_in_the_error_shape(self, app):
        response = requests.post(f"{app.url}/nope", timeout=10)
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "No route POST /nope"}}

    def test_oversized_body_is_refused(self, app):
        response = requests.put(f"{app.url}/settings", data=b"x" * (6 * 1024 * 1024 + 1), timeout=10)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"

    def test_banner_names_urls_but_no_secrets(self, app):
        banner = app.banner()
        assert app.url in banner
        assert "(fake, sample data)" in banner
        assert FAKE_HALO_CLIENT_SECRET not in banner


# -- a synthetic template -------------------------------------------------------------------

SYNTHETIC = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Timeout: 5
    Environment:
      Variables:
        OUT_DIR: {out}
        QUEUE_URL: !Ref WorkQueue
Resources:
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt DeadLetters.Arn, maxReceiveCount: 2}}
  DeadLetters:
    Type: AWS::SQS::Queue
  Web:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: handlers.enqueue
      Policies:
        - SQSSendMessagePolicy: {{QueueName: !GetAtt WorkQueue.QueueName}}
      Events:
        Enqueue: {{Type: HttpApi, Properties: {{Method: POST, Path: "/jobs/{{name}}"}}}}
  Boom:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: handlers.boom
      Events:
        Boom: {{Type: HttpApi, Properties: {{Method: GET, Path: /boom}}}}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: handlers.work
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Tick:
          Type: Schedule
          Properties: {{Schedule: rate(1 day), Input: '{{"tick": 1}}'}}
"""

HANDLERS = """
import json, os, pathlib
import boto3

def _out(name, line):
    with open(pathlib.Path(os.environ["OUT_DIR"]) / name, "a") as f:
        f.write(line + "\\n")

def enqueue(event, context):
    name = event["pathParameters"]["name"]
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=name)
    body = {"queued": name, "route": event["routeKey"], "request": context.aws_request_id}
    return {"statusCode": 202, "headers": {"content-type": "application/json"}, "cookies": ["seen=1"],
            "body": json.dumps(body)}

def boom(event, context):
    raise RuntimeError("kaput")

def work(event, context):
    if "tick" in event:
        _out("ticks", json.dumps(event))
        return None
    failures = []
    for record in event["Records"]:
        assert record["eventSource"] == "aws:sqs" and "ApproximateReceiveCount" in record["attributes"]
        if record["body"] == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            _out("worked", record["body"])
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="class")
def synthetic_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    (root / "fn").mkdir()
    (root / "fn" / "handlers.py").write_text(HANDLERS)
    (root / "template.yaml").write_text(SYNTHETIC.format(out=root))
    with LocalApp(port=0, template=root / "template.yaml", seed=False, schedule_every=0.2) as app:
        yield app


class TestSyntheticTemplate:
    @pytest.fixture
    def app(self, synthetic_app):
        return synthetic_app

    def test_path_parameters_and_sqs_draining_with_dead_letters(self, app):
        for name in ("ok1", "fail", "ok2"):
            response = requests.post(f"{app.url}/jobs/{name}", timeout=10)
            assert response.status_code == 202, response.text
            assert response.json()["queued"] == name
            assert response.json()["route"] == "POST /jobs/{name}"
            assert response.cookies["seen"] == "1"

        worked = app.template.root / "worked"
        assert eventually(lambda: worked.exists() and sorted(worked.read_text().split()) == ["ok1", "ok2"])

        sqs = app.aws.client("sqs")
        dlq = app.aws.queue_url("DeadLetters")

        def dead_letters():
            return sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])

        letters = eventually(dead_letters, timeout=12)
        assert [m["Body"] for m in letters] == ["fail"]
        assert "fail" not in worked.read_text()

    def test_handler_exception_is_a_500(self, app):
        response = requests.get(f"{app.url}/boom", timeout=10)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"

    def test_schedule_fires_with_its_input(self, app):
        ticks = app.template.root / "ticks"
        assert eventually(lambda: ticks.exists() and ticks.read_text().strip())
        assert json.loads(ticks.read_text().splitlines()[0]) == {"tick": 1}


# -- the command line ---------------------------------------------------------------------------


def test_serve_command_runs_until_sigint(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(UPSTREAM_VARS)}
    state = tmp_path / "state.json"  # not the checkout's own
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "local.serve", "--port", str(port), "--state-file", str(state)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def up() -> bool:
            assert proc.poll() is None, proc.communicate()
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0

        assert eventually(up, timeout=20)
        response = requests.post(f"http://127.0.0.1:{port}/config/test", timeout=20)
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out
    assert "(fake, sample data)" in out


# -- upstream variables are held to the functions' URL rule -----------------------------------
LINK_LOCAL = (
    "dicker_data_base_url must be an https:// URL on a public host; 169.254.169.254 is a link-local address."
)


def test_an_upstream_variable_on_a_link_local_host_stops_the_start():
    from ddhalo.errors import InputError

    upstreams = UpstreamTargets(
        dicker_data=DickerDataUpstream("http://169.254.169.254/latest/", "ACME", "tok")
    )
    with pytest.raises(InputError) as raised:
        LocalApp(port=0, upstreams=upstreams).start()
    assert raised.value.message == LINK_LOCAL


def test_make_serve_says_which_variable_it_cannot_start_with(tmp_path, monkeypatch, capsys):
    from local.serve.cli import main

    monkeypatch.setattr(signal, "signal", lambda *args: None)  # the test runner keeps its own
    monkeypatch.setenv("DICKER_DATA_BASE_URL", "http://169.254.169.254/latest/")
    assert main(["--port", "0", "--state-file", str(tmp_path / "state.json")]) == 1
    assert (
        capsys.readouterr().err
        == f"Cannot start: {LINK_LOCAL} Set the upstream variables to public https:// URLs.\n"
    )
