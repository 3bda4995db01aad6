"""test-config: POST /config/test checks Dicker Data and Halo with stored or candidate settings."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.api.app import http_handler, logger, make_resolver, services
from ddhalo.api.models import responses
from ddhalo.config_check import ConfigCheck, check_configuration
from ddhalo.configuration import load_connection
from ddhalo.settings import SettingsUpdate

app = make_resolver()


@app.post("/config/test", responses=responses({200: (ConfigCheck, "Each system: ok, message, hint")}))
def check_config(candidate: Annotated[SettingsUpdate | None, Body()] = None) -> ConfigCheck:
    svc = services()
    result = check_configuration(load_connection(svc.store, svc.secrets, candidate))
    logger.info(
        "configuration checked",
        extra={"ok": result.ok, "dicker_data_ok": result.dicker_data.ok, "halo_ok": result.halo.ok},
    )
    return result


lambda_handler = http_handler(app)
