"""Products: GET /products, POST /products/generate, POST /products (by hand),
DELETE /products/{stock_code}, and the Halo Items a person picks from (GET /halo/items)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from ddhalo.pipeline.products.apply import GenerateProductsResult, apply_products
from ddhalo.pipeline.products.plan import ItemIndex, Product, plan_products
from ddhalo.pipeline.products.read import read_items, read_products
from ddhalo.pipeline.products.service import (
    ItemList,
    ProductOverview,
    add_product,
    attempt,
    item_options,
    product_overview,
)
from ddhalo.store.products import ProductMapping
from ddhalo_lambda.entry import http_handler, time_left
from ddhalo_lambda.models import DeletedProduct, ProductRequest, StockCode, responses
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import caller, make_resolver
from ddhalo_lambda.services import services

app = make_resolver()


@app.get("/products", responses=responses({200: (ProductOverview, "Mapped and unmapped products")}))
def list_products() -> dict[str, Any]:
    """Stored mappings always answer; an unreachable upstream becomes a warning, not a 5xx."""
    svc = services()
    warnings: list[str] = []
    products: list[Product] | None = None
    items: ItemIndex | None = None
    upstreams = attempt(lambda: svc.runner.upstreams(time_left(app.lambda_context)), warnings)
    if upstreams is not None:
        products = attempt(lambda: read_products(upstreams.dicker_data, svc.store), warnings)
        items = attempt(lambda: read_items(upstreams.halo), warnings)
    excluded = svc.store.get_settings().exclusions.stock_codes
    return product_overview(svc.store, products, items, excluded, warnings).model_dump(mode="json")


@app.post(
    "/products/generate",
    responses=responses({200: (GenerateProductsResult, "Created, unmatched, ambiguous, excluded")}),
)
def generate() -> dict[str, Any]:
    svc = services()
    upstreams = svc.runner.upstreams(time_left(app.lambda_context))
    products = read_products(upstreams.dicker_data, svc.store)
    items = read_items(upstreams.halo)
    mapped = {p.stock_code for p in svc.store.list_products()}
    planned = plan_products(products, items, mapped, svc.store.get_settings().exclusions.stock_codes)
    result = apply_products(svc.store, planned, caller(app))
    logger.info("product mappings generated", extra=result.summary())
    return result.model_dump(mode="json")


@app.post("/products", responses=responses({201: (ProductMapping, "The new product mapping")}))
def create_product(body: ProductRequest) -> Response[Any]:
    svc = services()
    upstreams = svc.runner.upstreams(time_left(app.lambda_context))
    products = read_products(upstreams.dicker_data, svc.store)
    mapping = add_product(
        svc.store, upstreams.halo, body.stock_code, body.halo_item_id, products, caller(app)
    )
    logger.info("product mapping added", extra={"stock_code": mapping.stock_code})
    return Response(201, content_types.APPLICATION_JSON, mapping.model_dump(mode="json"))


@app.delete("/products/<stock_code>", responses=responses({200: (DeletedProduct, "The removed mapping")}))
def delete_product(stock_code: Annotated[StockCode, Path()]) -> dict[str, Any]:
    removed = services().store.delete_product(stock_code)
    logger.info("product mapping removed", extra={"stock_code": stock_code})
    return {"deleted": removed.model_dump(mode="json")}


@app.get("/halo/items", responses=responses({200: (ItemList, "Halo's items, by name")}))
def list_halo_items() -> dict[str, Any]:
    """Read-only: the Items generate matches against, as a list to pick from."""
    upstreams = services().runner.upstreams(time_left(app.lambda_context))
    return item_options(read_items(upstreams.halo)).model_dump(mode="json")


lambda_handler = http_handler(app)
