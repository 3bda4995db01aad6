"""import-subscriptions: POST /subscriptions/import (dry runs answer the plan; real runs are queued)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.import_requests import start_subscription_import
from ddhalo_lambda.entry import http_handler
from ddhalo_lambda.idempotency import idempotent
from ddhalo_lambda.models import RUN_ANSWERS, SubscriptionImportRequest
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver, run_response
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/subscriptions/import", responses=RUN_ANSWERS)
def import_subscriptions(body: Annotated[SubscriptionImportRequest | None, Body()] = None) -> Response[Any]:
    return idempotent(app, "subscriptions-import", body or SubscriptionImportRequest(), start)


def start(request: SubscriptionImportRequest) -> Response[Any]:
    svc = services()
    run = start_subscription_import(svc.runner, svc.dispatcher, request.customer_ids, dry_run=request.dry_run)
    logger.info("subscription import started", extra={"run_id": run.run_id, "dry_run": run.dry_run})
    return run_response(run, svc.runner)


lambda_handler = http_handler(app)
