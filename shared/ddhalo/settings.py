"""Typed settings, the Dicker Data host table and the write-only credentials.

Settings that are not secret live in DynamoDB (see ``store``); the three secrets live in Secrets
Manager (see ``secrets``). Both are merged into :class:`Connection` for a run.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from ddhalo.errors import ConfigurationError
from ddhalo.halo.limits import RATE_WINDOW_SECONDS
from ddhalo.jsontypes import JSON_INTEGER, JSON_NUMBER, JsonBool

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

# Patterns make the OpenAPI document as strict as the validation (schemathesis holds us to it).
# Explicit character classes: JSON Schema (ECMA), Python and pydantic's Rust regex disagree on \s.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"[!-~]")
]
Url = Annotated[
    str,
    StringConstraints(
        max_length=500,
        pattern=r"^https?://[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*(:[0-9]{1,5})?(/[!-~]*)?$",
    ),
]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=4096)]
# EventBridge's forms: rate(1 hour), rate(30 minutes), cron(0 2 * * ? *).
_RATE = r"rate\([1-9][0-9]{0,3} (minute|minutes|hour|hours|day|days)\)"
_CRON = r"cron\([0-9A-Za-z*?,/#-]+( [0-9A-Za-z*?,/#-]+){5}\)"
Schedule = Annotated[str, StringConstraints(pattern=rf"^({_RATE}|{_CRON})$", max_length=100)]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_url(value: str | None) -> str | None:
    """An http(s) URL with a host and nothing odd in it (used for every upstream URL)."""
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or _CONTROL.search(value):
        raise ValueError("must be an http(s) URL such as https://example.halopsa.com/api")
    if len(value) > 500:
        raise ValueError("is longer than 500 characters")
    return value


class IntegratorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    sync_customers: bool = True
    sync_subscriptions: bool = True
    schedule: Schedule = "rate(1 day)"


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
    integrator: IntegratorSettings = Field(default_factory=IntegratorSettings)

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

    def flags(self) -> dict[str, bool]:
        return {f"{name}_set": getattr(self, name) is not None for name in type(self).model_fields}

    def merged(self, update: Credentials) -> Credentials:
        values = {k: v for k, v in update if v is not None}
        return self.model_copy(update=values)

    def plain(self) -> dict[str, str]:
        """The secret's JSON document; only ever handed to Secrets Manager."""
        return {k: v.get_secret_value() for k, v in self if v is not None}


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("may be left out but not null")
    return value


class SettingsUpdate(BaseModel):
    """Body of ``PUT /settings`` and the candidate settings of ``POST /config/test``.

    Leaving a field out keeps it. ``null`` clears the settings that may be empty (URL overrides,
    account code, top level, tenant); the others are ``SkipJsonSchema[None]``: out, never null.
    Numbers and booleans are read as JSON Schema reads them (``ddhalo.jsontypes``).
    """

    model_config = ConfigDict(extra="forbid")

    region: Region | SkipJsonSchema[None] = None
    environment: Environment | SkipJsonSchema[None] = None
    dicker_data_base_url: Url | None = None
    dicker_data_account_code: Text | None = None
    top_level_id: Annotated[int, Field(ge=1), JSON_INTEGER] | None = None
    update_main_site_address: JsonBool | SkipJsonSchema[None] = None
    create_when_similar: JsonBool | SkipJsonSchema[None] = None
    # Replaces the whole list of each kind it names.
    exclusions: Exclusions | SkipJsonSchema[None] = None
    halo_api_url: Url | None = None
    halo_auth_url: Url | None = None
    halo_tenant: Text | None = None
    halo_requests_per_minute: Annotated[int, Field(ge=1, le=6000), JSON_INTEGER] | SkipJsonSchema[None] = None
    halo_rate_window_seconds: Annotated[int, Field(ge=1, le=3600), JSON_INTEGER] | SkipJsonSchema[None] = None
    request_timeout_seconds: Annotated[float, Field(ge=1, le=120), JSON_NUMBER] | SkipJsonSchema[None] = None
    integrator: IntegratorUpdate | SkipJsonSchema[None] = None
    dicker_data_access_token: Secret | None = None
    halo_client_id: Secret | None = None
    halo_client_secret: Secret | None = None

    _urls = field_validator("dicker_data_base_url", "halo_api_url", "halo_auth_url")(check_url)
    _required = field_validator(
        "region",
        "environment",
        "update_main_site_address",
        "create_when_similar",
        "exclusions",
        "halo_requests_per_minute",
        "halo_rate_window_seconds",
        "request_timeout_seconds",
        "integrator",
        mode="before",
    )(_not_null)

    def credentials(self) -> Credentials:
        return Credentials(
            dicker_data_access_token=self.dicker_data_access_token,
            halo_client_id=self.halo_client_id,
            halo_client_secret=self.halo_client_secret,
        )

    def apply_to(self, settings: Settings) -> Settings:
        """Partial update: only fields the caller sent change (an explicit null clears)."""
        nested = {"integrator", "exclusions"}
        sent = self.model_dump(exclude_unset=True, exclude={*Credentials.model_fields, *nested})
        merged = settings.model_copy(update=sent)
        if self.exclusions is not None:
            merged.exclusions = settings.exclusions.model_copy(
                update=self.exclusions.model_dump(exclude_unset=True)
            )
        if self.integrator is not None:
            merged.integrator = settings.integrator.model_copy(
                update=self.integrator.model_dump(exclude_unset=True)
            )
        return Settings.model_validate(merged.model_dump())


class IntegratorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: JsonBool | SkipJsonSchema[None] = None
    sync_customers: JsonBool | SkipJsonSchema[None] = None
    sync_subscriptions: JsonBool | SkipJsonSchema[None] = None
    schedule: Schedule | SkipJsonSchema[None] = None

    _required = field_validator("*", mode="before")(_not_null)


SettingsUpdate.model_rebuild()


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
