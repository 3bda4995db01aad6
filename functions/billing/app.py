"""billing: POST /billing/check (the billing check, executed within the request: it writes
nothing to Halo, so it is always a dry run and answers the whole run, 200)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.jobs.start import start_run
from ddhalo.pipeline.billing.flow import chosen_mappings
from ddhalo.pipeline.options import BillingOptions
from ddhalo_lambda.entry import http_handler
from ddhalo_lambda.models import BILLING_ANSWERS, BillingCheckRequest
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver, run_response
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/billing/check", responses=BILLING_ANSWERS)
def check_billing(body: Annotated[BillingCheckRequest | None, Body()] = None) -> Response[Any]:
    request = body or BillingCheckRequest()
    svc = services()
    options = BillingOptions(customer_ids=request.customer_ids)
    # An unmapped customer named is refused before a run exists.
    chosen_mappings(svc.runner.store.list_mappings(), options)
    run = start_run(svc.runner, svc.dispatcher, "billing", options, dry_run=True, trigger="api")
    logger.info("billing check finished", extra={"run_id": run.run_id, "status": run.status})
    return run_response(run, svc.runner)


lambda_handler = http_handler(app)
