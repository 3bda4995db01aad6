"""import-customers: POST /customers/import (dry runs answer the plan; real runs are queued)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.import_requests import start_customer_import
from ddhalo_lambda.entry import http_handler, time_left
from ddhalo_lambda.idempotency import idempotent
from ddhalo_lambda.models import RUN_ANSWERS, CustomerImportRequest
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver, run_response
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/customers/import", responses=RUN_ANSWERS)
def import_customers(body: Annotated[CustomerImportRequest | None, Body()] = None) -> Response[Any]:
    return idempotent(app, "customers-import", body or CustomerImportRequest(), start)


def start(request: CustomerImportRequest) -> Response[Any]:
    svc = services()
    chosen = request.model_dump(exclude={"dry_run"})
    deadline = time_left(app.lambda_context)
    run = start_customer_import(
        svc.runner, svc.dispatcher, chosen, dry_run=request.dry_run, deadline=deadline
    )
    logger.info("customer import started", extra={"run_id": run.run_id, "dry_run": run.dry_run})
    return run_response(run, svc.runner)


lambda_handler = http_handler(app)
