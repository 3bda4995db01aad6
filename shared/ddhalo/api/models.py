"""Request bodies of the HTTP API (validated by the event handler; unknown fields are refused)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CustomerId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
CustomerIds = Annotated[list[CustomerId], Field(min_length=1, max_length=10_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerImportRequest(_Body):
    customer_ids: CustomerIds | None = None
    top_level_id: int | None = Field(default=None, ge=1)
    update_main_site_address: bool | None = None
    dry_run: bool = False


class SubscriptionImportRequest(_Body):
    customer_ids: CustomerIds | None = None
    dry_run: bool = False


class MappingRequest(_Body):
    dicker_customer_id: CustomerId
    halo_client_id: int = Field(ge=1, le=2**31 - 1)


class SyncRequest(_Body):
    customers: bool | None = None
    subscriptions: bool | None = None
