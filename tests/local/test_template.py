"""Reading template.yaml: the real one, and a synthetic one covering what the runner supports."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.intrinsics import NO_VALUE, Resolver
from local.template import load_template

ROOT = Path(__file__).resolve().parents[2]

SYNTHETIC = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  Verbose: {Type: String, Default: "true"}
  Workers: {Type: Number, Default: 3}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables:
        SHARED: from-globals
        OVERRIDDEN: globals
  HttpApi:
    Auth: {DefaultAuthorizer: AWS_IAM}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: AWS_IAM}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}
  Dlq:
    Type: AWS::SQS::Queue
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/worker/
      Handler: pkg.main.handle
      Timeout: 120
      MemorySize: 1024
      ReservedConcurrentExecutions: 4
      Environment:
        Variables:
          OVERRIDDEN: own
          QUEUE_ARN: !GetAtt Queue.Arn
          MODE: !If [IsProd, fast, !Sub "slow-${Stage}"]
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: !Ref Workers}
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 1 * * ? *)
            Input: '{"full": true}'
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            State: DISABLED
  Web:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/web
      Handler: app.handler
      Events:
        Get:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: get, Path: "/things/{thing_id}"}
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: POST
            Path: /hooks/{proxy+}
            Auth: {Authorizer: NONE}
        Fallback:
          Type: HttpApi
"""


@pytest.fixture
def synthetic(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(SYNTHETIC)
    return load_template(path)


def test_real_template_functions_have_globals_applied():
    template = load_template(ROOT / "template.yaml")
    fn = template.functions["TestConfigFunction"]
    assert (fn.timeout, fn.memory_size) == (29, 512)
    assert fn.module_path == ROOT / "functions" / "test_config" / "app.py"
    assert fn.handler_name == "lambda_handler"
    assert fn.environment["TABLE_NAME"] == {"Ref": "Table"}
    assert fn.environment["POWERTOOLS_SERVICE_NAME"] == "dicker-data-halo"
    assert ROOT / "shared" in template.layer_dirs


def test_real_template_worker_runs_at_worker_concurrency():
    template = load_template(ROOT / "template.yaml")
    (source,) = template.sqs_sources
    assert (source.function_id, source.batch_size, source.maximum_concurrency) == ("WorkerFunction", 1, 2)


def test_real_template_routes_and_resources():
    template = load_template(ROOT / "template.yaml")
    keys = {(r.route_key, r.function_id, r.auth) for r in template.routes}
    assert ("POST /config/test", "TestConfigFunction", True) in keys
    assert ("GET /settings", "SettingsFunction", True) in keys
    assert [t.logical_id for t in template.tables] == ["Table"]
    assert [s.logical_id for s in template.secrets] == ["CredentialsSecret"]
    assert template.tables[0].properties["GlobalSecondaryIndexes"][0]["IndexName"] == "gsi1"


def test_functions_merge_environment_and_override_globals(synthetic):
    worker = synthetic.functions["Worker"]
    assert (worker.timeout, worker.memory_size) == (120, 1024)
    assert worker.module_path.parts[-3:] == ("worker", "pkg", "main.py")
    assert worker.environment["SHARED"] == "from-globals"
    assert worker.environment["OVERRIDDEN"] == "own"
    assert worker.environment["QUEUE_ARN"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert synthetic.functions["Web"].memory_size == 128  # SAM's default


def test_routes_carry_method_path_and_auth(synthetic):
    routes = {r.event_id: r for r in synthetic.routes}
    assert routes["Get"].route_key == "GET /things/{thing_id}"
    assert routes["Get"].auth is True
    assert routes["Open"].auth is False
    assert routes["Open"].path == "/hooks/{proxy+}"
    assert routes["Fallback"].route_key == "$default"


def test_event_sources(synthetic):
    (sqs,) = synthetic.sqs_sources
    assert (sqs.function_id, sqs.queue_id, sqs.batch_size, sqs.report_batch_item_failures) == (
        "Worker",
        "Queue",
        5,
        True,
    )
    assert sqs.maximum_concurrency == 3  # the parameter's default
    assert synthetic.functions["Worker"].reserved_concurrency == 4
    assert synthetic.functions["Web"].reserved_concurrency is None
    schedules = {s.event_id: s for s in synthetic.schedules}
    assert schedules["Nightly"].expression == "cron(0 1 * * ? *)"
    assert schedules["Nightly"].input == '{"full": true}'
    assert schedules["Nightly"].enabled
    assert schedules["Hourly"].kind == "ScheduleV2"
    assert not schedules["Hourly"].enabled
    assert {q.logical_id for q in synthetic.queues} == {"Queue", "Dlq"}


def test_resolver_evaluates_intrinsics(synthetic):
    resolver = Resolver(
        parameters=synthetic.parameter_defaults(),
        conditions=synthetic.conditions,
        refs={"Queue": "https://queue"},
        attrs={("Queue", "Arn"): "arn:queue"},
    )
    env = synthetic.functions["Worker"].environment
    assert resolver.resolve(env["QUEUE_ARN"]) == "arn:queue"
    assert resolver.resolve(env["MODE"]) == "slow-dev"
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}/${Queue}/${Queue.Arn}/${!Literal}"}) == (
        "ap-southeast-2/https://queue/arn:queue/${Literal}"
    )
    assert resolver.resolve({"Fn::Sub": ["${x}-${Stage}", {"x": {"Ref": "Queue"}}]}) == "https://queue-dev"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE
    assert resolver.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 1}) == {"b": 1}
    assert resolver.resolve({"Ref": "Missing"}) == "${Missing}"
