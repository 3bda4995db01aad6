"""The resolver says validation errors in words: field, then what it allows; no pydantic internals."""

import json

import pytest
from pydantic import BaseModel, ValidationError

from ddhalo.validation import describe_validation
from ddhalo_lambda.models import (
    BillingCheckRequest,
    CustomerImportRequest,
    MappingRequest,
    ProductRequest,
    SubscriptionImportRequest,
    SyncRequest,
    _Body,
)
from local.events import LOCAL_OPERATOR_SCOPES, http_event
from tests.settings_cases import INTERNALS


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        (  # what the event handler reports for a union with None: the branch names go
            [
                {
                    "type": "greater_than_equal",
                    "loc": (
                        "body",
                        "halo_requests_per_minute",
                        "function-before[_json_integer(), constrained-int]",
                    ),
                    "msg": "Input should be greater than or equal to 1",
                    "ctx": {"ge": 1},
                },
                {
                    "type": "none_required",
                    "loc": ("body", "halo_requests_per_minute", "none"),
                    "msg": "Input should be None",
                },
            ],
            "halo_requests_per_minute must be at least 1.",
        ),
        (
            [
                {
                    "type": "literal_error",
                    "loc": ("body", "region", "literal['AU','NZ']"),
                    "msg": "Input should be 'AU' or 'NZ'",
                    "ctx": {"expected": "'AU' or 'NZ'"},
                }
            ],
            'region must be "AU" or "NZ".',
        ),
        (
            [
                {
                    "type": "string_too_long",
                    "loc": ("body", "customer_ids", "list[constrained-str]", 3),
                    "msg": "String should have at most 100 characters",
                    "ctx": {"max_length": 100},
                }
            ],
            "customer_ids[3] must have at most 100 characters.",
        ),
        (
            [
                {
                    "type": "string_pattern_mismatch",
                    "loc": ("body", "dicker_customer_id"),
                    "msg": "String should match pattern '^[!-~]+$'",
                    "ctx": {"pattern": "^[!-~]+$"},
                }
            ],
            "dicker_customer_id has characters or a form this field does not allow.",
        ),
        (
            [
                {
                    "type": "too_short",
                    "loc": ("body", "customer_ids"),
                    "msg": "List should have ...",
                    "ctx": {"min_length": 1},
                }
            ],
            "customer_ids must not be empty.",
        ),
        (
            [{"type": "missing", "loc": ("body", "halo_client_id"), "msg": "Field required"}],
            "halo_client_id is required.",
        ),
        (
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", "Bad Key!"),
                    "msg": "Extra inputs are not permitted",
                }
            ],
            "Bad Key! is not a field of this request.",
        ),
        (
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", "k" * 100),
                    "msg": "Extra inputs are not permitted",
                }
            ],
            "k" * 57 + "... is not a field of this request.",
        ),
        (
            [
                {
                    "type": "value_error",
                    "loc": ("body", "top_level_id"),
                    "msg": "Value error, must be a whole number",
                }
            ],
            "top_level_id must be a whole number.",
        ),
        (
            [{"type": "uuid_parsing", "loc": ("body", "id"), "msg": "Input should be a valid UUID"}],
            "id is not valid.",
        ),
        (
            [
                {
                    "type": "model_attributes_type",
                    "loc": ("body",),
                    "msg": "Input should be a valid dictionary",
                }
            ],
            "The body must be a JSON object.",
        ),
        (
            [
                {"type": "bool_type", "loc": ("body", f"f{i}"), "msg": "Input should be a valid boolean"}
                for i in range(7)
            ],
            "; ".join(f"f{i} must be true or false" for i in range(5)) + " (and 2 more).",
        ),
    ],
)
def test_validation_errors_read_as_words(errors, message):
    assert describe_validation(errors) == message
    assert not INTERNALS.search(message)


@pytest.mark.parametrize(
    ("route_key", "body", "message"),
    [
        ("POST /customers/import", {"dry_run": "yes"}, "dry_run must be true or false."),
        ("POST /customers/import", {"customer_ids": []}, "customer_ids must not be empty."),
        ("POST /customers/import", {"customer_ids": ["ok", 3]}, "customer_ids[1] must be a string."),
        ("POST /mappings", {"dicker_customer_id": "t1"}, "halo_client_id is required."),
        ("POST /sync", {"customers": "yes"}, "customers must be true or false."),
    ],
)
def test_other_routes_refuse_in_words_too(lambda_context, route_key, body, message):
    """The same resolver fronts every route: its generic wording, through the event handler."""
    from functions.import_customers import app as customers
    from functions.mappings import app as mappings
    from functions.sync import app as sync

    modules = {"POST /customers/import": customers, "POST /mappings": mappings, "POST /sync": sync}
    method, path = route_key.split(" ")
    event = http_event(
        method,
        path,
        "",
        [("content-type", "application/json")],
        json.dumps(body).encode(),
        route_key=route_key,
        scopes=LOCAL_OPERATOR_SCOPES,
    )
    answer = modules[route_key].app.resolve(event, lambda_context)
    assert answer["statusCode"] == 400, answer
    error = json.loads(answer["body"])["error"]
    assert error == {"code": "bad_request", "message": message}


def test_a_resolver_answers_a_refused_setting_with_the_error_body(lambda_context):
    from functions.settings import app as settings

    event = http_event(
        "PUT",
        "/settings",
        "",
        [("content-type", "application/json")],
        b'{"region": "uk"}',
        route_key="PUT /settings",
        scopes=LOCAL_OPERATOR_SCOPES,
    )
    answer = settings.app.resolve(event, lambda_context)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {
        "error": {"code": "bad_request", "message": 'region must be "AU" or "NZ".'}
    }


REQUESTS = {
    CustomerImportRequest: {},
    SubscriptionImportRequest: {},
    SyncRequest: {},
    BillingCheckRequest: {},
    MappingRequest: {"dicker_customer_id": "a", "halo_client_id": 1},
    ProductRequest: {"stock_code": "P1Y:CFQ7TTC0LH18:0001:Y:", "halo_item_id": 1},
}


def _booleans(model: type[BaseModel]) -> list[str]:
    """The fields the schema says are booleans (a new one is checked too)."""
    properties = model.model_json_schema()["properties"]
    return [name for name, schema in properties.items() if "boolean" in json.dumps(schema)]


@pytest.mark.parametrize(
    ("model", "field"), [(model, field) for model in REQUESTS for field in _booleans(model)]
)
def test_null_for_any_boolean_of_a_request_is_refused(model, field):
    with pytest.raises(ValidationError) as raised:
        model.model_validate({**REQUESTS[model], field: None})
    (error,) = raised.value.errors()
    assert (error["loc"], error["msg"]) == (
        (field,),
        "must be true or false, not null (leave it out for its default)",
    )
    assert getattr(model.model_validate(REQUESTS[model]), field) in (None, False)  # left out: the default


def test_every_request_model_is_checked_for_null_booleans():
    assert set(REQUESTS) == set(_Body.__subclasses__())
    assert sum(len(_booleans(model)) for model in REQUESTS) == 9
