"""Which Dicker Data and Halo the runner talks to: the real ones `DICKER_DATA_*` / `HALO_*` name,
else the bundled fakes with sample data; and their settings, stored through the core as
PUT /settings stores them."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from local.fakes import HaloFake
    from local.fakes._server import FakeServer

# What the state file and the banner call an upstream the runner started itself.
FAKE = "bundled fake"
# Credentials of the bundled fakes: local and well known, never real.
FAKE_DICKER_DATA_ACCOUNT = "LOCAL01"
FAKE_DICKER_DATA_TOKEN = "local-dicker-data-token"
FAKE_HALO_CLIENT_ID = "local-halo-client"
FAKE_HALO_CLIENT_SECRET = "local-halo-secret"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DickerDataUpstream:
    base_url: str
    account_code: str | None = None
    access_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HaloUpstream:
    api_url: str
    auth_url: str | None = None
    tenant: str | None = None
    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class UpstreamTargets:
    """Where the upstream APIs are; `None` for one means "start its bundled fake"."""

    dicker_data: DickerDataUpstream | None = None
    halo: HaloUpstream | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> UpstreamTargets:
        """Each upstream is real only when its URL variable is set (PRODUCT.md's contract)."""
        from ddhalo.settings.model import derive_halo_auth_url

        def get(name: str) -> str | None:
            return environ.get(name) or None

        dd = halo = None
        if base := get("DICKER_DATA_BASE_URL"):
            dd = DickerDataUpstream(base, get("DICKER_DATA_ACCOUNT_CODE"), get("DICKER_DATA_ACCESS_TOKEN"))
        elif get("DICKER_DATA_ACCOUNT_CODE") or get("DICKER_DATA_ACCESS_TOKEN"):
            log.warning("DICKER_DATA_BASE_URL is not set, so the Dicker Data fake is used anyway")
        if api := get("HALO_API_URL"):
            halo = HaloUpstream(
                api_url=api,
                auth_url=get("HALO_AUTH_URL") or derive_halo_auth_url(api),
                tenant=get("HALO_TENANT"),
                client_id=get("HALO_CLIENT_ID"),
                client_secret=get("HALO_CLIENT_SECRET"),
            )
        elif get("HALO_CLIENT_ID") or get("HALO_CLIENT_SECRET"):
            log.warning("HALO_API_URL is not set, so the Halo fake is used anyway")
        return cls(dd, halo)


def public_url(url: str) -> str:
    """The URL without any `user:password@` part, safe to print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def planned_names(upstreams: UpstreamTargets) -> dict[str, str]:
    """`UpstreamTargetsInUse.names()` as a start with ``upstreams`` will have them, known before
    anything starts."""
    names = {}
    for key, given in (("dicker_data", upstreams.dicker_data), ("halo", upstreams.halo)):
        url = getattr(given, "base_url", None) or getattr(given, "api_url", None)
        names[key] = public_url(url) if given is not None and url else FAKE
    return dict(sorted(names.items()))


def describe(names: Mapping[str, str]) -> str:
    """Upstream names in a sentence of a log line."""
    return ", ".join(f"{key}: {value}" for key, value in sorted(names.items()))


class UpstreamTargetsInUse:
    """The upstreams a start talks to: the bundled fakes it started, and every URL."""

    def __init__(self) -> None:
        self.fakes: dict[str, FakeServer] = {}  # the bundled fakes started, by upstream
        self.urls: dict[str, str] = {}

    def start(
        self, given: UpstreamTargets, fill_halo: Callable[[HaloFake], None]
    ) -> tuple[DickerDataUpstream, HaloUpstream]:
        """The upstreams to use, starting a fake for each one not given (``fill_halo`` gives
        the Halo fake its records)."""
        dd, halo = given.dicker_data, given.halo
        if dd is None:
            dd = self._start_dicker_data_fake()
        if halo is None:
            halo = self._start_halo_fake(fill_halo)
        self.urls = {"dicker_data": dd.base_url, "halo": halo.api_url}
        return dd, halo

    def _start_dicker_data_fake(self) -> DickerDataUpstream:
        from local.fakes import DickerDataFake
        from local.fakes.sample_data import sample_dicker_data

        tenants, subscriptions = sample_dicker_data()
        fake = DickerDataFake(
            account_code=FAKE_DICKER_DATA_ACCOUNT,
            access_token=FAKE_DICKER_DATA_TOKEN,
            tenants=tenants,
            subscriptions=subscriptions,
        ).start()
        self.fakes["dicker_data"] = fake
        return DickerDataUpstream(fake.base_url, FAKE_DICKER_DATA_ACCOUNT, FAKE_DICKER_DATA_TOKEN)

    def _start_halo_fake(self, fill: Callable[[HaloFake], None]) -> HaloUpstream:
        from local.fakes import HaloFake

        fake = HaloFake(client_id=FAKE_HALO_CLIENT_ID, client_secret=FAKE_HALO_CLIENT_SECRET).start()
        fill(fake)
        self.fakes["halo"] = fake
        return HaloUpstream(
            fake.api_url, fake.auth_url, client_id=FAKE_HALO_CLIENT_ID, client_secret=FAKE_HALO_CLIENT_SECRET
        )

    def names(self) -> dict[str, str]:
        """Which upstreams this start uses: a URL (without credentials) or the bundled fake."""
        return {key: FAKE if key in self.fakes else public_url(url) for key, url in sorted(self.urls.items())}

    def halo_fake(self) -> HaloFake | None:
        from local.fakes import HaloFake

        started = self.fakes.get("halo")
        return started if isinstance(started, HaloFake) else None

    def stop(self) -> None:
        for fake in self.fakes.values():
            fake.stop()
        self.fakes.clear()


def fingerprint(value: str) -> str:
    """What the state file remembers of a seeded value: enough to see that it changed."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def seed_settings(dd: DickerDataUpstream, halo: HaloUpstream, seeded: Mapping[str, str]) -> dict[str, str]:
    """Store the upstreams' settings through the core, held to the rules PUT /settings is held
    to; answers the fingerprints of what was given. A value ``seeded`` by the last start with the
    same value is not stored again, so what was changed since through PUT /settings stays; a
    changed (or new) variable wins."""
    values = {
        "dicker_data_base_url": dd.base_url,
        "dicker_data_account_code": dd.account_code,
        "dicker_data_access_token": dd.access_token,
        "halo_api_url": halo.api_url,
        "halo_auth_url": halo.auth_url,
        "halo_tenant": halo.tenant,
        "halo_client_id": halo.client_id,
        "halo_client_secret": halo.client_secret,
        # Where the digest of each run that left something for a person is posted as well.
        "webhook_url": os.environ.get("WEBHOOK_URL"),
    }
    table, secret = os.environ.get("TABLE_NAME"), os.environ.get("SECRET_ID")
    if not table or not secret:
        raise RuntimeError("The template sets no TABLE_NAME/SECRET_ID, so settings cannot be seeded")
    given = {k: v for k, v in values.items() if v}
    prints = {k: fingerprint(v) for k, v in given.items()}
    changed = {k: v for k, v in given.items() if seeded.get(k) != prints[k]}
    if changed:
        _store_settings(table, secret, changed)
    return prints


def _store_settings(table: str, secret: str, changed: dict[str, str]) -> None:
    """Through the core, with the functions' switch for loopback upstreams."""
    from pydantic import ValidationError

    from ddhalo.errors import InputError
    from ddhalo.secrets import SecretStore
    from ddhalo.settings.service import update_settings
    from ddhalo.settings.update import SettingsUpdate
    from ddhalo.store import Store
    from ddhalo.validation import describe_validation
    from ddhalo_lambda.environment import Environment

    loopback = Environment.from_env(os.environ).allow_loopback_upstreams
    try:
        update = SettingsUpdate.model_validate(changed)
    except ValidationError as exc:  # said as the API says it (no value: it may be a secret)
        raise InputError(describe_validation(list(exc.errors()))) from None
    update_settings(Store(table), SecretStore(secret), update, allow_loopback=loopback)
