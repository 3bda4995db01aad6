"""Import customers: Dicker Data's CSP customers → Halo clients (read → plan → apply)."""

from __future__ import annotations

from ddhalo.errors import NotFoundError
from ddhalo.halo.client import HaloClient
from ddhalo.models import Run
from ddhalo.pipeline.customers.apply import apply_customers
from ddhalo.pipeline.customers.plan import plan_customers
from ddhalo.pipeline.customers.read import DickerDataCustomers, read_customers
from ddhalo.pipeline.options import CustomerOptions
from ddhalo.pipeline.reconcile import Applied
from ddhalo.runs import Upstreams
from ddhalo.store import Store


def validate_request(options: CustomerOptions, customers: DickerDataCustomers, halo: HaloClient) -> None:
    """Bad input is a 4xx before anything is queued: unknown customers, an unknown top level."""
    if options.customer_ids is not None:
        unknown = customers.unknown(options.customer_ids)
        if unknown:
            shown = ", ".join(unknown[:20]) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
            raise NotFoundError(
                f"Unknown Dicker Data customer ids (no CSP tenant with that TenantId): {shown}.",
                "Use dicker_customer_id values from GET /mappings.",
            )
    if options.top_level_id is not None and options.top_level_id not in halo.top_level_ids():
        raise NotFoundError(
            f"Halo has no top level with id {options.top_level_id}.",
            "Use an id from Halo's top levels (Configuration > Customers), or leave top_level_id out.",
        )


def import_customers(run: Run, store: Store, upstreams: Upstreams, options: CustomerOptions) -> Applied[str]:
    """The customers step of a run: read both sides, plan, and apply unless it is a dry run."""
    inputs = read_customers(upstreams.dicker_data, upstreams.halo, store, options)
    actions = plan_customers(inputs, options)
    if run.dry_run:
        return Applied([action.item() for action in actions])
    return apply_customers(actions, upstreams.halo, store, created_by=f"run:{run.run_id}")
