"""GET /mappings, POST /mappings (by hand) and DELETE /mappings/{dicker_customer_id}."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from ddhalo.errors import IntegrationError
from ddhalo.mappings import MappingOverview, add_mapping, mapping_overview
from ddhalo.models import Mapping
from ddhalo.pipeline.customers.read import DickerDataCustomers, HaloClients
from ddhalo_lambda.entry import http_handler, time_left
from ddhalo_lambda.models import CustomerId, Deleted, MappingRequest, responses
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import caller, make_resolver
from ddhalo_lambda.services import services

app = make_resolver()


@app.get("/mappings", responses=responses({200: (MappingOverview, "Mapped and unmapped customers")}))
def list_mappings() -> dict[str, Any]:
    """Stored mappings always answer; an unreachable upstream becomes a warning, not a 5xx."""
    svc = services()
    warnings: list[str] = []
    customers: DickerDataCustomers | None = None
    clients: HaloClients | None = None
    try:
        upstreams = svc.runner.upstreams(time_left(app.lambda_context))
    except IntegrationError as exc:
        warnings.append(str(exc))
    else:
        try:
            customers = DickerDataCustomers.read(upstreams.dicker_data)
        except IntegrationError as exc:
            warnings.append(str(exc))
        try:
            clients = HaloClients.read(upstreams.halo)
        except IntegrationError as exc:
            warnings.append(str(exc))
    return mapping_overview(svc.store, customers, clients, warnings).model_dump(mode="json")


@app.post("/mappings", responses=responses({201: (Mapping, "The new mapping")}))
def create_mapping(body: MappingRequest) -> Response[Any]:
    svc = services()
    upstreams = svc.runner.upstreams(time_left(app.lambda_context))
    customers = DickerDataCustomers.read(upstreams.dicker_data)
    mapping = add_mapping(
        svc.store,
        customers,
        upstreams.halo,
        body.dicker_customer_id,
        body.halo_client_id,
        caller(app),
        shared=body.shared,
    )
    logger.info("mapping added", extra={"dicker_customer_id": mapping.dicker_customer_id})
    return Response(201, content_types.APPLICATION_JSON, mapping.model_dump(mode="json"))


@app.delete("/mappings/<dicker_customer_id>", responses=responses({200: (Deleted, "The removed mapping")}))
def delete_mapping(dicker_customer_id: Annotated[CustomerId, Path()]) -> dict[str, Any]:
    removed = services().store.delete_mapping(dicker_customer_id)
    logger.info("mapping removed", extra={"dicker_customer_id": dicker_customer_id})
    return {"deleted": removed.model_dump(mode="json")}


lambda_handler = http_handler(app)
