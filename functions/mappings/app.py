"""GET /mappings, POST /mappings (by hand) and DELETE /mappings/{dicker_customer_id}, plus the Halo
clients and top levels a person picks from when mapping by hand or choosing a Top Level."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from ddhalo.errors import IntegrationError
from ddhalo.halo.records import TopLevelRecord
from ddhalo.mappings import MappingOverview, add_mapping, mapping_overview
from ddhalo.models import Mapping
from ddhalo.pipeline.customers.read import DickerDataCustomers, HaloClients
from ddhalo.pipeline.options import CustomerOptions
from ddhalo_lambda.entry import http_handler, time_left
from ddhalo_lambda.models import (
    CustomerId,
    Deleted,
    HaloClientList,
    MappingRequest,
    TopLevelList,
    responses,
)
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import caller, make_resolver
from ddhalo_lambda.services import services

app = make_resolver()


@app.get("/mappings", responses=responses({200: (MappingOverview, "Mapped and unmapped customers")}))
def list_mappings() -> dict[str, Any]:
    """Stored mappings always answer; an unreachable upstream becomes a warning, not a 5xx. Each
    unmapped customer says what an import (with the settings' options) will do with it."""
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
    options = CustomerOptions.from_settings(svc.store.get_settings())
    return mapping_overview(svc.store, customers, clients, warnings, options).model_dump(mode="json")


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


@app.get("/halo/clients", responses=responses({200: (HaloClientList, "Every Halo client, by name")}))
def list_halo_clients() -> dict[str, Any]:
    """Read-only: the same client read the mapping overview makes, as a list to pick from."""
    upstreams = services().runner.upstreams(time_left(app.lambda_context))
    clients = HaloClients.read(upstreams.halo)
    options = sorted(clients.by_id.items(), key=lambda pair: (pair[1].name.casefold(), pair[0]))
    return {"clients": [{"halo_client_id": i, "halo_client_name": r.name} for i, r in options]}


@app.get("/halo/top-levels", responses=responses({200: (TopLevelList, "Halo's top levels, by name")}))
def list_top_levels() -> dict[str, Any]:
    """Read-only: the list import checks a chosen top_level_id against, with the names."""
    upstreams = services().runner.upstreams(time_left(app.lambda_context))
    found = {
        top.id: top.name
        for raw in upstreams.halo.iter_list("TopLevel")
        if (top := TopLevelRecord.from_wire(raw)) is not None
    }
    options = sorted(found.items(), key=lambda pair: (pair[1].casefold(), pair[0]))
    return {"top_levels": [{"top_level_id": i, "top_level_name": name} for i, name in options]}


lambda_handler = http_handler(app)
