"""The product's own records: mappings, runs and run items (the shapes the API answers)."""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

MappingSource = Literal["generated", "manual", "import"]
RunKind = Literal["customers", "subscriptions", "sync", "billing"]
RunTrigger = Literal["api", "schedule"]
# "skipped": a sync that met a running one (the next tick syncs); it did nothing.
RunStatus = Literal["queued", "running", "succeeded", "partial", "failed", "skipped"]
ItemType = Literal["customer", "subscription"]
ItemResult = Literal["created", "updated", "unchanged", "skipped", "failed"]
# A planned action's item result, for every entity's plan.
RESULT_OF: dict[str, ItemResult] = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "skip": "skipped",
    "fail": "failed",
}
FINISHED: frozenset[str] = frozenset({"succeeded", "partial", "failed", "skipped"})


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Mapping(BaseModel):
    dicker_customer_id: str
    dicker_customer_name: str = ""
    halo_client_id: int
    halo_client_name: str = ""
    source: MappingSource
    created_at: str = Field(default_factory=now_iso)
    created_by: str = "api"
    # Hash of what we last wrote per field group, for Halo views that do not show those fields.
    written: dict[str, str] = Field(default_factory=dict)
    # Added knowing the Halo client is (or may be) another customer's too: several Dicker Data
    # customers billed on one Halo client. GET /mappings marks every mapping of such a client.
    shared: bool = False


class Counts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, result: str, n: int = 1) -> None:
        setattr(self, result, getattr(self, result) + n)

    @classmethod
    def of(cls, items: Sequence[RunItem | PackedItems]) -> Counts:
        counts = cls()
        for item in items:
            if isinstance(item, PackedItems):
                for result, n in item.tally.items():
                    counts.add(result, n)
            else:
                counts.add(item.result)
        return counts


class Suggestion(BaseModel):
    """A Halo client that may be this customer's (a near-miss or shared name); for a billing fix
    held, a recurring invoice of the client to choose (``recurring_invoice_id``, its words in
    ``halo_client_name``), absent from every other suggestion."""

    halo_client_id: int
    halo_client_name: str
    recurring_invoice_id: int | None = Field(default=None, exclude_if=lambda value: value is None)


class HeldCustomer(BaseModel):
    """An unmapped customer the last full read left uncreated (held as similar to a Halo client,
    or refused): a plain sync says it again from here instead of reading every Halo client, for
    as long as Dicker Data's customer and the options that decided it are the same."""

    dicker_customer_id: str
    name: str
    azure_tenant_id: str
    create_when_similar: bool
    action: Literal["skip", "fail"]
    reason: str | None = None
    reason_code: str | None = None
    suggestions: list[Suggestion] = Field(default_factory=list)
    create_when_similar_creates: bool = False
    shares_name_with: list[str] = Field(default_factory=list)
    halo_client_id: int | None = None
    at: str = Field(default_factory=now_iso)


# Why an item was skipped or failed, as a stable word beside the sentence (``reason``): the held
# creates, exclusions, unreadable records, Halo's refusals (the error's own code) ...
UNSPECIFIED = "unspecified"
BILLING_FIELDS = (
    "stock_code",
    "dicker_quantity",
    "halo_count",
    "billed_quantity",
    "line_ids",
    "unit_price",
    "value_difference",
    "findings",
)


class RunItem(BaseModel):
    type: ItemType
    dicker_id: str
    halo_id: int | None = None
    result: ItemResult
    reason: str | None = None
    reason_code: str | None = None
    suggestions: list[Suggestion] = Field(default_factory=list)
    # A held customer: whether an import with create_when_similar creates it, and the other
    # Dicker Data customers of its name (then it does not: one name, one Halo client).
    create_when_similar_creates: bool = False
    shares_name_with: list[str] = Field(default_factory=list)
    name: str | None = None
    customer_id: str | None = None
    changes: list[str] = Field(default_factory=list)
    hint: str | None = None
    occurrence: int = 0  # >0 for another row of the same id (a duplicate), kept as its own item
    # ``duplicate_in_halo``: every Halo record carrying this one's marker or tenant link, oldest first.
    duplicate_ids: list[int] = Field(default_factory=list)
    # A billing item (``ddhalo.pipeline.billing``): the three numbers, the lines that bill it, the
    # money at stake a month and every reason code that applies. ``findings`` None: not a billing item.
    stock_code: str | None = None
    dicker_quantity: int | None = None
    halo_count: int | None = None
    billed_quantity: int | float | None = None
    line_ids: list[int] = Field(default_factory=list)
    unit_price: float | None = None
    value_difference: float | None = None
    findings: list[str] | None = None

    # No return annotation on purpose: pydantic would take it for the answer's schema (then {}).
    @model_serializer(mode="wrap")
    def _billing_only(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """An item that is not a billing item answers without the billing fields, as before they
        were added; a billing item answers them all (null when unknown)."""
        values = handler(self)
        if self.findings is None and isinstance(values, dict):
            for name in BILLING_FIELDS:
                values.pop(name, None)
        return values

    @model_validator(mode="after")
    def _coded(self) -> RunItem:
        """Every skipped or failed item says why as a word too (one a caller can switch on)."""
        if self.result in ("skipped", "failed") and not self.reason_code:
            self.reason_code = UNSPECIFIED
        return self


# Items to a pack, and the most a pack's compressed JSON may hold (a DynamoDB item may hold 400 KB).
ITEMS_PER_PACK = 1000
PACK_MAX_BYTES = 300 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class PackedItems:
    """Run items, compressed: a sync's tens of thousands are packed as they are made, a thousand
    at a time, and never all held as models (50,000 ``RunItem``s are about 70 MB); each pack is
    then one DynamoDB item instead of a thousand. ``tally``: how many of each result it holds."""

    data: bytes
    tally: dict[str, int]

    @property
    def count(self) -> int:
        return sum(self.tally.values())

    @classmethod
    def pack(cls, items: Sequence[RunItem]) -> list[PackedItems]:
        """``items`` in packs of at most ``ITEMS_PER_PACK`` and ``PACK_MAX_BYTES`` (a pack of
        long reasons is halved until it fits)."""
        out: list[PackedItems] = []
        for start in range(0, len(items), ITEMS_PER_PACK):
            out += cls._fit(items[start : start + ITEMS_PER_PACK])
        return out

    @classmethod
    def _fit(cls, items: Sequence[RunItem]) -> list[PackedItems]:
        rows = [i.model_dump(mode="json", exclude_defaults=True) for i in items]
        data = zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)
        if len(data) > PACK_MAX_BYTES and len(items) > 1:
            half = len(items) // 2
            return cls._fit(items[:half]) + cls._fit(items[half:])
        return [cls(data, dict(Counter(i.result for i in items)))]

    @staticmethod
    def unpack(data: bytes, results: Collection[str] | None = None) -> list[RunItem]:
        """The items of a pack's ``data``; with ``results``, only those (the rest never become models)."""
        rows = json.loads(zlib.decompress(data))
        if results is not None:
            rows = [r for r in rows if r.get("result") in results]
        return [RunItem.model_validate(r) for r in rows]


