"""test-config: POST /config/test checks Dicker Data and Halo with stored or candidate settings."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from ddhalo.settings.check import ConfigCheck, check_configuration
from ddhalo.settings.service import load_connection
from ddhalo.settings.update import SettingsUpdate
from ddhalo_lambda.entry import http_handler
from ddhalo_lambda.environment import environment
from ddhalo_lambda.models import responses
from ddhalo_lambda.observability import logger
from ddhalo_lambda.resolver import make_resolver
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/config/test", responses=responses({200: (ConfigCheck, "Each system: ok, message, hint")}))
def check_config(candidate: Annotated[SettingsUpdate | None, Body()] = None) -> ConfigCheck:
    svc = services()
    loopback = environment().allow_loopback_upstreams
    result = check_configuration(load_connection(svc.store, svc.secrets, candidate, allow_loopback=loopback))
    logger.info(
        "configuration checked",
        extra={"ok": result.ok, "dicker_data_ok": result.dicker_data.ok, "halo_ok": result.halo.ok},
    )
    return result


lambda_handler = http_handler(app)
