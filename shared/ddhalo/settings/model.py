"""What the settings are: every setting typed with its default, the Dicker Data host table, the
write-only credentials, and both merged into :class:`Connection` for a run.

Settings that are not secret live in DynamoDB (``ddhalo.store.settings``); the credentials live in
Secrets Manager (``ddhalo.secrets``). What ``PUT /settings`` accepts is ``update``; reading and
changing them is ``service``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator

from ddhalo.errors import ConfigurationError
from ddhalo.halo.limits import RATE_WINDOW_SECONDS
from ddhalo.urls import check_url

Region = Literal["AU", "NZ"]
Environment = Literal["production", "test"]

# Public clients agree on the AU hosts; the NZ hosts are unconfirmed guesses, which is why an
# explicit ``dicker_data_base_url`` always wins.
DICKER_DATA_BASE_URLS: dict[tuple[str, str], str] = {
    ("AU", "production"): "https://b2b-api.dickerdata.com.au/api/",
    ("AU", "test"): "https://b2b-api-test.dickerdata.com.au/api/",
    ("NZ", "production"): "https://b2b-api.dickerdata.co.nz/api/",
    ("NZ", "test"): "https://b2b-api-test.dickerdata.co.nz/api/",
}
UNCONFIRMED_REGIONS = frozenset({"NZ"})

# Hosted Halo allows 300 requests per rolling 5 minutes (60/min); keep a margin for other tools.
DEFAULT_HALO_REQUESTS_PER_MINUTE = 50
# A write's answer is waited for this long, and a lost one is looked for this long after it was
# sent (docs/UPSTREAMS.md: how long Halo may take to save is assumed, not documented).
DEFAULT_WRITE_TIMEOUT = 120.0
DEFAULT_WRITE_SETTLE = 300.0

# The schedule a new deployment starts with: the same as template.yaml's SyncSchedule default
# (the rule EventBridge runs until the first PUT /settings switches it) and the README's.
DEFAULT_SCHEDULE = "rate(1 hour)"
DEFAULT_VERIFY_EVERY_HOURS = 24
# EventBridge's forms: rate(1 hour), rate(30 minutes), cron(0 2 * * ? *). The pattern makes the
# OpenAPI document as strict as the validation (schemathesis holds us to it).
_RATE = r"rate\([1-9][0-9]{0,3} (minute|minutes|hour|hours|day|days)\)"
_CRON = r"cron\([0-9A-Za-z*?,/#-]+( [0-9A-Za-z*?,/#-]+){5}\)"
Schedule = Annotated[str, StringConstraints(pattern=rf"^({_RATE}|{_CRON})$", max_length=100)]


class IntegratorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    sync_customers: bool = True
    sync_subscriptions: bool = True
    schedule: Schedule = DEFAULT_SCHEDULE
    # A scheduled sync is a verify (a full read of both sides) when the last one is this old.
    verify_every_hours: int = Field(default=DEFAULT_VERIFY_EVERY_HOURS, ge=1, le=24 * 90)


class Exclusions(BaseModel):
    """Left out of every import and sync: never created, updated, mapped by generate or made
    inactive; what is already in Halo stays as it is."""

    model_config = ConfigDict(extra="forbid")

    customers: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    ] = Field(default_factory=list, max_length=10_000)
    stock_codes: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    ] = Field(default_factory=list, max_length=10_000)


WebhookFormat = Literal["auto", "slack", "teams"]
# Days before a credential's declared expiry that each digest starts warning of it.
DEFAULT_WARN_DAYS = 14


class Notifications(BaseModel):
    """The issues-only digest: after a real import or sync that left something for a person, one
    message to the alarm topic (email) and the webhook (``webhook_url``, a credential) when set.

    Neither Dicker Data nor Halo says when a token or client secret stops working, so the MSP
    records the dates it was given (``..._expires``); the digest warns ``warn_days`` before.
    """

    model_config = ConfigDict(extra="forbid")

    digest: bool = True
    # auto: Teams' card for Microsoft's webhook hosts, Slack's {"text"} for any other.
    webhook_format: WebhookFormat = "auto"
    warn_days: int = Field(default=DEFAULT_WARN_DAYS, ge=1, le=365)
    dicker_data_token_expires: date | None = None
    halo_client_secret_expires: date | None = None


class Settings(BaseModel):
    """Everything a run needs except secrets. Defaults are what a new deployment starts with."""

    model_config = ConfigDict(extra="ignore")

    region: Region = "AU"
    environment: Environment = "production"
    dicker_data_base_url: str | None = None
    dicker_data_account_code: str | None = None
    top_level_id: int | None = None
    update_main_site_address: bool = False
    # Import (and sync) creates a customer whose name Halo already holds instead of holding it.
    create_when_similar: bool = False
    exclusions: Exclusions = Field(default_factory=Exclusions)
    halo_api_url: str | None = None
    halo_auth_url: str | None = None
    halo_tenant: str | None = None
    halo_requests_per_minute: int = Field(default=DEFAULT_HALO_REQUESTS_PER_MINUTE, ge=1, le=6000)
    # Halo's rolling rate window: a 429 without Retry-After is waited out over it.
    halo_rate_window_seconds: int = Field(default=RATE_WINDOW_SECONDS, ge=1, le=3600)
    request_timeout_seconds: float = Field(default=30.0, ge=1, le=120)
    # A write's answer may take this long (a batch of 100 on a busy hosted tenant takes tens of
    # seconds); after it the write counts as lost, and it may still be saved.
    halo_write_timeout_seconds: float = Field(default=DEFAULT_WRITE_TIMEOUT, ge=1, le=600)
    # How long after sending a write whose answer was lost Halo is given to save it before
    # reading Halo again proves it did not land (longer than Halo's slowest save: UPSTREAMS.md;
    # above the write timeout, or a write lost to the timeout is looked for at once).
    halo_write_settle_seconds: float = Field(default=DEFAULT_WRITE_SETTLE, ge=1, le=900)
    integrator: IntegratorSettings = Field(default_factory=IntegratorSettings)
    notifications: Notifications = Field(default_factory=Notifications)

    _urls = field_validator("dicker_data_base_url", "halo_api_url", "halo_auth_url")(check_url)

    def dicker_data_url(self) -> str:
        if self.dicker_data_base_url:
            return self.dicker_data_base_url
        return DICKER_DATA_BASE_URLS[(self.region, self.environment)]

    def halo_token_url_base(self) -> str | None:
        """Halo's auth server: explicit, else the API URL with its last ``/api`` made ``/auth``."""
        if self.halo_auth_url:
            return self.halo_auth_url
        return derive_halo_auth_url(self.halo_api_url) if self.halo_api_url else None