class Progress(BaseModel):
    """Where a run stands (stored as it moves: per written batch, per step)."""

    phase: str = "queued"  # customers, reading subscriptions, writing subscriptions, done
    done: int = 0  # records decided so far in this phase (unchanged ones at once, writes per batch)
    total: int | None = None  # records in this phase, once planned
    phase_started: float | None = None  # epoch seconds
    done_at_start: int = 0  # ``done`` when the phase began (decided without a write)
    throttled_until: float | None = None  # epoch seconds: Halo's rate window is full until about then


class DigestRecord(BaseModel):
    """What became of a finished run's digest (``ddhalo.digest``): where it went, or why not."""

    sent: bool = False
    issues: int = 0  # things it named for a person
    channels: list[str] = Field(default_factory=list)  # "email" (the alarm topic), "webhook"
    errors: list[str] = Field(default_factory=list)  # a channel that could not be reached
    note: str | None = None  # why nothing was sent
    at: str = Field(default_factory=now_iso)


class BillingSummary(BaseModel):
    """A billing check's totals (``ddhalo.pipeline.billing.totals``): the money billed too little
    and too much a month, both positive, and how many items each reason code applies to."""

    under_billed_value: float = 0.0
    over_billed_value: float = 0.0
    findings: dict[str, int] = Field(default_factory=dict)


class Run(BaseModel):
    run_id: str
    kind: RunKind
    trigger: RunTrigger = "api"
    status: RunStatus = "queued"
    dry_run: bool = False
    verify: bool = False  # a sync that read both sides whole (``ddhalo.sync``)
    started_at: str = Field(default_factory=now_iso)
    finished_at: str | None = None
    counts: Counts = Field(default_factory=Counts)
    options: dict[str, object] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None  # the error's stable word (``auth_failed``, ``throttled`` ...)
    hint: str | None = None
    skipped_reason: str | None = None
    running_run_id: str | None = None  # a skipped sync: the run that was writing to Halo
    # Why a run did nothing (no mapped customers, every one excluded, no subscriptions answered),
    # by a stable word: never a silent all-zero "succeeded".
    notices: dict[str, str] = Field(default_factory=dict)
    progress: Progress = Field(default_factory=Progress)
    waiting_for: str | None = None  # why a queued run has not started yet
    chunks_total: int = 1
    chunks_done: int = 0
    halo_calls: int = 0
    dicker_data_calls: int = 0
    throttled: int = 0
    digest: DigestRecord | None = None
    billing: BillingSummary | None = None  # a billing check's totals
    # Per chunk being written: what its batches saved so far, until the chunk records its items
    # (``counts`` answers them too, so a run's counts move per written batch, not per chunk).
    live: dict[str, Counts] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="after")
    def _live_counted(self) -> Run:
        for counts in self.live.values():
            for name, value in counts:
                self.counts.add(name, value)
        self.live = {}
        return self


@pydantic_dataclass(frozen=True, slots=True, config=ConfigDict(extra="ignore"))
class SubscriptionLink:
    """Dicker Data subscription ↔ Halo licence, with what we last wrote (DynamoDB is the authority).
    A slotted dataclass, not a model: a sync reads every link at once."""

    dicker_customer_id: str
    subscription_id: str
    halo_licence_id: int
    content_hash: str
    # What we last wrote, as compact JSON: the dict is only needed where content_hash says
    # something changed (a dict per link was ~1.6 KB of the plan's memory). None: not read.
    fields_json: str | None = "{}"
    updated_at: str = Field(default_factory=now_iso)

    @property
    def fields(self) -> dict[str, Any] | None:
        """What we last wrote; None when the link was read without it."""
        if self.fields_json is None:
            return None
        value = json.loads(self.fields_json)
        return value if isinstance(value, dict) else {}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SubscriptionLink:
        return _LINK.validate_python(item)

    def to_item(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


_LINK = TypeAdapter(SubscriptionLink)
