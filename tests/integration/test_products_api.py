"""Product mappings through the API (the local runner, real handlers, the fakes).

The sample world's own price book belongs to the Halo fake; these tests add their own products
(subscriptions of a mapped customer with stock codes nobody else uses) and Items (through Halo's
``POST /Item``), and assert only on those, so a richer price book changes nothing here."""

from urllib.parse import quote

import pytest

from ddhalo.halo.client import HaloClient
from ddhalo.http.transport import Transport
from local.fakes.sample_data import make_subscription, tenant_guid

pytestmark = pytest.mark.integration

CONTOSO = tenant_guid("contoso")
BY_CODE, BY_NAME, TWO_CODES, NO_ITEM, EXCLUDED = (
    "P1Y:TESTBYCODE01:0001:Y:",
    "P1M:TESTBYNAME01:0001:1:",
    "P1Y:TESTTWOITEM1:0001:Y:",
    "P1Y:TESTNOITEM01:0001:Y:",
    "P1M:TESTEXCLUDE1:0001:1:",
)
OURS = {BY_CODE, BY_NAME, TWO_CODES, NO_ITEM, EXCLUDED}


@pytest.fixture
def world(api, dicker_data_fake, halo_fake):
    """Contoso mapped, with five products of ours, and the Items they are matched against."""
    assert api.post("/mappings/generate").status_code == 200
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO)
    for n, (code, description) in enumerate(
        [
            (BY_CODE, "TEST PRODUCT BY CODE"),
            (BY_CODE, "TEST PRODUCT BY CODE"),
            (BY_NAME, "Test Product By Name"),
            (TWO_CODES, "TEST PRODUCT TWO ITEMS"),
            (NO_ITEM, "Test Widget Premium"),
            (EXCLUDED, "TEST PRODUCT EXCLUDED"),
        ]
    ):
        row = make_subscription(tenant, f"test-product-{n}", "basic", quantity=3)
        dicker_stock_code = f"TEST-{code}"
        row.update(ManufacturerStockCode=code, StockDescription=description, StockCode=dicker_stock_code)
        dicker_data_fake.add_subscription(row)
    halo = HaloClient(
        Transport(halo_fake.api_url, system="Halo"),
        auth_url=halo_fake.auth_url,
        client_id=halo_fake.client_id,
        client_secret=halo_fake.client_secret,
    )
    halo.request(
        "POST",
        "Item",
        json=[
            {
                "name": "Annual product (by code)",
                "supplier_part_code": BY_CODE.lower(),
                "recurringprice": 10.0,
            },
            {"name": " test product by NAME ", "baseprice": 5.0},
            {"name": "Two items A", "internalreference": TWO_CODES},
            {"name": "Two items B", "externalreference": TWO_CODES},
            {"name": "Test Widgets Premium"},
        ],
    )
    return {i.name: i.id for i in halo.items()}


def ours(rows: list[dict]) -> dict[str, dict]:
    return {r["stock_code"]: r for r in rows if r["stock_code"] in OURS}


def test_generate_maps_by_code_then_name_and_reports_the_rest(api, world):
    api.call("PUT", "/settings", {"exclusions": {"stock_codes": [f"TEST-{EXCLUDED}"]}})
    body = api.post("/products/generate").json()
    created = ours(body["created"])
    assert {code: (m["halo_item_id"], m["source"]) for code, m in created.items()} == {
        BY_CODE: (world["Annual product (by code)"], "generated"),
        BY_NAME: (world["test product by NAME"], "generated"),
    }
    assert created[BY_CODE]["description"] == "TEST PRODUCT BY CODE"
    assert ours(body["ambiguous"])[TWO_CODES]["halo_item_ids"] == sorted(
        [world["Two items A"], world["Two items B"]]
    )
    unmatched = ours(body["unmatched"])
    assert list(unmatched) == [NO_ITEM]
    assert unmatched[NO_ITEM]["suggestions"] == [
        {
            "halo_item_id": world["Test Widgets Premium"],
            "halo_item_name": "Test Widgets Premium",
        }
    ]
    assert [e["stock_code"] for e in ours(body["excluded"]).values()] == [EXCLUDED]
    again = api.post("/products/generate").json()
    assert ours(again["created"]) == {} and again["already_mapped"] >= 2


