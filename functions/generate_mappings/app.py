"""generate-mappings: POST /mappings/generate maps customers to Halo clients by exact name."""

from typing import Any

from ddhalo.mappings import GenerateResult, generate_mappings
from ddhalo.pipeline.customers.read import DickerDataCustomers, HaloClients
from ddhalo_lambda.entry import http_handler, time_left
from ddhalo_lambda.models import responses
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import caller, make_resolver
from ddhalo_lambda.services import services

app = make_resolver()


@app.post(
    "/mappings/generate",
    responses=responses({200: (GenerateResult, "Created, unmatched, ambiguous")}),
)
def generate() -> dict[str, Any]:
    svc = services()
    upstreams = svc.runner.upstreams(time_left(app.lambda_context))
    customers = DickerDataCustomers.read(upstreams.dicker_data)
    clients = HaloClients.read(upstreams.halo)
    excluded = svc.store.get_settings().exclusions.customers
    result = generate_mappings(svc.store, customers, clients, created_by=caller(app), excluded=excluded)
    logger.info(
        "mappings generated",
        extra={
            "mappings_created": len(result.created),
            "already_mapped": result.already_mapped,
            "unmatched": len(result.unmatched),
            "ambiguous": len(result.ambiguous),
        },
    )
    return result.model_dump(mode="json")


lambda_handler = http_handler(app)
