"""Request bodies of the HTTP API (validated by the event handler; unknown fields are refused)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from ddhalo.jsontypes import JSON_INTEGER, JsonBool
from ddhalo.models import Mapping, Run, RunItem
from ddhalo.schedule import ScheduleState
from ddhalo.settings.model import Settings
from ddhalo.store.products import ProductMapping
from ddhalo.validation import allows

CustomerId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[!-~]+$")
]
CustomerIds = Annotated[list[CustomerId], Field(min_length=1, max_length=10_000)]
# A boolean of a request is true, false or left out, never null: null would read as "left out"
# (the setting or the default decides), which is not what a caller who sends it means.
_BOOL = allows("must be true or false", nullable=False, left_out="for its default")
Flag = Annotated[JsonBool, _BOOL]
OptionalFlag = Annotated[JsonBool | SkipJsonSchema[None], _BOOL]


class _Body(BaseModel):
    """Request bodies: unknown fields refused, JSON types read as the schema says (ddhalo.jsontypes)."""

    model_config = ConfigDict(extra="forbid")


class CustomerImportRequest(_Body):
    customer_ids: CustomerIds | None = None
    top_level_id: Annotated[int, Field(ge=1), JSON_INTEGER] | None = None
    update_main_site_address: OptionalFlag = None
    # Create customers whose name Halo already holds (default: the setting, false).
    create_when_similar: OptionalFlag = None
    dry_run: Flag = False


class SubscriptionImportRequest(_Body):
    customer_ids: CustomerIds | None = None
    dry_run: Flag = False


class MappingRequest(_Body):
    dicker_customer_id: CustomerId
    halo_client_id: Annotated[int, Field(ge=1, le=2**31 - 1), JSON_INTEGER]
    # Map to a Halo client another customer is mapped to already (one client, several customers).
    shared: Flag = False


# A Dicker Data ManufacturerStockCode (e.g. "P1Y:CFQ7TTC0LH18:0001:Y:"): printable, no spaces.
StockCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[!-~]+$")
]


class ProductRequest(_Body):
    stock_code: StockCode
    halo_item_id: Annotated[int, Field(ge=1, le=2**31 - 1), JSON_INTEGER]


class BillingCheckRequest(_Body):
    customer_ids: CustomerIds | None = None  # None: every mapped customer
    # A check writes nothing to Halo: it is always a dry run, whatever is sent here (accepted so a
    # caller may say so, as to the imports).
    dry_run: OptionalFlag = None


class SyncRequest(_Body):
    # Both switched off is nothing to sync: refused, and said so in the schema (not both false).
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["customers", "subscriptions"],
                "properties": {"customers": {"const": False}, "subscriptions": {"const": False}},
            }
        }
    )

    customers: OptionalFlag = None
    subscriptions: OptionalFlag = None
    # A full read of both sides that corrects drift made in Halo by hand; left out, the sync
    # verifies when the last verify is integrator.verify_every_hours old (as the schedule does).
    verify: OptionalFlag = None


# ---------------------------------------------------------------------------------- answers
# Declared on each route (``responses=``) so the OpenAPI document, generated from this code,
# says what every status carries; schemathesis checks answers against it.
class ErrorDetail(BaseModel):
    code: str
    message: str
    hint: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class SyncRefused(ErrorBody):
    run_id: str
    running_run_id: str | None = None


class RunAccepted(BaseModel):
    run_id: str
    kind: str
    status: str
    dry_run: bool


class ProgressView(BaseModel):
    phase: str
    done: int
    total: int | None = None
    waiting_for: Literal["halo_rate_limit", "another_run"] | None = None
    eta_s: float | None = None


class RunView(Run):
    progress: ProgressView  # type: ignore[assignment]  # the stored Progress, as answered
    items: list[RunItem]
    next_token: str | None = None


class RunList(BaseModel):
    runs: list[Run]
    next_token: str | None = None


class SettingsView(Settings):
    dicker_data_access_token_set: bool
    halo_client_id_set: bool
    halo_client_secret_set: bool
    webhook_url_set: bool
    dicker_data_effective_base_url: str
    halo_effective_auth_url: str | None = None
    # The EventBridge rule of the recurring sync as it is now (ddhalo.schedule.schedule_view).
    schedule_state: ScheduleState = Field(
        description='The rule\'s state: "ENABLED", "DISABLED", or "unknown" when it cannot be read '
        "(or there is none: the local runner without SYNC_RULE_NAME); schedule_note says why."
    )
    schedule_rule: str | None = Field(default=None, description="The EventBridge rule's name")
    schedule_expression: str | None = Field(
        default=None, description="The rule's expression as EventBridge has it (null when unknown)"
    )
    schedule_note: str | None = Field(
        default=None,
        description="Why the state is unknown, or how the rule differs from the settings; null when in step",
    )


class Deleted(BaseModel):
    deleted: Mapping


class DeletedProduct(BaseModel):
    deleted: ProductMapping


def _content(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


ERRORS: dict[int, dict[str, Any]] = {
    400: _content(ErrorBody, "Bad input: what is wrong, nothing was written"),
    404: _content(ErrorBody, "Not found"),
    409: _content(ErrorBody, "Conflict with the current state (already mapped, not configured...)"),
    415: _content(ErrorBody, "The body is not JSON"),
    500: _content(ErrorBody, "Unexpected error (see the logs)"),
    502: _content(ErrorBody, "Dicker Data or Halo failed; the message says which and what to try"),
}


class HaloClientOption(BaseModel):
    halo_client_id: int
    halo_client_name: str


class HaloClientList(BaseModel):
    """Every Halo client, for choosing one by hand (the console's Add popup)."""

    clients: list[HaloClientOption]


class TopLevelOption(BaseModel):
    top_level_id: int
    top_level_name: str


class TopLevelList(BaseModel):
    """Halo's top levels, for choosing where import creates clients."""

    top_levels: list[TopLevelOption]


def responses(success: dict[int, tuple[type[BaseModel], str]]) -> dict[int, Any]:
    """A route's success answers plus the error answers every route may give."""
    return {**ERRORS, **{code: _content(model, text) for code, (model, text) in success.items()}}


RUN_ANSWERS = responses(
    {202: (RunAccepted, "Queued: follow GET /runs/{run_id}"), 200: (RunView, "A dry run: the whole plan")}
)
BILLING_ANSWERS = responses(
    {200: (RunView, "The check, executed at once: one item per linked subscription, and its totals")}
)
SYNC_ANSWERS = {
    **RUN_ANSWERS,
    409: _content(SyncRefused, "Another sync is running: this trigger was recorded as skipped"),
}
