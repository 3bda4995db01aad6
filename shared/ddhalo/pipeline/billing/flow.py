"""The billing check: read → :func:`~ddhalo.pipeline.billing.plan.plan_billing` → one item per
linked subscription, and the run's ``billing`` totals. It writes nothing to Halo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ddhalo import job_log
from ddhalo.models import Mapping, RunItem
from ddhalo.pipeline.billing.plan import plan_billing
from ddhalo.pipeline.billing.read import read_billing
from ddhalo.pipeline.billing.totals import billing_totals
from ddhalo.pipeline.options import BillingOptions, SubscriptionOptions
from ddhalo.pipeline.subscriptions.flow import validate_request
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams


@dataclass(frozen=True)
class Checked:
    """A check's answer: its items and the run's ``billing`` totals."""

    items: list[RunItem]
    totals: dict[str, Any]
    customers: int  # how many mapped customers were checked (0: say why nothing was)


def chosen_mappings(listed: list[Mapping], options: BillingOptions) -> list[Mapping]:
    """Of every mapping (``listed``), the customers to check (all when ``customer_ids`` is None);
    an unmapped one named is refused, as an import refuses it."""
    mappings = {m.dicker_customer_id: m for m in listed}
    validate_request(SubscriptionOptions(customer_ids=options.customer_ids), mappings)
    chosen = options.customer_ids if options.customer_ids is not None else sorted(mappings)
    return [mappings[i] for i in dict.fromkeys(chosen)]


def check_billing(
    store: Store, upstreams: Upstreams, options: BillingOptions, today: date | None = None
) -> Checked:
    """Check every linked subscription of the chosen customers. Their clients are read whole:
    a customer sharing a chosen one's Halo client shares its lines too (which subscriptions an
    unlinked line bills), so it is compared alongside, though only the chosen are answered."""
    listed = store.list_mappings()
    chosen = chosen_mappings(listed, options)
    clients = {m.halo_client_id for m in chosen}
    sharing = [m for m in listed if m.halo_client_id in clients]
    day = today or datetime.now(UTC).date()
    findings = plan_billing(
        read_billing(sharing, upstreams, store), today=day, renewal_warning_days=options.renewal_warning_days
    )
    job_log.step("planned")
    customers = {m.dicker_customer_id for m in chosen}
    items = [finding.item() for finding in findings if finding.facts.customer_id in customers]
    return Checked(items, billing_totals(items), len(chosen))
