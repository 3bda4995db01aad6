"""Import customers: Dicker Data's CSP customers → Halo clients (read → plan → apply)."""

from __future__ import annotations

from ddhalo.errors import NotFoundError
from ddhalo.halo.client import HaloClient
from ddhalo.models import Run
from ddhalo.pipeline.customers.apply import apply_customers
from ddhalo.pipeline.customers.delta import Settled, remembered, settle
from ddhalo.pipeline.customers.plan import plan_customers
from ddhalo.pipeline.customers.read import DickerDataCustomers, read_halo
from ddhalo.pipeline.options import CustomerOptions
from ddhalo.pipeline.reconcile import Applied
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams


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
    """The customers step of a run: read both sides (a plain sync: Halo only for what changed,
    ``delta``), plan, and apply unless it is a dry run."""
    customers = DickerDataCustomers.read(upstreams.dicker_data)
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    held = store.list_held()
    settled = Settled()
    if options.delta:
        settled = settle(list(customers.by_id.values()), mappings, held, options)
    full = not options.delta or settled.bulk()
    inputs = read_halo(upstreams.halo, customers, mappings, options, None if full else settled.clients)
    actions = plan_customers(inputs, options, {} if full else settled.actions)
    if run.dry_run:
        return Applied([action.item() for action in actions])
    if full and options.customer_ids is None:  # every customer was matched against every client
        still = remembered(actions, customers.by_id, options)
        kept = {h.dicker_customer_id for h in still}
        store.put_held(still, [i for i in held if i not in kept])
    return apply_customers(actions, upstreams.halo, store, created_by=f"run:{run.run_id}")
