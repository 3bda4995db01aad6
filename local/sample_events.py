"""Write events/*.json: one sample event per route, plus the worker's SQS and the schedule event.

``python -m local.sample_events`` regenerates them (for ``sam local invoke -e events/<name>.json``);
a test checks that every route of template.yaml has one and that each is handled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from local.events import LOCAL_OPERATOR_SCOPES, http_event, scheduled_event, sqs_event

EVENTS = Path(__file__).resolve().parent.parent / "events"
REGION, ACCOUNT = "ap-southeast-2", "123456789012"
CUSTOMER = "00000000-0000-0000-0000-000000000001"
RUN = "20261125T000000Z-0123456789"
STOCK_CODE = "P1Y:CFQ7TTC0LH18:0001:Y:"


PATH_PARAMS = ("dicker_customer_id", "run_id", "stock_code", "proxy")


def api(
    method: str,
    path: str,
    body: Any = None,
    *,
    route: str | None = None,
    signed: bool = True,
    **params: str,
) -> dict[str, Any]:
    """``signed``: the route is behind the authorizer (an operator's token); the console's files are not."""
    query = "&".join(f"{k}={v}" for k, v in params.items() if k not in PATH_PARAMS)
    path_params = {k: v for k, v in params.items() if k in PATH_PARAMS} or None
    event = http_event(
        method,
        path,
        query,
        [("content-type", "application/json")],
        json.dumps(body).encode() if body is not None else b"",
        route_key=f"{method} {route or path}",
        path_parameters=path_params,
        scopes=LOCAL_OPERATOR_SCOPES if signed else None,
    )
    event["requestContext"].update(requestId="sample-request-id", timeEpoch=1795600000000)
    event["requestContext"]["time"] = "25/Nov/2026:00:00:00 +0000"
    return event


def samples() -> dict[str, Any]:
    job = {"run_id": RUN, "kind": "customers", "phase": "customers", "chunk": 0}
    message = {
        "MessageId": "11111111-1111-1111-1111-111111111111",
        "ReceiptHandle": "sample",
        "Body": json.dumps(job),
        "MD5OfBody": "",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795600000000"},
    }
    return {
        "config_test": api("POST", "/config/test", {"region": "AU", "environment": "test"}),
        "settings_get": api("GET", "/settings"),
        "settings_put": api("PUT", "/settings", {"region": "AU", "update_main_site_address": True}),
        "mappings_generate": api("POST", "/mappings/generate"),
        "mappings_list": api("GET", "/mappings"),
        "mappings_add": api("POST", "/mappings", {"dicker_customer_id": CUSTOMER, "halo_client_id": 42}),
        "mappings_delete": api(
            "DELETE",
            f"/mappings/{CUSTOMER}",
            route="/mappings/{dicker_customer_id}",
            dicker_customer_id=CUSTOMER,
        ),
        "products_list": api("GET", "/products"),
        "products_generate": api("POST", "/products/generate"),
        "products_add": api("POST", "/products", {"stock_code": STOCK_CODE, "halo_item_id": 42}),
        "products_delete": api(
            "DELETE",
            f"/products/{quote(STOCK_CODE, safe='')}",
            route="/products/{stock_code}",
            stock_code=STOCK_CODE,
        ),
        "halo_items": api("GET", "/halo/items"),
        "customers_import": api("POST", "/customers/import", {"dry_run": True}),
        "subscriptions_import": api("POST", "/subscriptions/import", {"dry_run": True}),
        "billing_check": api("POST", "/billing/check", {"customer_ids": [CUSTOMER]}),
        "sync": api("POST", "/sync", {"customers": True, "subscriptions": False}),
        "halo_clients": api("GET", "/halo/clients"),
        "halo_top_levels": api("GET", "/halo/top-levels"),
        "console_index": api("GET", "/", signed=False),
        "console_config": api("GET", "/console/config.json", signed=False),
        "console_asset": api(
            "GET", "/console/app.js", route="/console/{proxy+}", signed=False, proxy="app.js"
        ),
        "runs_list": api("GET", "/runs", limit="10"),
        "runs_get": api("GET", f"/runs/{RUN}", route="/runs/{run_id}", run_id=RUN),
        "worker_sqs": sqs_event([message], f"arn:aws:sqs:{REGION}:{ACCOUNT}:WorkQueue", REGION),
        "schedule": scheduled_event(
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/dicker-data-halo-sync", REGION, ACCOUNT
        ),
    }


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    for name, event in samples().items():
        (EVENTS / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")


if __name__ == "__main__":
    main()
