"""import-customers: POST /customers/import (dry runs answer the plan; real runs are queued)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.configuration import load_connection
from ddhalo.jobs.start import start_run
from ddhalo.pipeline.customers.flow import validate_request
from ddhalo.pipeline.customers.read import DickerDataCustomers
from ddhalo.pipeline.options import CustomerOptions
from ddhalo_lambda.entry import http_handler, time_left
from ddhalo_lambda.idempotency import idempotent
from ddhalo_lambda.models import RUN_ANSWERS, CustomerImportRequest
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver, run_response
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/customers/import", responses=RUN_ANSWERS)
def import_customers(body: Annotated[CustomerImportRequest | None, Body()] = None) -> Response[Any]:
    request = body or CustomerImportRequest()
    return idempotent(app, "customers-import", request.model_dump(mode="json"), lambda: start(request))


def start(request: CustomerImportRequest) -> Response[Any]:
    svc = services()
    conn = load_connection(svc.store, svc.secrets)
    upstreams = svc.runner.upstreams(time_left(app.lambda_context), connection=conn)
    options = CustomerOptions.from_settings(
        conn.settings,
        customer_ids=request.customer_ids,
        top_level_id=request.top_level_id,
        update_main_site_address=request.update_main_site_address,
        create_when_similar=request.create_when_similar,
    )
    customers = (
        DickerDataCustomers.read(upstreams.dicker_data) if options.customer_ids else DickerDataCustomers()
    )
    validate_request(options, customers, upstreams.halo)
    run = start_run(
        svc.runner,
        svc.dispatcher,
        "customers",
        options,
        dry_run=request.dry_run,
        trigger="api",
        upstreams=upstreams,
    )
    logger.info("customer import started", extra={"run_id": run.run_id, "dry_run": run.dry_run})
    return run_response(run, svc.runner)


lambda_handler = http_handler(app)