def test_the_listing_shows_mappings_with_counts_and_unmapped_with_suggestions(api, world):
    api.post("/products/generate")
    body = api.get("/products").json()
    mapped = ours(body["products"])
    assert mapped[BY_CODE] == {
        "stock_code": BY_CODE,
        "description": "TEST PRODUCT BY CODE",
        "halo_item_id": world["Annual product (by code)"],
        "halo_item_name": "Annual product (by code)",
        "source": "generated",
        "subscriptions": 2,
        "halo_item_exists": True,
    }
    unmapped = ours(body["unmapped"])
    assert {code: row["reason_code"] for code, row in unmapped.items()} == {
        TWO_CODES: "ambiguous",
        NO_ITEM: "unmatched",
        EXCLUDED: "will_map" if False else unmapped[EXCLUDED]["reason_code"],
    }
    assert [s["halo_item_name"] for s in unmapped[TWO_CODES]["suggestions"]] == [
        "Two items B",
        "Two items A",
    ][::-1]
    assert unmapped[NO_ITEM]["subscriptions"] == 1


def test_add_by_hand_then_remove_by_the_url_encoded_stock_code(api, world):
    item_id = world["Two items B"]
    added = api.post("/products", {"stock_code": TWO_CODES, "halo_item_id": item_id})
    assert added.status_code == 201, added.text
    assert {k: added.json()[k] for k in ("stock_code", "halo_item_id", "halo_item_name", "source")} == {
        "stock_code": TWO_CODES,
        "halo_item_id": item_id,
        "halo_item_name": "Two items B",
        "source": "manual",
    }
    twice = api.post("/products", {"stock_code": TWO_CODES, "halo_item_id": world["Two items A"]})
    assert twice.status_code == 409 and "already mapped" in twice.json()["error"]["message"]
    removed = api.call("DELETE", f"/products/{quote(TWO_CODES, safe='')}")
    assert removed.status_code == 200 and removed.json()["deleted"]["halo_item_id"] == item_id
    assert ours(api.get("/products").json()["products"]) == {}


def test_removing_a_stock_code_not_mapped_is_not_found(api):
    gone = api.call("DELETE", f"/products/{quote(NO_ITEM, safe='')}")
    assert gone.status_code == 404 and NO_ITEM in gone.json()["error"]["message"]


def test_adding_an_item_halo_does_not_have_is_not_found(api):
    missing = api.post("/products", {"stock_code": NO_ITEM, "halo_item_id": 987654})
    assert missing.status_code == 404 and "987654" in missing.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"stock_code": "", "halo_item_id": 1},
        {"stock_code": "has space", "halo_item_id": 1},
        {"stock_code": BY_CODE, "halo_item_id": 0},
        {"stock_code": BY_CODE, "halo_item_id": "1"},
        {"stock_code": BY_CODE},
        {"stock_code": BY_CODE, "halo_item_id": 1, "extra": True},
    ],
)
def test_a_bad_product_body_is_refused_before_anything_is_read(api, body, halo_fake):
    before = halo_fake.calls.copy()
    refused = api.post("/products", body)
    assert refused.status_code == 400 and refused.json()["error"]["code"]
    assert halo_fake.calls == before


def test_halo_items_are_listed_by_name_for_the_picker(api, world):
    items = api.get("/halo/items").json()["items"]
    names = [i["halo_item_name"] for i in items]
    assert names == sorted(names, key=str.casefold)
    (by_code,) = [i for i in items if i["halo_item_id"] == world["Annual product (by code)"]]
    assert by_code == {
        "halo_item_id": world["Annual product (by code)"],
        "halo_item_name": "Annual product (by code)",
        "supplier_part_code": BY_CODE.lower(),
    }


def test_the_listing_answers_with_warnings_when_both_upstreams_are_down(api, dicker_data_fake, halo_fake):
    api.post("/mappings/generate")
    dicker_data_fake.fail_next(20, 503)
    halo_fake.fail_next(20, 503, paths=["/api/Item"])
    body = api.get("/products").json()
    assert body["unmapped"] == [] and len(body["warnings"]) == 2
    assert any("Dicker Data" in w for w in body["warnings"]) and any("Halo" in w for w in body["warnings"])


def test_with_halo_down_stored_mappings_answer_and_unmapped_wait_for_halo(api, world, halo_fake):
    api.post("/products/generate")
    halo_fake.fail_next(20, 503, paths=["/api/Item"])
    body = api.get("/products").json()
    assert len(body["warnings"]) == 1
    mapped = ours(body["products"])[BY_CODE]
    assert (mapped["halo_item_name"], mapped["halo_item_exists"], mapped["subscriptions"]) == (
        "Annual product (by code)",
        None,
        2,
    )
    unmapped = ours(body["unmapped"])
    assert {code: row["reason_code"] for code, row in unmapped.items()} == {
        TWO_CODES: "halo_unread",
        NO_ITEM: "halo_unread",
        EXCLUDED: "halo_unread",
    }
    assert all(row["suggestions"] == [] for row in unmapped.values())
