"""Test Configuration (``POST /config/test``): can we reach and use both upstreams with these settings?"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from ddhalo.clients import QUICK, dicker_data_client, halo_client
from ddhalo.dicker_data.client import DickerDataClient
from ddhalo.errors import IntegrationError, UnreachableError, UpstreamError
from ddhalo.halo.client import HaloClient
from ddhalo.settings.model import UNCONFIRMED_REGIONS, Connection


class SystemCheck(BaseModel):
    ok: bool
    message: str
    hint: str | None = None


class ConfigCheck(BaseModel):
    ok: bool
    dicker_data: SystemCheck
    halo: SystemCheck


def check_configuration(
    conn: Connection,
    *,
    make_dicker_data: Callable[[Connection], DickerDataClient] = lambda c: dicker_data_client(c, QUICK),
    make_halo: Callable[[Connection], HaloClient] = lambda c: halo_client(
        c,
        QUICK,
    ),
) -> ConfigCheck:
    dd = _guarded(lambda: _check_dicker_data(make_dicker_data(conn)), conn, "dicker_data")
    halo = _guarded(lambda: _check_halo(make_halo(conn)), conn, "halo")
    return ConfigCheck(ok=dd.ok and halo.ok, dicker_data=dd, halo=halo)


def _guarded(check: Callable[[], SystemCheck], conn: Connection, system: str) -> SystemCheck:
    try:
        return check()
    except IntegrationError as exc:
        hint = exc.hint
        settings = conn.settings
        if (
            system == "dicker_data"
            and isinstance(exc, UnreachableError | UpstreamError)
            and not settings.dicker_data_base_url
            and settings.region in UNCONFIRMED_REGIONS
        ):
            hint = (
                f"{hint} The {settings.region} host is not confirmed by Dicker Data: ask your account "
                "manager for it and set dicker_data_base_url."
            )
        return SystemCheck(ok=False, message=exc.message, hint=hint)


def _check_dicker_data(client: DickerDataClient) -> SystemCheck:
    tenants = client.get_tenants()
    with_tenant = sum(1 for t in tenants.items if t.has_csp_tenant)
    return SystemCheck(
        ok=True,
        message=(
            f"Connected to Dicker Data at {client.host}: {len(tenants.items)} customers, "
            f"{with_tenant} with a CSP tenant."
        ),
    )


def _check_halo(client: HaloClient) -> SystemCheck:
    counts = {}
    for entity, label in (("Client", "clients"), ("SoftwareLicence", "licences")):
        body = client.request("GET", entity, params={"pageinate": "true", "page_size": 1, "page_no": 1})
        total = body.get("record_count") if isinstance(body, dict) else None
        counts[label] = total if isinstance(total, int) else "some"
    return SystemCheck(
        ok=True,
        message=(
            f"Connected to Halo at {client.transport.base_url}: token granted; "
            f"{counts['clients']} clients and {counts['licences']} licences readable."
        ),
    )
