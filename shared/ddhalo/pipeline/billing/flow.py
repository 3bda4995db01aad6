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


def chosen_mappings(store: Store, options: BillingOptions) -> list[Mapping]:
    """The mapped customers to check (all when ``customer_ids`` is None); an unmapped one named
    is refused, as an import refuses it."""
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    validate_request(SubscriptionOptions(customer_ids=options.customer_ids), mappings)
    chosen = options.customer_ids if options.customer_ids is not None else sorted(mappings)
    return [mappings[i] for i in dict.fromkeys(chosen)]


def check_billing(
    store: Store, upstreams: Upstreams, options: BillingOptions, today: date | None = None
) -> Checked:
    """Check every linked subscription of the chosen customers."""
    mappings = chosen_mappings(store, options)
    clients = read_billing(mappings, upstreams, store)
    day = today or datetime.now(UTC).date()
    findings = plan_billing(clients, today=day, renewal_warning_days=options.renewal_warning_days)
    job_log.step("planned")
    items = [finding.item() for finding in findings]
    return Checked(items, billing_totals(items), len(mappings))
