"""generate-mappings: POST /mappings/generate maps customers to Halo clients by exact name."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ddhalo.api.app import caller, logger, make_resolver, metrics, services, tracer
from ddhalo.api.models import responses
from ddhalo.mappings import GenerateResult, generate_mappings
from ddhalo.snapshot import DickerDataCustomers, HaloClients

app = make_resolver()


@app.post(
    "/mappings/generate",
    responses=responses({200: (GenerateResult, "Created, unmatched, ambiguous")}),
)
def generate() -> dict[str, Any]:
    svc = services()
    upstreams = svc.runner.upstreams()
    customers = DickerDataCustomers.read(upstreams.dicker_data)
    clients = HaloClients.from_records(upstreams.halo.clients())
    result = generate_mappings(svc.store, customers, clients, created_by=caller(app))
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
