"""Bodies are refused before the event handler parses them: too deep, not an object, not JSON."""

import base64
import json

import pytest

from ddhalo_lambda.resolver import MAX_BODY_DEPTH, make_resolver, refuse_body
from local.events import LOCAL_OPERATOR_SCOPES as OPERATOR
from local.events import jwt_context

JSON = {"content-type": "application/json"}


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


TWICE = "The body has the key {} more than once; send each key once."


@pytest.mark.parametrize(
    ("body", "headers", "refused"),
    [
        (nested(1_000), JSON, (400, "bad_request", "The body nests deeper than 32 levels.")),
        ("[" * 1_000 + "]" * 1_000, JSON, (400, "bad_request", "The body nests deeper than 32 levels.")),
        (nested(MAX_BODY_DEPTH + 1), JSON, (400, "bad_request", "The body nests deeper than 32 levels.")),
        ('[{"dry_run": true}]', JSON, (400, "bad_request", "The body must be a JSON object, not an array.")),
        ('"text"', JSON, (400, "bad_request", "The body must be a JSON object, not a string.")),
        ("{not json", JSON, (400, "bad_request", "The body is not valid JSON.")),
        ('{"a": 1, "a": 1}', JSON, (400, "duplicate_key", TWICE.format('"a"'))),
        ('{"x": [{"k": 1}, {"k": 2, "k": 3}]}', JSON, (400, "duplicate_key", TWICE.format('"k"'))),
        ('{"x": {"y": {"k": 1, "k": 2}}}', JSON, (400, "duplicate_key", TWICE.format('"k"'))),
        ('{"a\\n\\u0000": 1, "a\\n\\u0000": 2}', JSON, (400, "duplicate_key", TWICE.format('"a\\n\\u0000"'))),
        (
            f'{{"{"k" * 100}": 1, "{"k" * 100}": 2}}',
            JSON,
            (400, "duplicate_key", TWICE.format(f'"{"k" * 57}..."')),
        ),
        (
            "customer_ids=1",
            {"Content-Type": "text/plain; charset=utf-8"},
            (415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."),
        ),
        (
            "{}",
            {"content-type": "multipart/form-data"},
            (415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."),
        ),
    ],
)
def test_a_body_is_refused(body, headers, refused):
    assert refuse_body({"body": body, "headers": headers}) == refused


@pytest.mark.parametrize(
    "event",
    [
        {"body": nested(MAX_BODY_DEPTH), "headers": JSON},  # as deep as allowed
        {"body": '{"halo_tenant": "' + "[{" * 40 + '"}', "headers": JSON},  # brackets in a string
        {"body": "null", "headers": JSON},
        {"body": '{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 3}, {"k": 4}]}', "headers": JSON},  # each once
        {"body": "{}"},  # no content type: JSON assumed
        {"body": "{}", "headers": {"content-type": "application/vnd.api+json"}},
        {"body": "  ", "headers": {"content-type": "text/plain"}},  # blank: no body
        {"headers": {"content-type": "text/plain"}},
        {"body": base64.b64encode(b'{"dry_run": true}').decode(), "isBase64Encoded": True},
    ],
)
def test_a_json_object_or_no_body_passes(event):
    assert refuse_body(event) is None


def test_a_base64_body_that_is_not_utf8_is_refused():
    event = {"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True}
    assert refuse_body(event) == (400, "bad_request", "The body is not UTF-8 JSON.")


def test_the_resolver_answers_a_refused_body_with_the_error_body(lambda_context):
    app = make_resolver()
    event = {
        "routeKey": "PUT /settings",
        "body": nested(1_000),
        "headers": JSON,
        "requestContext": {"http": {"method": "PUT"}, "authorizer": {"jwt": jwt_context(OPERATOR)}},
    }
    assert app.resolve(event, lambda_context) == {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {"error": {"code": "bad_request", "message": "The body nests deeper than 32 levels."}}
        ),
        "isBase64Encoded": False,
    }
