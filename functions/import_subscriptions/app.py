"""import-subscriptions: POST /subscriptions/import (dry runs answer the plan; real runs are queued)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.jobs.start import start_run
from ddhalo.pipeline.options import SubscriptionOptions
from ddhalo.pipeline.subscriptions.flow import validate_request
from ddhalo_lambda.entry import http_handler
from ddhalo_lambda.idempotency import idempotent
from ddhalo_lambda.models import RUN_ANSWERS, SubscriptionImportRequest
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver, run_response
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/subscriptions/import", responses=RUN_ANSWERS)
def import_subscriptions(body: Annotated[SubscriptionImportRequest | None, Body()] = None) -> Response[Any]:
    request = body or SubscriptionImportRequest()
    return idempotent(
        app,
        "subscriptions-import",
        request.model_dump(mode="json"),
        lambda: start(request),
    )


def start(request: SubscriptionImportRequest) -> Response[Any]:
    svc = services()
    exclusions = svc.store.get_settings().exclusions
    options = SubscriptionOptions(
        customer_ids=request.customer_ids,
        excluded_customers=exclusions.customers,
        excluded_stock_codes=exclusions.stock_codes,
    )
    validate_request(options, {m.dicker_customer_id: m for m in svc.store.list_mappings()})
    run = start_run(
        svc.runner,
        svc.dispatcher,
        "subscriptions",
        options,
        dry_run=request.dry_run,
        trigger="api",
    )
    logger.info("subscription import started", extra={"run_id": run.run_id, "dry_run": run.dry_run})
    return run_response(run, svc.runner)


lambda_handler = http_handler(app)
