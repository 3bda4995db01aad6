"""What each kind of run is asked to do, typed (a run stores them as JSON in ``Run.options``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from ddhalo.models import Run
from ddhalo.pipeline.billing.plan import DEFAULT_RENEWAL_WARNING_DAYS
from ddhalo.settings.model import Settings


class CustomerOptions(BaseModel):
    # A plain sync trusts what we wrote (mappings, links) and reads Halo only for what changed;
    # an import or a verify reads every record of both sides.
    delta: bool = False
    customer_ids: list[str] | None = None  # None: every Dicker Data customer
    top_level_id: int | None = None
    update_main_site_address: bool = False
    # Create a customer whose name Halo already holds (exactly or nearly), instead of holding it.
    create_when_similar: bool = False
    excluded: list[str] = []  # Dicker Data customer ids left alone (the settings' exclusions)

    @classmethod
    def from_settings(cls, settings: Settings, **chosen: Any) -> CustomerOptions:
        """An import's options: the settings', but for what the caller chose (None: not chosen).
        The listing, the import and the schedule take them from here, so they plan alike."""
        defaults = {
            "top_level_id": settings.top_level_id,
            "update_main_site_address": settings.update_main_site_address,
            "create_when_similar": settings.create_when_similar,
            "excluded": settings.exclusions.customers,
        }
        return cls.model_validate(defaults | {k: v for k, v in chosen.items() if v is not None})


class SubscriptionOptions(BaseModel):
    delta: bool = False  # as CustomerOptions.delta
    customer_ids: list[str] | None = None  # None: every mapped customer
    excluded_customers: list[str] = []  # left alone, as the settings' exclusions say
    excluded_stock_codes: list[str] = []


class SyncOptions(BaseModel):
    """A sync: customers (all of them, with the settings' rules) then every mapped customer's
    subscriptions, each switchable."""

    customers: bool = True
    subscriptions: bool = True
    # A full read of both sides that corrects drift made in Halo by hand (else: a delta sync).
    verify: bool = False
    customer_options: CustomerOptions = CustomerOptions()
    subscription_options: SubscriptionOptions = SubscriptionOptions()


class BillingOptions(BaseModel):
    """A billing check: every linked subscription of the chosen mapped customers (None: all).
    It writes nothing to Halo, so it is always a dry run."""

    customer_ids: list[str] | None = None
    # An annual term ending within this many days is reported as ``renewal_due``.
    renewal_warning_days: int = DEFAULT_RENEWAL_WARNING_DAYS


RunOptions = CustomerOptions | SubscriptionOptions | SyncOptions | BillingOptions


def options_of(run: Run) -> RunOptions:
    if run.kind == "customers":
        return CustomerOptions.model_validate(run.options)
    if run.kind == "subscriptions":
        return SubscriptionOptions.model_validate(run.options)
    if run.kind == "billing":
        return BillingOptions.model_validate(run.options)
    return SyncOptions.model_validate(run.options)


def billing_options(run: Run) -> BillingOptions:
    options = options_of(run)
    if isinstance(options, BillingOptions):
        return options
    raise ValueError(f"A {run.kind} run has no billing check.")


def customer_options(run: Run) -> CustomerOptions:
    """The customers step's options, whichever kind of run takes it."""
    return _step(run, CustomerOptions, lambda sync: sync.customer_options, "customers")


def subscription_options(run: Run) -> SubscriptionOptions:
    """The subscriptions step's options, whichever kind of run takes it."""
    return _step(run, SubscriptionOptions, lambda sync: sync.subscription_options, "subscriptions")


def _step[T](run: Run, kind: type[T], of_sync: Callable[[SyncOptions], T], name: str) -> T:
    options = options_of(run)
    if isinstance(options, SyncOptions):
        return of_sync(options)
    if isinstance(options, kind):
        return options
    raise ValueError(f"A {run.kind} run has no {name} step.")
