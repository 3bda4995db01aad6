"""The one entry-point factory: the same Powertools decorators (request context and correlation id
in the log, metrics flushed) around an HTTP resolver, the sync function and the SQS worker."""

import json

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from ddhalo_lambda.entry import http_and_schedule_handler, http_handler, sqs_handler, time_left
from ddhalo_lambda.observability import logger, metrics
from ddhalo_lambda.resolver import caller, make_resolver
from local.events import LOCAL_OPERATOR_SCOPES, http_event, scheduled_event, sqs_event

QUEUE_ARN = "arn:aws:sqs:ap-southeast-2:123456789012:work"
RULE_ARN = "arn:aws:events:ap-southeast-2:123456789012:rule/stack-sync"


def ping_app():
    app = make_resolver()

    @app.get("/ping")
    def ping() -> dict:
        logger.info("pinged")
        return {"pong": caller(app)}

    return app


def get(path: str, route_key: str = "GET /ping") -> dict:
    return http_event(
        "GET", path, "", [("host", "api.example")], b"", route_key=route_key, scopes=LOCAL_OPERATOR_SCOPES
    )


def logged(log_lines) -> list[dict]:
    return [json.loads(line) for line in log_lines.getvalue().splitlines()]


def emitted(capsys) -> list[dict]:
    """The metrics blobs (CloudWatch EMF) the invocations printed."""
    lines = capsys.readouterr().out.splitlines()
    return [blob for line in lines if "_aws" in (blob := json.loads(line))]


def test_an_http_function_answers_with_the_request_id_as_correlation_id(lambda_context, log_lines):
    event = get("/ping")
    answer = http_handler(ping_app())(event, lambda_context)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"pong": "local"}  # the caller: the token's username
    (line,) = logged(log_lines)
    assert line["message"] == "pinged"
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    assert line["function_request_id"] == lambda_context.aws_request_id
    assert line["function_name"] == "unit-function"


def test_an_unknown_route_is_the_spec_error_body(lambda_context):
    answer = http_handler(ping_app())(get("/nowhere", "GET /nowhere"), lambda_context)
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"error": {"code": "not_found", "message": "No route GET /nowhere."}}


def test_the_sync_factory_routes_http_to_the_resolver_and_the_schedule_to_its_handler(
    lambda_context, log_lines, capsys
):
    ticks = []

    def scheduled() -> dict:
        ticks.append(1)
        metrics.add_metric(name="probe_ticks", unit=MetricUnit.Count, value=1)
        logger.info("tick")
        return {"started": False, "reason": "integrator disabled"}

    handler = http_and_schedule_handler(ping_app(), scheduled)
    event = get("/ping")
    answer = handler(event, lambda_context)
    assert (answer["statusCode"], json.loads(answer["body"]), ticks) == (200, {"pong": "local"}, [])

    tick = scheduled_event(RULE_ARN, "ap-southeast-2", "123456789012")
    assert handler(tick, lambda_context) == {"started": False, "reason": "integrator disabled"}
    assert ticks == [1]

    http_line, tick_line = logged(log_lines)
    assert (http_line["message"], http_line["correlation_id"]) == (
        "pinged",
        event["requestContext"]["requestId"],
    )
    # A scheduled event has no API Gateway request id: no correlation id, the invocation's own id.
    assert tick_line["message"] == "tick" and "correlation_id" not in tick_line
    assert tick_line["function_request_id"] == lambda_context.aws_request_id
    (blob,) = emitted(capsys)  # log_metrics flushed the scheduled invocation's metric
    assert blob["probe_ticks"] == [1.0]
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DickerDataHalo"


def test_an_sqs_batch_reports_only_the_bad_record_as_failed(lambda_context, capsys):
    handled = []

    def record_handler(record, lambda_context) -> None:
        if record.body == "bad":
            raise ValueError("unreadable job")
        handled.append((record.body, lambda_context.aws_request_id))
        metrics.add_metric(name="probe_jobs", unit=MetricUnit.Count, value=1)

    messages = [
        {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body}
        for i, body in enumerate(["a", "bad", "c"])
    ]
    answer = sqs_handler(record_handler)(sqs_event(messages, QUEUE_ARN, "ap-southeast-2"), lambda_context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handled == [("a", lambda_context.aws_request_id), ("c", lambda_context.aws_request_id)]
    (blob,) = emitted(capsys)
    assert blob["probe_jobs"] == [1.0, 1.0]


def test_an_sqs_batch_of_good_records_reports_no_failure(lambda_context):
    messages = [{"MessageId": "m0", "ReceiptHandle": "r0", "Body": "{}"}]
    answer = sqs_handler(lambda record: None)(
        sqs_event(messages, QUEUE_ARN, "ap-southeast-2"), lambda_context
    )
    assert answer == {"batchItemFailures": []}


def test_time_left_is_lambdas_remaining_time_less_the_reserve(lambda_context):
    left = time_left(lambda_context).left()  # 29 s remaining, a tenth kept back
    assert 26.0 < left <= 26.1


@pytest.fixture(autouse=True)
def _no_correlation_id_left_behind():
    yield
    logger.set_correlation_id(None)
