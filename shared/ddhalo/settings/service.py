"""Reading and changing the settings: what ``GET`` and ``PUT /settings`` do, and the connection a
run or ``POST /config/test`` uses (non-secret parts in DynamoDB, credentials in Secrets Manager)."""

from __future__ import annotations

from typing import Any

from ddhalo.errors import InputError
from ddhalo.redact import remember
from ddhalo.schedule import ScheduleControl, schedule_view
from ddhalo.secrets import SecretStore
from ddhalo.settings.model import Connection, Credentials
from ddhalo.settings.update import SettingsUpdate
from ddhalo.store import Store
from ddhalo.urls import upstream_url_refusal

SETTINGS_MUTEX = "SETTINGS"
# What the functions call with credentials or a digest: held to upstream_url_refusal's rule.
UPSTREAM_URLS = ("dicker_data_base_url", "halo_api_url", "halo_auth_url", "webhook_url")


def check_upstream_urls(update: SettingsUpdate, *, allow_loopback: bool) -> None:
    """Refuse an update (or candidate) naming an upstream or webhook URL no function may call,
    saying each: the model refused every other host already; what needs the environment's switch
    (``allow_loopback``, the local runner's) is whether a loopback one may be called."""
    refusals = []
    for name in UPSTREAM_URLS:
        url = getattr(update, name)
        secret = name in Credentials.model_fields
        if url and (refusal := upstream_url_refusal(url, allow_loopback=allow_loopback, secret=secret)):
            refusals.append(f"{name} {refusal}.")
    if refusals:
        raise InputError(" ".join(refusals))


def load_connection(
    store: Store,
    secrets: SecretStore,
    candidate: SettingsUpdate | None = None,
    *,
    allow_loopback: bool = False,
) -> Connection:
    """Stored settings and credentials, overlaid with candidate values that are not saved."""
    settings = store.get_settings()
    credentials = secrets.load()
    if candidate is not None:
        check_upstream_urls(candidate, allow_loopback=allow_loopback)
        remember(*candidate.credentials().plain().values())
        settings = candidate.apply_to(settings)
        credentials = credentials.merged(candidate.credentials())
    return Connection(settings=settings, credentials=credentials)


def settings_view(
    conn: Connection,
    schedule: ScheduleControl | None = None,
    schedule_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``GET /settings`` answers: every setting, only flags for the write-only ones, and the
    schedule rule's state (read from EventBridge unless ``schedule_state`` already says it)."""
    view = conn.settings.model_dump(mode="json")
    view.update(conn.credentials.flags())
    view["dicker_data_effective_base_url"] = conn.settings.dicker_data_url()
    view["halo_effective_auth_url"] = conn.settings.halo_token_url_base()
    view.update(schedule_state or schedule_view(schedule, conn.settings.integrator))
    return view


def update_settings(
    store: Store,
    secrets: SecretStore,
    update: SettingsUpdate,
    schedule: ScheduleControl | None = None,
    *,
    allow_loopback: bool = False,
) -> dict[str, Any]:
    """Validate the whole result first, then write: a bad value changes nothing.

    Several containers may take ``PUT /settings`` at once: the read, change and write of both the
    settings item and the secret happen under one mutex, so no update is lost. The schedule rule
    is switched first, so a refused expression leaves the settings as they were. An upstream or
    webhook URL is held to ``check_upstream_urls`` (``allow_loopback``: the environment's switch).
    """
    remember(*update.credentials().plain().values())
    check_upstream_urls(update, allow_loopback=allow_loopback)
    new_credentials = update.credentials()
    with store.mutex(SETTINGS_MUTEX):
        settings = update.apply_to(store.get_settings())
        applied = None
        if schedule is not None and update.integrator is not None:
            applied = schedule.applied(settings.integrator)
        cleared = update.cleared_credentials()
        if new_credentials.plain() or cleared:
            credentials = secrets.save(new_credentials, cleared)
        else:
            credentials = secrets.load()
        store.put_settings(settings)
    return settings_view(Connection(settings=settings, credentials=credentials), schedule, applied)
