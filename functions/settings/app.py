"""GET /settings and PUT /settings (credentials are write-only)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ddhalo.api.app import logger, make_resolver, metrics, services, tracer
from ddhalo.api.models import SettingsView, responses
from ddhalo.configuration import load_connection, settings_view, update_settings
from ddhalo.settings import SettingsUpdate

app = make_resolver()


@app.get("/settings", responses=responses({200: (SettingsView, "Settings; secrets only as *_set flags")}))
def get_settings() -> dict[str, Any]:
    svc = services()
    return settings_view(load_connection(svc.store, svc.secrets))


@app.put("/settings", responses=responses({200: (SettingsView, "The settings now in force")}))
def put_settings(update: SettingsUpdate) -> dict[str, Any]:
    svc = services()
    view = update_settings(svc.store, svc.secrets, update, svc.schedule)
    logger.info("settings updated", extra={"fields": sorted(update.model_fields_set)})
    return view


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
