"""The gate in front of moto: how it reads a request, and refusals that botocore reads as AWS's own."""

from __future__ import annotations

import io

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from local.gate import Call, IamGate, Principal, _error, parse_call
from local.iam import Access, Statement

ACCOUNT = "123456789012"
REGION = "ap-southeast-2"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"


def _environ(headers: dict[str, str], body: bytes = b"", path: str = "/", query: str = "") -> dict:
    environ = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    environ.update(
        {
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
    )
    return environ


SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIAKEY/20260101/ap-southeast-2/{}/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def test_parse_call_reads_json_and_query_protocols():
    json_call = parse_call(
        _environ(
            {
                "Authorization": SIGNED.format("dynamodb"),
                "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0",
            }
        ),
        b'{"TableName": "t"}',
    )
    assert (json_call.access_key, json_call.service, json_call.region, json_call.operation) == (
        "AKIAKEY", "dynamodb", "ap-southeast-2", "PutItem",
    )  # fmt: skip
    assert json_call.params == {"TableName": "t"} and json_call.json_protocol
    query_call = parse_call(
        _environ(
            {"Authorization": SIGNED.format("sqs"), "Content-Type": "application/x-www-form-urlencoded"}
        ),
        b"Action=SendMessage&QueueUrl=http%3A%2F%2Fx%2F1%2Fq&MessageBody=hi",
    )
    assert (query_call.operation, query_call.params["QueueUrl"], query_call.json_protocol) == (
        "SendMessage", "http://x/1/q", False,
    )  # fmt: skip
    unsigned = parse_call(_environ({}), b"")
    assert unsigned.access_key is None


def _client_error(service: str, operation: str, response, protocol: str | None = None) -> ClientError:
    """What botocore makes of a response, exactly as a client would parse it."""
    status, headers, body = response
    model = botocore.session.get_session().get_service_model(service)
    parser = create_parser(protocol or model.metadata["protocol"])
    op = model.operation_model(operation)
    parsed = parser.parse(
        {"status_code": int(status.split()[0]), "headers": dict(headers), "body": body}, op.output_shape
    )
    return ClientError(parsed, operation)


@pytest.mark.parametrize(
    ("service", "operation", "json_protocol", "code"),
    [
        ("dynamodb", "PutItem", True, "AccessDeniedException"),
        ("secretsmanager", "PutSecretValue", True, "AccessDeniedException"),
        ("events", "PutRule", True, "AccessDeniedException"),
        # SQS speaks JSON but is query-compatible: botocore takes the code from x-amzn-query-error,
        # and AWS answers AccessDenied there, as with the query protocol.
        ("sqs", "SendMessage", True, "AccessDenied"),
        ("sqs", "SendMessage", False, "AccessDenied"),
        ("sts", "AssumeRole", False, "AccessDenied"),
    ],
)
def test_a_refusal_is_the_client_error_aws_would_give(service, operation, json_protocol, code):
    call = Call("AKIAKEY", service, REGION, operation, {}, json_protocol, "/")
    response = _error(call, "AccessDenied", "User: u is not authorized")
    error = _client_error(service, operation, response, None if json_protocol else "query")
    assert error.response["Error"]["Code"] == code
    assert error.response["Error"]["Message"] == "User: u is not authorized"


def test_the_gate_checks_function_keys_and_passes_admin():
    statements = (Statement.parse({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE}),)
    gate = IamGate(lambda e, s: [b""], account=ACCOUNT, admin_keys={"ADMIN"})
    gate.principals["FN"] = Principal("Fn", f"arn:aws:sts::{ACCOUNT}:assumed-role/r/fn", statements)

    def call(key, operation):
        return Call(key, "dynamodb", REGION, operation, {"TableName": "t"}, True, "/")

    assert gate.refusal(call("ADMIN", "DeleteTable")) is None
    assert gate.refusal(call("FN", "GetItem")) is None
    refused = gate.refusal(call("FN", "PutItem"))
    assert refused is not None and b"dynamodb:PutItem on resource: " + TABLE.encode() in refused[2]
    assert [(d.function_id, d.access) for d in gate.denials] == [("Fn", Access("dynamodb:PutItem", TABLE))]
    unknown = _client_error("dynamodb", "GetItem", gate.refusal(call("OTHER", "GetItem")))
    assert unknown.response["Error"]["Code"] == "UnrecognizedClientException"
    unsigned = _client_error("dynamodb", "GetItem", gate.refusal(call(None, "GetItem")))
    assert unsigned.response["Error"]["Code"] == "MissingAuthenticationTokenException"
