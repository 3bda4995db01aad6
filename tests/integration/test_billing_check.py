"""The billing check through the API (the local runner, real handlers, the fakes): the sample
world, whose recurring invoices disagree with Dicker Data in every way the check reports
(``local/fakes/sample_billing.py``: its table and ``EXPECTED``)."""

import math
from collections import Counter

import pytest

from ddhalo.pipeline.billing.plan import CODES
from local.fakes.sample_billing import EXPECTED
from local.fakes.sample_data import make_subscription, subscription_guid, tenant_guid

pytestmark = pytest.mark.integration

SMITH_AND_JONES = "Smith and Jones Accounting"
# Each subscription's Dicker Data id → (customer slug, row), as EXPECTED names them.
WHO = {subscription_guid(slug, row): (slug, row) for slug, row in EXPECTED}
# Fabrikam's four: Standard billed 14 of 12, Exchange on no line, a cancelled Basic still billed,
# E3 of no product.
FABRIKAM_FINDINGS = {"billed_after_cancel": 1, "unbilled": 1, "over_billed": 1, "no_product": 1}
READS = ("GET /api/SoftwareLicence", "GET /api/Item", "GET /api/RecurringInvoice")


def billing_world(api, halo_fake, also: dict | None = None) -> None:
    """Every sample customer that can be mapped, mapped (Smith & Jones by hand, Wide World by the
    import), their subscriptions imported, the products generated. ``also``: one more customer
    mapped by hand to a client another is mapped to."""
    assert api.post("/mappings/generate").status_code == 200
    (client_id,) = [i for i, c in halo_fake.clients.items() if c["name"] == SMITH_AND_JONES]
    mapped = api.post(
        "/mappings", {"dicker_customer_id": tenant_guid("smithjones"), "halo_client_id": client_id}
    )
    assert mapped.status_code in (200, 201), mapped.text
    if also is not None:
        assert api.post("/mappings", also | {"shared": True}).status_code in (200, 201)
    assert api.run("/customers/import", {})["status"] in ("succeeded", "partial")
    assert api.run("/subscriptions/import", {})["status"] in ("succeeded", "partial")
    assert api.post("/products/generate").status_code == 200


def check(api, body=None) -> dict:
    response = api.post("/billing/check", body if body is not None else {})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def checked(api, halo_fake) -> tuple[dict, dict[str, int]]:
    """The check's answer, and Halo's calls it made (counted alone)."""
    billing_world(api, halo_fake)
    halo_fake.reset_calls()
    run = check(api)
    return run, {k: v for k, v in halo_fake.calls.items() if v}


def test_each_subscription_is_one_item_with_the_finding_the_sample_world_seeded(checked):
    run, _ = checked
    assert (run["kind"], run["status"], run["dry_run"]) == ("billing", "succeeded", True)
    found = {WHO[i["dicker_id"]]: i["reason_code"] or "unchanged" for i in run["items"]}
    assert found == EXPECTED
    assert {i["result"] for i in run["items"] if i["reason_code"] is None} == {"unchanged"}
    assert {i["result"] for i in run["items"] if i["reason_code"] is not None} == {"skipped"}
    assert all(i["reason"] for i in run["items"] if i["reason_code"] is not None)


def test_every_reason_code_occurs_and_the_totals_add_up(checked):
    run, _ = checked
    every = Counter(code for i in run["items"] for code in i["findings"])
    assert set(every) == set(CODES)
    assert run["billing"]["findings"] == dict(every)
    # Under: archiving 5 x 4.90, Contoso's basic 5 x 9.70, Fabrikam's Exchange 4 x 7.20, Wide
    # World's 3 x 9.70 + 7 x 19.80 + 2 x 11.30, Smith & Jones' shared Standard line 2 x 19.80.
    # Over: Fabrikam's Standard 2 x 19.80, its cancelled Basic still billed 8 x 8.10.
    assert run["billing"]["under_billed_value"] == pytest.approx(331.7)
    assert run["billing"]["over_billed_value"] == pytest.approx(104.4)


def test_an_item_answers_its_three_numbers_and_its_money(checked):
    run, _ = checked
    by_who = {WHO[i["dicker_id"]]: i for i in run["items"]}
    archiving = by_who[("contoso", 1)]
    assert (archiving["dicker_quantity"], archiving["billed_quantity"], archiving["halo_count"]) == (
        25,
        20,
        25,
    )
    assert (archiving["unit_price"], archiving["value_difference"]) == (
        pytest.approx(4.9),
        pytest.approx(24.5),
    )
    assert archiving["stock_code"] == "P1M:CFQ7TTC0LHSV:0001:1:" and len(archiving["line_ids"]) == 1
    cancelled = by_who[("fabrikam", 2)]
    assert (cancelled["dicker_quantity"], cancelled["billed_quantity"]) == (0, 8)
    assert cancelled["value_difference"] == pytest.approx(-64.8)
    no_product = by_who[("contoso", 3)]
    assert (no_product["billed_quantity"], no_product["value_difference"]) == (None, None)
    counted = by_who[("smithjones", 1)]
    assert (counted["halo_count"], counted["dicker_quantity"]) == (3, 2)
    assert counted["findings"] == ["licence_count_differs"]


