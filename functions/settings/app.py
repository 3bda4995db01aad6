"""GET /settings and PUT /settings (credentials are write-only)."""

from typing import Any

from ddhalo.settings.service import load_connection, settings_view, update_settings
from ddhalo.settings.update import SettingsUpdate
from ddhalo_lambda.entry import http_handler
from ddhalo_lambda.environment import environment
from ddhalo_lambda.models import SettingsView, responses
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver
from ddhalo_lambda.services import services

app = make_resolver()


@app.get(
    "/settings",
    responses=responses(
        {200: (SettingsView, "Settings; secrets only as *_set flags; the schedule rule's state")}
    ),
)
def get_settings() -> dict[str, Any]:
    svc = services()
    return settings_view(load_connection(svc.store, svc.secrets), svc.schedule)


@app.put("/settings", responses=responses({200: (SettingsView, "The settings now in force")}))
def put_settings(update: SettingsUpdate) -> dict[str, Any]:
    svc = services()
    loopback = environment().allow_loopback_upstreams
    view = update_settings(svc.store, svc.secrets, update, svc.schedule, allow_loopback=loopback)
    logger.info("settings updated", extra={"fields": sorted(update.model_fields_set)})
    return view


lambda_handler = http_handler(app)
