"""Starting an import from the API: the caller's choices over the settings, checked before
anything is queued (a sync starts the same way in ``ddhalo.sync``).

A choice left out (None) is the settings'; bad input (an unknown customer, an unknown top level,
an unmapped customer) is a 4xx before a run exists. A dry run executes at once and answers its
plan; a real one is queued for the worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ddhalo.deadline import Deadline
from ddhalo.jobs.start import start_run
from ddhalo.models import Run
from ddhalo.pipeline.customers import flow as customers_flow
from ddhalo.pipeline.customers.read import DickerDataCustomers
from ddhalo.pipeline.options import CustomerOptions, SubscriptionOptions
from ddhalo.pipeline.subscriptions import flow as subscriptions_flow
from ddhalo.queue import Dispatcher
from ddhalo.runs.runner import Runner
from ddhalo.settings.model import Settings
from ddhalo.settings.service import load_connection


def subscription_options(
    settings: Settings, customer_ids: list[str] | None = None, *, delta: bool = False
) -> SubscriptionOptions:
    """The subscriptions step's options: ``customer_ids`` (None: every mapped customer) with the
    settings' exclusions. An import and a sync take them from here, so they plan alike."""
    return SubscriptionOptions(
        delta=delta,
        customer_ids=customer_ids,
        excluded_customers=settings.exclusions.customers,
        excluded_stock_codes=settings.exclusions.stock_codes,
    )


def start_customer_import(
    runner: Runner,
    dispatcher: Dispatcher,
    chosen: Mapping[str, Any],
    *,
    dry_run: bool,
    deadline: Deadline | None = None,
) -> Run:
    """``chosen``: the request's ``CustomerOptions`` fields (customer_ids, top_level_id, ...)."""
    conn = load_connection(runner.store, runner.secrets)
    upstreams = runner.upstreams(deadline, connection=conn)
    options = CustomerOptions.from_settings(conn.settings, **chosen)
    # Only named customers need checking against Dicker Data's list before the run reads it.
    customers = (
        DickerDataCustomers.read(upstreams.dicker_data) if options.customer_ids else DickerDataCustomers()
    )
    customers_flow.validate_request(options, customers, upstreams.halo)
    return start_run(
        runner, dispatcher, "customers", options, dry_run=dry_run, trigger="api", upstreams=upstreams
    )


def start_subscription_import(
    runner: Runner, dispatcher: Dispatcher, customer_ids: list[str] | None, *, dry_run: bool
) -> Run:
    options = subscription_options(runner.store.get_settings(), customer_ids)
    subscriptions_flow.validate_request(
        options, {m.dicker_customer_id: m for m in runner.store.list_mappings()}
    )
    return start_run(runner, dispatcher, "subscriptions", options, dry_run=dry_run, trigger="api")
