"""The API's OpenAPI document, generated from the handlers' own routes and models.

Each handler module has a Powertools resolver (``app``); its routes, request models and declared
``responses`` make one document per function, merged here in template order. Powertools adds a
422 answer for validation errors; our resolver answers those as 400 with the spec's error body
(declared on every route), so 422 is dropped. ``python -m local.openapi`` rewrites
docs/openapi.json; a test fails when the committed document drifts from the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from local.invoke import load_module
from local.template import Template, load_template

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "openapi.json"
VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def build(template: Template | None = None) -> dict[str, Any]:
    template = template or load_template(ROOT / "template.yaml")
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    seen: set[str] = set()
    for route in template.routes:
        if not route.auth:
            continue  # the console's static files are a web page, not the JSON API (README)
        function = template.functions[route.function_id]
        if function.logical_id in seen:
            continue
        seen.add(function.logical_id)
        app = load_module(function).app
        doc = json.loads(app.get_openapi_json_schema(title="x", version="0"))
        for path, operations in doc.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(doc.get("components", {}).get("schemas", {}))
    for operations in paths.values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    text = json.dumps(paths)
    for name in VALIDATION_SCHEMAS:
        if f"#/components/schemas/{name}" not in text:
            schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dicker Data to HaloPSA",
            "version": "1.0.0",
            "description": (
                "Imports Dicker Data CSP customers and subscriptions into HaloPSA. Deployed, every route "
                "requires IAM (SigV4) authorization, enforced by API Gateway (the `sigv4` scheme; see "
                "template.yaml); the local runner (`make serve`) has none, so operations list no security."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make serve"}],
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "AWS Signature Version 4 with execute-api:Invoke on the API",
                }
            },
        },
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def main() -> None:
    DOC.write_text(render(build()))
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