def test_a_check_writes_nothing_and_reads_each_list_once_a_page(checked, halo_fake):
    run, calls = checked
    assert halo_fake.writes == 0
    assert set(calls) == set(READS), calls
    pages = sum(
        max(1, math.ceil(len(table) / 100))
        for table in (halo_fake.licences, halo_fake.items, halo_fake.invoices)
    )
    assert sum(calls.values()) <= 1.05 * pages
    assert run["halo_calls"] == sum(calls.values())


def test_a_check_of_chosen_customers_reports_only_theirs(api, halo_fake):
    billing_world(api, halo_fake)
    run = check(api, {"customer_ids": [tenant_guid("fabrikam")], "dry_run": True})
    assert {WHO[i["dicker_id"]] for i in run["items"]} == {k for k in EXPECTED if k[0] == "fabrikam"}
    assert run["billing"]["findings"] == FABRIKAM_FINDINGS


def test_an_unmapped_customer_is_refused_before_a_run_exists(api):
    response = api.post("/billing/check", {"customer_ids": [tenant_guid("tailspin")]})
    assert response.status_code == 409, response.text
    assert "not mapped" in response.json()["error"]["message"]
    assert api.get("/runs").json()["runs"] == []


def test_with_nothing_mapped_the_check_says_why(api):
    run = check(api)
    assert run["items"] == [] and "no_mapped_customers" in run["notices"]
    assert run["billing"] == {"under_billed_value": 0, "over_billed_value": 0, "findings": {}}


def test_a_subscription_dicker_data_no_longer_answers_is_checked_as_gone(api, halo_fake, dicker_data_fake):
    billing_world(api, halo_fake)
    dicker_data_fake.remove_subscription(subscription_guid("fabrikam", 0))  # still billed: line of 14
    run = check(api, {"customer_ids": [tenant_guid("fabrikam")]})
    (gone,) = [i for i in run["items"] if i["dicker_id"] == subscription_guid("fabrikam", 0)]
    assert (gone["reason_code"], gone["dicker_quantity"], gone["billed_quantity"]) == (
        "billed_after_cancel",
        0,
        14,
    )
    assert gone["stock_code"] == "P1Y:CFQ7TTC0LDPB:0001:Y:"  # put back together from what its link wrote
    assert gone["value_difference"] == pytest.approx(-14 * 19.8)
    assert "no longer answered by Dicker Data" in gone["reason"]


def test_a_customer_sharing_a_chosen_ones_client_shares_its_lines_but_is_not_answered(
    api, halo_fake, dicker_data_fake
):
    """Tailspin, mapped to Smith & Jones' client too, buys 2 more of the annual Standard that one
    unlinked line of 10 bills: checking Smith & Jones alone still counts them."""
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == tenant_guid("tailspin"))
    dicker_data_fake.add_subscription(make_subscription(tenant, "tailspin-standard", "standard", quantity=2))
    (client_id,) = [i for i, c in halo_fake.clients.items() if c["name"] == SMITH_AND_JONES]
    billing_world(
        api, halo_fake, also={"dicker_customer_id": tenant["TenantId"], "halo_client_id": client_id}
    )
    run = check(api, {"customer_ids": [tenant_guid("smithjones")]})
    assert {i["customer_id"] for i in run["items"]} == {tenant_guid("smithjones")}
    shared = [i for i in run["items"] if i["reason_code"] == "ambiguous_line"]
    assert [WHO[i["dicker_id"]] for i in shared] == [("smithjones", 0), ("smithjones", 3)]
    assert [i["value_difference"] for i in shared] == [pytest.approx((9 + 3 + 2 - 10) * 19.8)] * 2
    assert "together Dicker Data charges 14" in shared[0]["reason"]


def test_a_linked_licence_the_pages_do_not_show_is_read_by_its_id(api, halo_fake):
    billing_world(api, halo_fake)
    (licence_id,) = [
        i
        for i, lic in halo_fake.licences.items()
        if (lic.get("notes") or "").startswith(
            f"Dicker Data subscription: {subscription_guid('northwind', 1)}"
        )
    ]
    del halo_fake.licences[licence_id]  # deleted by hand in Halo
    halo_fake.reset_calls()
    run = check(api, {"customer_ids": [tenant_guid("northwind")]})
    (item,) = [i for i in run["items"] if i["dicker_id"] == subscription_guid("northwind", 1)]
    # Halo holds no licence: its count differs, and no line bills a licence that is not there.
    assert (item["halo_count"], item["findings"]) == (None, ["unbilled", "licence_count_differs"])
    assert halo_fake.calls[f"GET /api/SoftwareLicence/{licence_id}"] == 1
