"""The committed OpenAPI document is the one the code generates, and covers every route."""

import json

from local.openapi import DOC, build, render
from local.template import load_template


def test_committed_document_matches_the_code():
    assert DOC.read_text() == render(build()), "docs/openapi.json is stale: run `python -m local.openapi`"


def test_every_authorized_template_route_is_documented_and_nothing_else():
    """The console's unauthenticated static routes serve a page, not JSON: they are left out."""
    doc = json.loads(DOC.read_text())
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routes = {(r.method, r.path) for r in load_template(DOC.parents[1] / "template.yaml").routes if r.auth}
    assert documented == routes
    assert "/console/{proxy+}" not in doc["paths"]


def test_every_operation_documents_the_error_body():
    doc = json.loads(DOC.read_text())
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert answers["400"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody"), (
                method,
                path,
            )
            assert "422" not in answers
