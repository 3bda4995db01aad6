"""Tolerant models of Dicker Data answers: unknown fields are ignored, optional ones may be missing.

Field names follow what public clients show; ``validation_alias`` lists the spellings we accept
where public material disagrees or is silent.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

MAX_TEXT = 500
_SPACES = re.compile(r"\s+")


def clean_text(value: Any) -> str:
    """Single-line text from upstream: control and format characters (NUL, ESC, bidi overrides)
    removed, line breaks and tabs made spaces, absurd lengths cut. Objects and lists are refused
    rather than turned into their Python repr."""
    if value is None:
        return ""
    if not isinstance(value, str | int | float):  # an object, an array, or a record made of one
        raise ValueError(f"expected text, got a JSON {'array' if isinstance(value, list) else 'object'}")
    text = value if isinstance(value, str) else str(value)
    # Nearly every value is already clean. isprintable() is False for every Cc and Cf character
    # and for all whitespace but the plain space, so for these _scrub would answer the text
    # itself; it costs ~15x more (50,000 subscriptions x 10 fields in every sync).
    if len(text) <= MAX_TEXT and text.isprintable() and "  " not in text and text == text.strip():
        return text
    return _scrub(text)


def _scrub(text: str) -> str:
    kept = "".join(
        " " if ch in "\t\n\r\v\f" else ch
        for ch in text[: MAX_TEXT * 4]
        if ch in "\t\n\r\v\f" or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return _SPACES.sub(" ", kept).strip()[:MAX_TEXT]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Address(_Record):
    line1: str = Field("", validation_alias="Address01")
    line2: str = Field("", validation_alias="Address02")
    line3: str = Field("", validation_alias="Address03")
    suburb: str = Field("", validation_alias="Suburb")
    state: str = Field("", validation_alias="State")
    postcode: str = Field("", validation_alias="Postcode")
    country: str = Field("", validation_alias="Country")

    _clean = field_validator("*", mode="before")(clean_text)

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class Tenant(_Record):
    """One row of ``Subscriptions/GetTenant``: a Dicker Data customer and its CSP tenant."""

    tenant_id: str = Field("", validation_alias=AliasChoices("TenantId", "TenantID"))
    tenant_description: str = Field("", validation_alias="TenantDescription")
    company_name: str = Field("", validation_alias="CompanyName")
    account_code: str = Field("", validation_alias="AccountCode")
    domain: str = Field(
        "",
        validation_alias=AliasChoices(
            "TenantDomain", "Domain", "PrimaryDomain", "DefaultDomain", "MicrosoftDomain"
        ),
    )
    microsoft_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftTenantId", "MSTenantId", "CustomerTenantId")
    )
    address: Address = Field(default_factory=Address)

    _clean = field_validator(
        "tenant_id",
        "tenant_description",
        "company_name",
        "account_code",
        "domain",
        "microsoft_tenant_id",
        mode="before",
    )(clean_text)

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Tenant:
        return cls.model_validate({**raw, "address": raw})

    @property
    def name(self) -> str:
        return self.company_name or self.tenant_description

    @property
    def has_csp_tenant(self) -> bool:
        return bool(self.tenant_id)

    @property
    def azure_tenant_id(self) -> str:
        """The Microsoft tenant id: a separate field where answered, else the TenantId itself."""
        return self.microsoft_tenant_id or self.tenant_id


class ManufacturerStockCode(_Record):
    """``P1Y:CFQ7TTC0LH18:0001:Y:`` = term : Microsoft product id : SKU id : billing."""

    raw: str = ""
    term: str = ""
    product_id: str = ""
    sku_id: str = ""
    billing: str = ""

    @classmethod
    def parse(cls, value: str) -> ManufacturerStockCode:
        parts = [p.strip() for p in (value or "").split(":")] + ["", "", "", ""]
        return cls(raw=value or "", term=parts[0], product_id=parts[1], sku_id=parts[2], billing=parts[3])


@pydantic_dataclass(frozen=True, slots=True, config=ConfigDict(extra="ignore", populate_by_name=True))
class Subscription:
    """One row of ``Subscriptions/GetSubscriptionDetails``. A slotted dataclass rather than a
    model: a sync holds every subscription at once, and a model instance costs ~1 KB more each."""

    subscription_id: str = Field(validation_alias=AliasChoices("SubscriptionId", "SubscriptionID"))
    tenant_id: str = Field("", validation_alias=AliasChoices("TenantId", "TenantID"))
    parent_subscription_id: str = Field(
        "", validation_alias=AliasChoices("ParentSubscriptionId", "ParentSubscriptionID")
    )
    reference: str = Field("", validation_alias="SubscriptionReference")
    status: str = Field("", validation_alias="Status")
    stock_code: str = Field("", validation_alias="StockCode")
    stock_description: str = Field("", validation_alias="StockDescription")
    manufacturer_stock_code: str = Field("", validation_alias="ManufacturerStockCode")
    billing_frequency: str = Field("", validation_alias="BillingFrequency")
    last_billing_date: date | None = Field(None, validation_alias="LastBillingDate")
    next_billing_date: date | None = Field(None, validation_alias="NextBillingDate")
    expiry_date: date | None = Field(None, validation_alias="ExpiryDate")
    quantity: int = Field(0, validation_alias=AliasChoices("ConfirmedQuantity", "Quantity"))
    serials: str = Field("", validation_alias="Serials")

    _clean = field_validator(
        "subscription_id",
        "tenant_id",
        "parent_subscription_id",
        "reference",
        "status",
        "stock_code",
        "stock_description",
        "manufacturer_stock_code",
        "billing_frequency",
        "serials",
        mode="before",
    )(clean_text)

    @field_validator("last_billing_date", "next_billing_date", "expiry_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> date | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        for candidate in (text[:10], text):
            try:
                return date.fromisoformat(candidate)
            except ValueError:
                continue
        for fmt in ("%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        return None

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        if value in (None, ""):
            return 0
        if isinstance(value, bool | dict | list):
            raise ValueError("ConfirmedQuantity is not a number")
        number = float(value)
        if not math.isfinite(number) or number < 0 or number > 10_000_000:
            raise ValueError(f"ConfirmedQuantity {str(value)[:20]!r} is out of range")
        return int(number)

    @field_validator("subscription_id")
    @classmethod
    def _required(cls, value: str) -> str:
        if not value:
            raise ValueError("SubscriptionId is empty")
        return value

    @property
    def is_active(self) -> bool:
        return self.status.upper() == "ACTIVE"

    @property
    def msc(self) -> ManufacturerStockCode:
        return ManufacturerStockCode.parse(self.manufacturer_stock_code)

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> Subscription:
        return _SUBSCRIPTION.validate_python(row)


_SUBSCRIPTION = TypeAdapter(Subscription)
