"""Typed settings, the Dicker Data host table and the write-only credentials.

Settings that are not secret live in DynamoDB (see ``store``); the three secrets live in Secrets
Manager (see ``secrets``). Both are merged into :class:`Connection` for a run.
"""

from __future__ import annotations

import re
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from ddhalo.errors import ConfigurationError
from ddhalo.halo.limits import RATE_WINDOW_SECONDS
from ddhalo.jsontypes import JSON_INTEGER, JSON_NUMBER, JsonBool
from ddhalo.urls import check_url, upstream_url_refusal

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

# Patterns make the OpenAPI document as strict as the validation (schemathesis holds us to it).
# Explicit character classes: JSON Schema (ECMA), Python and pydantic's Rust regex disagree on \s.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"[!-~]")
]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=4096)]
# The schedule a new deployment starts with: the same as template.yaml's SyncSchedule default
# (the rule EventBridge runs until the first PUT /settings switches it) and the README's.
DEFAULT_SCHEDULE = "rate(1 hour)"
DEFAULT_VERIFY_EVERY_HOURS = 24
# EventBridge's forms: rate(1 hour), rate(30 minutes), cron(0 2 * * ? *).
_RATE = r"rate\([1-9][0-9]{0,3} (minute|minutes|hour|hours|day|days)\)"
_CRON = r"cron\([0-9A-Za-z*?,/#-]+( [0-9A-Za-z*?,/#-]+){5}\)"
Schedule = Annotated[str, StringConstraints(pattern=rf"^({_RATE}|{_CRON})$", max_length=100)]


def _public_host(*, secret: bool) -> BeforeValidator:
    """The part of ``upstream_url_refusal`` that holds wherever the code runs (everything but a
    loopback host), said precisely before the pattern would refuse an address in general words.
    The rest needs the environment's switch: ``configuration.check_upstream_urls``."""

    def check(value: Any) -> Any:
        url = value.strip() if isinstance(value, str) else ""
        if urlsplit(url).scheme in ("http", "https") and (
            refusal := upstream_url_refusal(url, allow_loopback=True, secret=secret)
        ):
            raise _refusal(SETTING_ERROR, refusal)
        return value

    return BeforeValidator(check)


# https:// on a host name whose last label starts with a letter (never an address, in any form),
# or http(s):// on a loopback address or localhost, which only the local runner accepts.
_URL_PATTERN = (
    r"^(https://([A-Za-z0-9-]{1,63}\.)+[A-Za-z][A-Za-z0-9-]{0,62}|https?://(127(\.[0-9]{1,3}){3}|localhost))"
    r"(:[0-9]{1,5})?(/[!-~]*)?$"
)
Url = Annotated[str, StringConstraints(max_length=500, pattern=_URL_PATTERN), _public_host(secret=False)]
# Teams' Workflows URLs carry a long signature: room for them.
WebhookUrl = Annotated[
    str, StringConstraints(max_length=2000, pattern=_URL_PATTERN), _public_host(secret=True)
]


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


# -- what PUT /settings accepts, said in words ----------------------------------------------------
# A refused value answers what its field allows (`region must be "AU" or "NZ"`). Pydantic's own
# messages name its internals instead: union branches (`literal['AU','NZ']`, `none`), validator
# functions (`function-before[...]`), the regular expressions above. So every field of the update
# models carries its rule in words, and any failure inside the field reads as that rule. The
# messages never carry the value sent: it may be a secret.
SETTING_ERROR = "invalid_setting"
UNKNOWN_SETTING = "unknown_setting"


def _refusal(kind: str, text: str) -> PydanticCustomError:
    # The text goes in as context: as the template itself, braces in it would be placeholders.
    return PydanticCustomError(kind, "{allowed}", {"allowed": text})