def derive_halo_auth_url(api_url: str) -> str:
    base = api_url.rstrip("/")
    head, sep, tail = base.rpartition("/api")
    if sep and tail == "":
        return head + "/auth"
    return base + "/auth"


class Credentials(BaseModel):
    """The write-only part of the settings, kept in Secrets Manager."""

    model_config = ConfigDict(extra="ignore")

    dicker_data_access_token: SecretStr | None = None
    halo_client_id: SecretStr | None = None
    halo_client_secret: SecretStr | None = None
    # A Teams or Slack incoming webhook: whoever holds the URL may post to the channel.
    webhook_url: SecretStr | None = None

    def flags(self) -> dict[str, bool]:
        return {f"{name}_set": getattr(self, name) is not None for name in type(self).model_fields}

    def merged(self, update: Credentials, clear: set[str] | frozenset[str] = frozenset()) -> Credentials:
        values: dict[str, Any] = {k: v for k, v in update if v is not None}
        values.update(dict.fromkeys(clear))
        return self.model_copy(update=values)

    def plain(self) -> dict[str, str]:
        """The secret's JSON document; only ever handed to Secrets Manager."""
        return {k: v.get_secret_value() for k, v in self if v is not None}


class Connection(BaseModel):
    """Settings plus credentials: what the client factories need."""

    settings: Settings
    credentials: Credentials

    def require(self, *names: str) -> None:
        missing = [n for n in names if _value(self, n) in (None, "")]
        if missing:
            raise ConfigurationError(
                f"Not configured: {', '.join(missing)}.",
                f"Set {', '.join(missing)} with PUT /settings.",
            )


def _value(conn: Connection, name: str) -> object:
    if name in Credentials.model_fields:
        return getattr(conn.credentials, name)
    return getattr(conn.settings, name)
