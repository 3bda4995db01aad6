"""Settings' exclusions: excluded customers and stock codes are left alone, never made inactive."""

import pytest

pytestmark = pytest.mark.integration


def _items(run, kind, result=None):
    return [i for i in run["items"] if i["type"] == kind and (result is None or i["result"] == result)]


def test_an_excluded_customer_is_never_mapped_created_or_touched(api, dicker_data_fake, halo_fake):
    api.post("/mappings/generate")
    mapped = {m["dicker_customer_id"] for m in api.get("/mappings").json()["mappings"]}
    keep_out = sorted(mapped)[0]
    api.call("DELETE", f"/mappings/{keep_out}")
    settings = api.call("PUT", "/settings", {"exclusions": {"customers": [keep_out]}})
    assert settings.status_code == 200 and settings.json()["exclusions"] == {
        "customers": [keep_out],
        "stock_codes": [],
    }

    generated = api.post("/mappings/generate").json()
    assert keep_out not in {m["dicker_customer_id"] for m in generated["created"]}
    run = api.run("/customers/import", {"create_when_similar": True})
    (skipped,) = [i for i in _items(run, "customer") if i["dicker_id"] == keep_out]
    assert (skipped["result"], skipped["reason_code"]) == ("skipped", "excluded")
    assert api.get("/mappings").json()["mappings"] and keep_out not in {
        m["dicker_customer_id"] for m in api.get("/mappings").json()["mappings"]
    }


def test_an_excluded_stock_code_is_not_imported_and_its_licence_stays(api, dicker_data_fake, halo_fake):
    api.post("/mappings/generate")
    first = api.run("/subscriptions/import", {})
    assert first["status"] == "succeeded"
    code = dicker_data_fake.subscriptions[0]["StockCode"]
    same_code = [s for s in dicker_data_fake.subscriptions if s["StockCode"] == code]
    before = {i["dicker_id"]: i["halo_id"] for i in _items(first, "subscription", "created")}
    api.call("PUT", "/settings", {"exclusions": {"stock_codes": [code]}})
    for sub in same_code:  # changed in Dicker Data: would be an update, were it not excluded
        sub["ConfirmedQuantity"] = 99
    writes = halo_fake.writes
    second = api.run("/subscriptions/import", {})
    skipped = {i["dicker_id"] for i in _items(second, "subscription", "skipped")}
    assert skipped == {s["SubscriptionId"] for s in same_code if s["SubscriptionId"] in before}
    assert {i["reason_code"] for i in _items(second, "subscription", "skipped")} == {"excluded"}
    assert second["counts"]["updated"] == 0 and halo_fake.writes == writes
    for sub_id in skipped:
        licence = halo_fake.licences[before[sub_id]]
        assert licence["count"] != 99 and licence.get("status") != "Removed in Dicker Data"
    # the exclusion lifted, the change lands
    api.call("PUT", "/settings", {"exclusions": {"stock_codes": []}})
    third = api.run("/subscriptions/import", {})
    assert third["counts"]["updated"] == len(skipped)
