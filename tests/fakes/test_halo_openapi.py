"""The checker of requests against Halo's OpenAPI document, as a unit, and its vendored copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.fakes import halo_openapi
from local.fakes.halo_openapi import DOCUMENT_PATH, MAX_PROBLEMS, PARAMETER_TYPES, HaloOpenApi, check_request

REPO = Path(__file__).resolve().parents[2]
SHARED_DOCUMENT = REPO.parent / "shared" / "reference" / "halo-openapi.json"


def test_vendored_document_is_a_byte_identical_copy_of_the_shared_one():
    if not SHARED_DOCUMENT.is_file():
        pytest.skip(f"{SHARED_DOCUMENT} is not there to compare with (a plain clone has no ../shared)")
    assert DOCUMENT_PATH == REPO / "local" / "fakes" / "reference" / "halo-openapi.json"
    assert DOCUMENT_PATH.read_bytes() == SHARED_DOCUMENT.read_bytes()


def test_every_parameter_type_of_the_document_is_understood():
    document = json.loads(DOCUMENT_PATH.read_bytes())
    types = {
        str(param["schema"]["type"])
        for item in document["paths"].values()
        for op in item.values()
        for param in op.get("parameters", [])
    }
    assert types == {"bool", "int", "string", "List<int>", "integer"}
    assert types <= set(PARAMETER_TYPES)


def test_the_document_is_loaded_once():
    assert halo_openapi.load() is halo_openapi.load()


# -- paths and methods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/Client", "/api/client", "/API/CLIENT/", "/api/Client/5", "/api/Client/-1", "/api/AuthInfo",
     "/api/authinfo", "/api/SoftwareLicence/12", "/api/AreaAzureTenant"],
)  # fmt: skip
def test_documented_paths_match_case_insensitively(path):
    assert check_request("GET", path) == []


@pytest.mark.parametrize(
    ("method", "path", "problem"),
    [
        ("GET", "/api/Ticket", "path /Ticket is not in Halo's API document"),
        ("GET", "/api/Client/5/extra", "path /Client/5/extra is not in Halo's API document"),
        ("GET", "/api", "path / is not in Halo's API document"),
        ("GET", "/Client", "path /Client is not under Halo's API root /api"),
        ("POST", "/auth/token", "path /auth/token is not under Halo's API root /api"),
        ("PUT", "/api/Client", "method PUT is not allowed on /Client (the document has GET, POST)"),
        ("POST", "/api/AuthInfo", "method POST is not allowed on /AuthInfo (the document has GET)"),
        ("GET", "/api/Client/abc", "path parameter id='abc' is not a valid integer"),
        ("GET", "/api/Client/1.5", "path parameter id='1.5' is not a valid integer"),
    ],
)
def test_unknown_paths_methods_and_bad_ids(method, path, problem):
    assert check_request(method, path) == [problem]


def test_documented_delete_conforms():
    assert check_request("DELETE", "/api/Client/5") == []


# -- query parameters ----------------------------------------------------------------------


def test_list_parameters_and_types():
    query = {
        "pageinate": "true",
        "page_size": "100",
        "page_no": "2",
        "IncludeAzureTenants": "TRUE",
        "includeinactive": "False",
        "toplevel_id": "-1",
        "search": "anything & all",
        "integration_tenantids": "1,2,-3",
    }
    assert check_request("GET", "/api/Client", query) == []


def test_single_get_takes_includedetails_not_the_list_flags():
    assert check_request("GET", "/api/Client/5", {"includedetails": "true"}) == []
    assert check_request("GET", "/api/Client/5", {"includeazuretenants": "true"}) == [
        "query parameter 'includeazuretenants' is not declared for GET /Client/{id}"
    ]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"page_size": "ten"}, "query parameter page_size='ten' is not a valid int"),
        ({"page_size": ""}, "query parameter page_size='' is not a valid int"),
        ({"page_size": "1.0"}, "query parameter page_size='1.0' is not a valid int"),
        ({"includeinactive": "1"}, "query parameter includeinactive='1' is not a valid bool"),
        ({"includeinactive": "yes"}, "query parameter includeinactive='yes' is not a valid bool"),
        (
            {"integration_tenantids": "1,,2"},
            "query parameter integration_tenantids='1,,2' is not a valid List<int>",
        ),
        ({"client_id": "3"}, "query parameter 'client_id' is not declared for GET /Client"),
    ],
)
def test_wrong_query_values_and_undeclared_parameters(query, problem):
    assert check_request("GET", "/api/Client", query) == [problem]


def test_query_in_the_path_and_pairs_are_read_too():
    assert check_request("GET", "/api/SoftwareLicence?client_id=x", [("bogus", "1")]) == [
        "query parameter 'bogus' is not declared for GET /SoftwareLicence",
        "query parameter client_id='x' is not a valid int",
    ]


def test_licence_list_has_no_last_updated_filter():
    assert check_request("GET", "/api/SoftwareLicence", {"lastupdatefromdate": "true"}) == [
        "query parameter 'lastupdatefromdate' is not declared for GET /SoftwareLicence"
    ]


# -- bodies --------------------------------------------------------------------------------


def client(**fields: Any) -> list[dict[str, Any]]:
    return [{"name": "Acme", **fields}]


def test_conforming_writes():
    assert check_request("POST", "/api/Client", json_body=client(
        toplevel_id=1, inactive=None, _isimport=True, _dont_fire_automations=True,
        newclient_delivery_address={"line1": "1 Main St", "postcode": "3000"},
        azure_tenants=[{"azure_tenant_id": "t", "azure_tenant_name": "n", "azure_tenant_domain": "d"}],
    )) == []  # fmt: skip
    site = [{"client_id": 1, "name": "HQ", "delivery_address": {"line1": "a", "line2": None}}]
    assert check_request("POST", "/api/Site", json_body=site) == []
    licence = [{"id": 3, "client_id": 1, "name": "L", "count": 2, "price": 9, "purchase_price": 7.5,
                "start_date": "2025-01-31", "is_active": False, "notes": None}]  # fmt: skip
    assert check_request("POST", "/api/SoftwareLicence", json_body=licence) == []
    assert check_request("POST", "/api/Client", json_body=[]) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (client(tenant="x"), "body[0]: 'tenant' is not a property of Area"),
        (
            client(azure_tenants=[{"azure_tenant_id": "t", "domain": "d"}]),
            "body[0].azure_tenants[0]: 'domain' is not a property of AreaAzureTenant",
        ),
        (
            client(newclient_delivery_address={"line5": "x"}),
            "body[0].newclient_delivery_address: 'line5' is not a property of AddressStore",
        ),
        (client(toplevel_id="1"), 'body[0].toplevel_id: expected integer, got string "1"'),
        (client(toplevel_id=1.0), "body[0].toplevel_id: expected integer, got number 1.0"),
        (client(toplevel_id=True), "body[0].toplevel_id: expected integer, got boolean true"),
        (client(inactive="false"), 'body[0].inactive: expected boolean, got string "false"'),
        (client(name=5), "body[0].name: expected string, got integer 5"),
        (client(azure_tenants={"azure_tenant_id": "t"}), "body[0].azure_tenants: expected array, got object"),
        (client(azure_tenants=["t"]), 'body[0].azure_tenants[0]: expected AreaAzureTenant, got string "t"'),
        (client(id=None), "body[0].id: null is not allowed here (not nullable)"),
        (client(newclient_delivery_address=None), "body[0].newclient_delivery_address: null is not allowed"),
        ([None], "body[0]: null is not allowed here (not nullable)"),
        ({"name": "Acme"}, 'body: expected array, got object {"name": "Acme"}'),
        (None, "body: null is not allowed here (not nullable)"),
    ],
)
def test_body_problems(body, problem):
    [found] = check_request("POST", "/api/Client", json_body=body)
    assert found.startswith(problem)


def test_number_takes_ints_and_floats_but_not_bools():
    base = {"client_id": 1, "name": "L"}
    for price in (1, 1.5, 0):
        assert check_request("POST", "/api/SoftwareLicence", json_body=[{**base, "price": price}]) == []
    assert check_request("POST", "/api/SoftwareLicence", json_body=[{**base, "price": False}]) == [
        "body[0].price: expected number, got boolean false"
    ]


def test_max_length_is_checked():
    assert check_request("POST", "/api/Client", json_body=client(portalcolour="#ffffff")) == []
    assert check_request("POST", "/api/Client", json_body=client(portalcolour="#ffffff0")) == [
        "body[0].portalcolour: longer than 7 characters"
    ]


@pytest.mark.parametrize(
    ("content_type", "problems"),
    [
        ("application/json", []),
        ("Application/JSON; charset=utf-8", []),
        ("text/json", []),
        ("application/merge-patch+json", []),  # application/*+json
        ("text/plain", ["Content-Type 'text/plain' is not accepted by POST /Client"]),
        (None, ["Content-Type '(none)' is not accepted by POST /Client"]),
    ],
)
def test_body_media_types(content_type, problems):
    found = check_request("POST", "/api/Client", content_type=content_type, body=b'[{"name": "A"}]')
    assert [f.split(" (")[0] for f in found] == problems


def test_raw_bodies_must_be_json_and_present_exactly_where_declared():
    [bad] = check_request("POST", "/api/Client", content_type="application/json", body=b"[{")
    assert bad.startswith("request body is not valid JSON: ")
    assert check_request("POST", "/api/Client") == ["POST /Client needs a request body"]
    assert check_request("GET", "/api/Client", json_body=[]) == ["GET /Client takes no request body"]


def test_many_problems_are_cut_short():
    body = [{"name": "A", "bogus": 1} for _ in range(MAX_PROBLEMS + 5)]
    problems = check_request("POST", "/api/Client", json_body=body)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == "... and 5 more"


# -- generic schema rules (a small document of its own) -------------------------------------


TINY: dict[str, Any] = {
    "openapi": "3.0.1",
    "servers": [{"url": "/api"}],
    "paths": {
        "/Thing": {
            "get": {
                "parameters": [{"name": "n", "in": "query", "required": True, "schema": {"type": "int"}}]
            },
            "post": {
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/T"}}}
                }
            },
        },
        "/Thing/me": {"get": {}},
        "/Thing/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}]}},
    },
    "components": {
        "schemas": {
            "T": {
                "type": "object",
                "required": ["a"],
                "properties": {
                    "a": {"type": "integer", "enum": [1, 2]},
                    "open": {"type": "object", "nullable": True},
                    "map": {"type": "object", "additionalProperties": {"type": "string"}},
                    "any": {"nullable": True},
                },
            }
        }
    },
}


def test_generic_rules_on_a_small_document():
    api = HaloOpenApi(TINY)
    assert api.check("GET", "/api/Thing", {"n": "1"}) == []
    assert api.check("GET", "/api/Thing") == ["query parameter 'n' is required by GET /Thing"]
    assert api.check("GET", "/api/thing/ME") == []  # the literal route wins over {id}
    assert api.check("GET", "/api/Thing/7") == []
    ok = {"a": 1, "open": {"x": [1]}, "map": {"k": "v"}, "any": [{"z": None}], "extra": 1}
    assert api.check("POST", "/api/Thing", json_body=ok) == []  # additionalProperties defaults to true
    assert api.check("POST", "/api/Thing", json_body={"a": 3, "map": {"k": 1}}) == [
        "body.a: 3 is not one of the values it allows",
        "body.map.k: expected string, got integer 1",
    ]
    assert api.check("POST", "/api/Thing", json_body={}) == ["body: 'a' is required by T"]


def test_unknown_parameter_types_are_refused_when_loading():
    bad = {
        "paths": {
            "/X": {"get": {"parameters": [{"name": "d", "in": "query", "schema": {"type": "DateTime?"}}]}}
        }
    }
    with pytest.raises(ValueError, match="unknown parameter type 'DateTime\\?'"):
        HaloOpenApi(bad)