def allows(rule: str, *, nullable: bool, left_out: str = "to keep the current value") -> WrapValidator:
    """Outermost validator of an update field (or a request's): any failure answers ``rule``
    ("must be ...").

    ``nullable=False`` fields take ``null`` in their type only so that "left out" can default to
    None; a ``null`` sent is refused here, before the type is tried, saying what leaving the
    field out does (``left_out``).
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None and not nullable:
            raise _refusal(SETTING_ERROR, f"{rule}, not null (leave it out {left_out})")
        try:
            return handler(value)
        except ValidationError as exc:
            # A rule inside the field that says more (an URL's host: upstream_url_refusal) is kept.
            said = next((e["msg"] for e in exc.errors() if e["type"] == SETTING_ERROR), rule)
            raise _refusal(SETTING_ERROR, said) from None

    return WrapValidator(check)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _refusals(
    model: type[BaseModel], data: Any, handler: ValidatorFunctionWrapHandler, what: str, known: str
) -> Any:
    """The model's errors as a person reads them: a field it does not have is refused naming the
    ones it has (pydantic says only "Extra inputs are not permitted"), and no error keeps the value
    sent (``errors()`` would carry it, a secret perhaps, to whoever logs them)."""
    try:
        return handler(data)
    except ValidationError as exc:
        *rest, last = model.model_fields
        names = f"{', '.join(rest)} and {last}"
        details: list[InitErrorDetails] = []
        for err in exc.errors():
            if err["type"] == "extra_forbidden":
                kind = _refusal(UNKNOWN_SETTING, f"is not {what}; {known} are {names}")
                details.append({"type": kind, "loc": err["loc"], "input": None})
            elif err["type"] in (SETTING_ERROR, UNKNOWN_SETTING):
                details.append({"type": _refusal(err["type"], err["msg"]), "loc": err["loc"], "input": None})
            else:  # pydantic's own (a body that is not an object): rebuilt as it was
                details.append(
                    {"type": err["type"], "loc": err["loc"], "input": None, "ctx": err.get("ctx") or {}}
                )
        raise ValidationError.from_exception_data(exc.title, details, hide_input=True) from None


_BOOL = "must be true or false"
_TEXT = (
    "must be text of 1 to 200 characters with at least one ASCII letter, digit or symbol, or null to clear it"
)


def _url(example: str) -> str:
    return (
        f"must be an https:// URL on a host name, of at most 500 characters, such as {example}, "
        "or null to clear it"
    )


_CREDENTIAL = "must be a string of 1 to 4096 characters (null keeps the stored one)"
_SCHEDULE = (
    'must be an EventBridge schedule expression such as "rate(1 hour)", "rate(30 minutes)" or '
    '"cron(0 2 * * ? *)": rate(N minutes, hours or days) with N from 1 to 9999, or cron(...) with '
    "six fields; at most 100 characters"
)
UpdateUrl = Annotated[Url, AfterValidator(check_url)]
CLEARABLE_CREDENTIALS = frozenset({"webhook_url"})
_WEBHOOK = (
    "must be the https:// URL of a Teams or Slack incoming webhook, at most 2000 characters, "
    "or null to remove it"
)


class IntegratorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    enabled: Annotated[JsonBool | SkipJsonSchema[None], allows(_BOOL, nullable=False)] = None
    sync_customers: Annotated[JsonBool | SkipJsonSchema[None], allows(_BOOL, nullable=False)] = None
    sync_subscriptions: Annotated[JsonBool | SkipJsonSchema[None], allows(_BOOL, nullable=False)] = None
    schedule: Annotated[Schedule | SkipJsonSchema[None], allows(_SCHEDULE, nullable=False)] = None
    verify_every_hours: Annotated[
        Annotated[int, Field(ge=1, le=24 * 90), JSON_INTEGER] | SkipJsonSchema[None],
        allows("must be a whole number of hours from 1 to 2160 (90 days)", nullable=False),
    ] = None

    @model_validator(mode="wrap")
    @classmethod
    def _fields_named(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _refusals(cls, data, handler, "an integrator setting", "they")


_INTEGRATOR = (
    "must be an object with any of enabled, sync_customers, sync_subscriptions (each true or false), "
    "schedule and verify_every_hours"
)


def _date_text(value: Any) -> Any:
    """Only text written YYYY-MM-DD (pydantic would also read a number as a timestamp)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise ValueError("not a YYYY-MM-DD date")
    return value.strip()


