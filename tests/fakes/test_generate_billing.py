"""The benchmark world's billing side: one recurring invoice per client, a line per active
subscription, linked to its licence when the import creates it (issue 27's cost measures)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from local.fakes import HaloFake
from local.fakes.sample_billing import generate_billing
from local.fakes.sample_data import generate_dicker_data, generate_halo
from tests.fakes.test_halo_billing_fake import read_all
from tests.fakes.test_halo_fake import post
from tests.fixtures.fakes import _fail_on_halo_violations


@pytest.fixture
def empty_halo() -> Iterator[HaloFake]:
    with HaloFake() as halo:
        yield halo
    _fail_on_halo_violations(halo)


def test_every_active_subscription_is_billed_on_its_clients_one_invoice_and_linked_on_import(empty_halo):
    halo_fake = empty_halo
    tenants, subscriptions = generate_dicker_data(120, 3, seed=7)
    clients = generate_halo(halo_fake, 120, names=[t["CompanyName"] for t in tenants])
    lines = generate_billing(halo_fake, clients, tenants, subscriptions)
    active = [s for s in subscriptions if s["Status"] != "CANCELLED"]
    assert lines == len(active)
    licence_of = {}
    for tenant, client in zip(tenants, clients, strict=True):
        subs = [s for s in subscriptions if s["TenantId"] == tenant["TenantId"]]
        body = [
            {"client_id": client["id"], "name": s["StockDescription"], "count": 1,
             "notes": f"Dicker Data subscription: {s['SubscriptionId']}\nReference: x"}
            for s in subs
        ]  # fmt: skip
        saved = post(halo_fake, "SoftwareLicence", body).json()
        licence_of |= {s["SubscriptionId"]: licence["id"] for s, licence in zip(subs, saved, strict=True)}
    invoices = read_all(halo_fake, "RecurringInvoice", "invoices", includelines="true")
    assert len(invoices) == 120 and len({i["client_id"] for i in invoices}) == 120
    billed = {q["licence_id"]: x for i in invoices for x in i["lines"] for q in x["quantity_licences"]}
    assert {licence_of[s["SubscriptionId"]] for s in active} == set(billed)
    for sub in active:
        line = billed[licence_of[sub["SubscriptionId"]]]
        item = halo_fake.items[line["_itemid"]]
        assert line["qty_order"] == sub["ConfirmedQuantity"]
        assert item["supplier_part_code"] == sub["ManufacturerStockCode"]
    codes = {s["ManufacturerStockCode"] for s in subscriptions}
    assert [i["supplier_part_code"] for i in read_all(halo_fake, "Item", "items")] == list(dict.fromkeys(
        s["ManufacturerStockCode"] for s in subscriptions)) and len(codes) > 5  # fmt: skip


def test_five_thousand_customers_are_billed_in_seconds():
    tenants, subscriptions = generate_dicker_data(5000, 10, seed=1)
    fake = HaloFake()
    clients = generate_halo(fake, 5000, names=[t["CompanyName"] for t in tenants])
    started = time.monotonic()
    assert generate_billing(fake, clients, tenants, subscriptions) > 40_000
    assert time.monotonic() - started < 10 and len(fake.invoices) == 5000
