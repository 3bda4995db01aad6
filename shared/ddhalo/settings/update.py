"""What ``PUT /settings`` accepts (and ``POST /config/test`` tries): a partial update, each field
with its rule in words, and how it is applied to the stored settings.

Leaving a field out keeps it. Every field carries what it allows (``ddhalo.validation.allows``),
so any failure inside it reads as that rule, never as pydantic's internals or the value sent.
"""

from __future__ import annotations

import re
from datetime import date
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ddhalo.jsontypes import JSON_INTEGER, JSON_NUMBER, JsonBool
from ddhalo.settings.model import (
    Credentials,
    Environment,
    Exclusions,
    Region,
    Schedule,
    Settings,
    WebhookFormat,
)
from ddhalo.urls import check_url, upstream_url_refusal
from ddhalo.validation import RULE_ERROR, allows, fields_named, refusal

# Patterns make the OpenAPI document as strict as the validation (schemathesis holds us to it).
# Explicit character classes: JSON Schema (ECMA), Python and pydantic's Rust regex disagree on \s.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"[!-~]")
]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=4096)]


def _public_host(*, secret: bool) -> BeforeValidator:
    """The part of ``upstream_url_refusal`` that holds wherever the code runs (everything but a
    loopback host), said precisely before the pattern would refuse an address in general words.
    The rest needs the environment's switch: ``service.check_upstream_urls``."""

    def check(value: Any) -> Any:
        url = value.strip() if isinstance(value, str) else ""
        if urlsplit(url).scheme in ("http", "https") and (
            said := upstream_url_refusal(url, allow_loopback=True, secret=secret)
        ):
            raise refusal(RULE_ERROR, said)
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


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


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
        return fields_named(cls, data, handler, "an integrator setting", "they")


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
        return fields_named(cls, data, handler, "a notifications setting", "they")


_NOTIFICATIONS = (
    "must be an object with any of digest (true or false), webhook_format, warn_days, "
    "dicker_data_token_expires and halo_client_secret_expires"
)


def _nested(model: type[BaseModel], rule: str) -> WrapValidator:
    """A nested update object: not an object, the rule in words; an object, its own fields'
    errors under the field's name (through the union with None they would carry branch names)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None:
            raise refusal(RULE_ERROR, f"{rule}, not null (leave it out to keep the current value)")
        if isinstance(value, model):
            return value
        if not isinstance(value, dict):
            raise refusal(RULE_ERROR, rule)
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
        return fields_named(cls, data, handler, "a setting", "the settings")

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