IsoDate = Annotated[date, BeforeValidator(_date_text)]
_DATE = "must be a date written YYYY-MM-DD (such as 2027-06-30), or null for none"


class NotificationsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    digest: Annotated[JsonBool | SkipJsonSchema[None], allows(_BOOL, nullable=False)] = None
    webhook_format: Annotated[
        WebhookFormat | SkipJsonSchema[None],
        BeforeValidator(_lower),
        allows('must be "auto", "slack" or "teams"', nullable=False),
    ] = None
    warn_days: Annotated[
        Annotated[int, Field(ge=1, le=365), JSON_INTEGER] | SkipJsonSchema[None],
        allows("must be a whole number of days from 1 to 365", nullable=False),
    ] = None
    dicker_data_token_expires: Annotated[IsoDate | None, allows(_DATE, nullable=True)] = None
    halo_client_secret_expires: Annotated[IsoDate | None, allows(_DATE, nullable=True)] = None

    @model_validator(mode="wrap")
    @classmethod
    def _fields_named(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _refusals(cls, data, handler, "a notifications setting", "they")


_NOTIFICATIONS = (
    "must be an object with any of digest (true or false), webhook_format, warn_days, "
    "dicker_data_token_expires and halo_client_secret_expires"
)


def _nested(model: type[BaseModel], rule: str) -> WrapValidator:
    """A nested update object: not an object, the rule in words; an object, its own fields'
    errors under the field's name (through the union with None they would carry branch names)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None:
            raise _refusal(SETTING_ERROR, f"{rule}, not null (leave it out to keep the current value)")
        if isinstance(value, model):
            return value
        if not isinstance(value, dict):
            raise _refusal(SETTING_ERROR, rule)
        return model.model_validate(value)

    return WrapValidator(check)


class SettingsUpdate(BaseModel):
    """Body of ``PUT /settings`` and the candidate settings of ``POST /config/test``.

    Leaving a field out keeps it. ``null`` clears the settings that may be empty (URL overrides,
    account code, top level, tenant); the others are ``SkipJsonSchema[None]``: out, never null.
    Numbers and booleans are read as JSON Schema reads them (``ddhalo.jsontypes``). Region and
    environment are read in any letter case and kept as "AU"/"NZ" and "production"/"test". A
    refused value is answered with what its field allows, in words.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    region: Annotated[
        Region | SkipJsonSchema[None], BeforeValidator(_upper), allows('must be "AU" or "NZ"', nullable=False)
    ] = None
    environment: Annotated[
        Environment | SkipJsonSchema[None],
        BeforeValidator(_lower),
        allows('must be "production" or "test"', nullable=False),
    ] = None
    dicker_data_base_url: Annotated[
        UpdateUrl | None, allows(_url("https://b2b-api.dickerdata.com.au/api/"), nullable=True)
    ] = None
    dicker_data_account_code: Annotated[Text | None, allows(_TEXT, nullable=True)] = None
    top_level_id: Annotated[
        Annotated[int, Field(ge=1), JSON_INTEGER] | None,
        allows("must be a whole number of at least 1 (a Halo top level id), or null for none", nullable=True),
    ] = None
    update_main_site_address: Annotated[JsonBool | SkipJsonSchema[None], allows(_BOOL, nullable=False)] = None
    create_when_similar: Annotated[JsonBool | SkipJsonSchema[None], allows(_BOOL, nullable=False)] = None
    # Replaces the list of each kind it names (the other kind stays).
    exclusions: Annotated[
        Exclusions | SkipJsonSchema[None],
        allows(
            'must be an object {"customers": [Dicker Data customer ids], "stock_codes": [stock codes]} '
            "of up to 10,000 non-empty strings of at most 100 characters each",
            nullable=False,
        ),
    ] = None
    halo_api_url: Annotated[
        UpdateUrl | None, allows(_url("https://example.halopsa.com/api"), nullable=True)
    ] = None
    halo_auth_url: Annotated[
        UpdateUrl | None, allows(_url("https://example.halopsa.com/auth"), nullable=True)
    ] = None
    halo_tenant: Annotated[Text | None, allows(_TEXT, nullable=True)] = None
    halo_requests_per_minute: Annotated[
        Annotated[int, Field(ge=1, le=6000), JSON_INTEGER] | SkipJsonSchema[None],
        allows("must be a whole number from 1 to 6000", nullable=False),
    ] = None
    halo_rate_window_seconds: Annotated[
        Annotated[int, Field(ge=1, le=3600), JSON_INTEGER] | SkipJsonSchema[None],
        allows("must be a whole number of seconds from 1 to 3600", nullable=False),
    ] = None
    request_timeout_seconds: Annotated[
        Annotated[float, Field(ge=1, le=120), JSON_NUMBER] | SkipJsonSchema[None],
        allows("must be a number of seconds from 1 to 120", nullable=False),
    ] = None
    halo_write_timeout_seconds: Annotated[
        Annotated[float, Field(ge=1, le=600), JSON_NUMBER] | SkipJsonSchema[None],
        allows("must be a number of seconds from 1 to 600", nullable=False),
    ] = None
    halo_write_settle_seconds: Annotated[
        Annotated[float, Field(ge=1, le=900), JSON_NUMBER] | SkipJsonSchema[None],
        allows("must be a number of seconds from 1 to 900", nullable=False),
    ] = None
    integrator: Annotated[IntegratorUpdate | SkipJsonSchema[None], _nested(IntegratorUpdate, _INTEGRATOR)] = (
        None
    )
    notifications: Annotated[
        NotificationsUpdate | SkipJsonSchema[None], _nested(NotificationsUpdate, _NOTIFICATIONS)
    ] = None
    dicker_data_access_token: Annotated[Secret | None, allows(_CREDENTIAL, nullable=True)] = None
    halo_client_id: Annotated[Secret | None, allows(_CREDENTIAL, nullable=True)] = None
    halo_client_secret: Annotated[Secret | None, allows(_CREDENTIAL, nullable=True)] = None
    # Unlike the other credentials, null removes it (no more webhook messages).
    webhook_url: Annotated[
        Annotated[WebhookUrl, AfterValidator(partial(check_url, limit=2000))] | None,
        allows(_WEBHOOK, nullable=True),
    ] = Field(default=None, repr=False)

    @model_validator(mode="wrap")
    @classmethod
    def _fields_named(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _refusals(cls, data, handler, "a setting", "the settings")

    def credentials(self) -> Credentials:
        return Credentials(
            dicker_data_access_token=self.dicker_data_access_token,
            halo_client_id=self.halo_client_id,
            halo_client_secret=self.halo_client_secret,
            webhook_url=SecretStr(self.webhook_url) if self.webhook_url is not None else None,
        )

    def cleared_credentials(self) -> set[str]:
        """The credentials this update removes (sent as null where null removes)."""
        return {
            name
            for name in CLEARABLE_CREDENTIALS
            if name in self.model_fields_set and getattr(self, name) is None
        }

    def apply_to(self, settings: Settings) -> Settings:
        """Partial update: only fields the caller sent change (an explicit null clears)."""
        nested = {"integrator", "exclusions", "notifications"}
        sent = self.model_dump(exclude_unset=True, exclude={*Credentials.model_fields, *nested})
        merged = settings.model_copy(update=sent)
        if self.exclusions is not None:
            merged.exclusions = settings.exclusions.model_copy(
                update=self.exclusions.model_dump(exclude_unset=True)
            )
        if self.notifications is not None:
            merged.notifications = settings.notifications.model_copy(
                update=self.notifications.model_dump(exclude_unset=True)
            )
        if self.integrator is not None:
            merged.integrator = settings.integrator.model_copy(
                update=self.integrator.model_dump(exclude_unset=True)
            )
        return Settings.model_validate(merged.model_dump())


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
