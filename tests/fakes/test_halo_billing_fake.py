"""The Halo fake's billing records (issue 27): Items and recurring invoices, paged with their list
keys, written through arrays and `updatelines`, checked against Halo's document, and the faults
(lost answers, late saves, 429s) they meet like every other route."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from local.fakes import HaloFake
from local.fakes.sample_billing import EXPECTED
from local.fakes.sample_data import sample_dicker_data, tenant_guid
from tests.fakes.test_halo_fake import auth, get, post
from tests.fixtures.fakes import _fail_on_halo_violations

UPDATELINES = "RecurringInvoice/updatelines"


@pytest.fixture
def fake() -> Iterator[HaloFake]:
    """An empty Halo (no sample world) that fails the test on any request Halo's document refuses."""
    with HaloFake() as halo:
        yield halo
    _fail_on_halo_violations(halo)


def client_with_licences(fake: HaloFake, name: str, *licences: str) -> tuple[int, list[int]]:
    client = fake.add_client(name)["id"]
    return client, [fake.add_licence(client, n, count=5)["id"] for n in licences]


def line(**fields: Any) -> dict[str, Any]:
    return {"qty_order": 1.0, "unit_price": 10.0, **fields}


def lines_of(fake: HaloFake, invoice_id: int) -> list[dict[str, Any]]:
    answer = get(fake, f"RecurringInvoice/{invoice_id}")
    assert answer.status_code == 200
    lines: list[dict[str, Any]] = answer.json()["lines"]
    return lines


def test_items_are_paged_100_at_most_with_their_list_key_and_searched_by_name(fake):
    for n in range(230):
        fake.add_item(f"Copilot {n:03d}" if n % 10 == 0 else f"Item {n:03d}", recurringprice=1.5)
    page = get(fake, "Item", pageinate="true", page_size=500, page_no=3).json()
    assert (page["record_count"], page["page_size"], page["page_no"]) == (230, 100, 3)
    assert [i["name"] for i in page["items"]][:2] == ["Copilot 200", "Item 201"] and len(page["items"]) == 30
    found = get(fake, "Item", search="COPILOT", pageinate="true", page_size=100, page_no=1).json()
    assert found["record_count"] == 23 and all(i["name"].startswith("Copilot") for i in found["items"])
    one = get(fake, "Item/11").json()
    assert (one["name"], one["recurringprice"], one["supplier_part_code"]) == ("Copilot 010", 1.5, "")
    assert get(fake, "Item/999").status_code == 404


def test_item_writes_are_arrays_that_create_or_update(fake):
    saved = post(fake, "Item", [{"name": "M365 Basic", "recurringprice": 8.1}, {"name": "Labour"}]).json()
    assert [(i["id"], i["name"], i["recurringprice"]) for i in saved] == [
        (1, "M365 Basic", 8.1),
        (2, "Labour", 0.0),
    ]
    post(fake, "Item", [{"id": 1, "supplier_part_code": "P1M:CFQ7TTC0LH18:0001:1:"}])
    assert fake.items[1] | {} == {**saved[0], "supplier_part_code": "P1M:CFQ7TTC0LH18:0001:1:"}
    assert post(fake, "Item", [{"name": " "}]).status_code == 400
    assert (fake.created, fake.updated) == (2, 1)


def test_recurring_invoices_filter_by_client_page_and_carry_lines_only_when_asked(fake):
    contoso, _ = client_with_licences(fake, "Contoso")
    fabrikam, _ = client_with_licences(fake, "Fabrikam")
    for n in range(130):
        fake.add_recurring_invoice(contoso, [line(comment_1=f"c{n}")])
    other = fake.add_recurring_invoice(fabrikam, [line(), line()], disabled=True)["id"]
    params = {"client_id": contoso, "pageinate": "true", "page_size": 100}
    first = get(fake, "RecurringInvoice", page_no=1, **params).json()
    second = get(fake, "RecurringInvoice", page_no=2, includelines="true", **params).json()
    assert (first["record_count"], len(first["invoices"]), len(second["invoices"])) == (130, 100, 30)
    assert all("lines" not in i and i["client_id"] == contoso for i in first["invoices"])
    assert [i["lines"][0]["comment_1"] for i in second["invoices"]][:2] == ["c100", "c101"]
    theirs = get(fake, "RecurringInvoice", client_id=fabrikam, includelines="true").json()["invoices"]
    assert [(i["id"], i["disabled"], i["client_name"], len(i["lines"])) for i in theirs] == [
        (other, True, "Fabrikam", 2)
    ]
    assert [x["recurring_invoice_id"] for x in lines_of(fake, other)] == [other, other]


def test_updatelines_adds_a_line_without_id_and_updates_only_the_given_fields_of_one_with_id(fake):
    client, (licence, _) = client_with_licences(fake, "Contoso", "M365 Business Basic", "Other")
    item = fake.add_item("M365 Basic", recurringprice=8.1, baseprice=9.0)["id"]
    invoice = fake.add_recurring_invoice(client, [line(comment_1="kept")])["id"]
    (kept,) = lines_of(fake, invoice)
    answer = post(
        fake,
        UPDATELINES,
        [
            {"recurring_invoice_id": invoice, "_itemid": item, "qty_order": 5,
             "comment_1": "sub-1", "quantity_licences": [{"licence_id": licence}]},
            {"id": kept["id"], "qty_order": 7, "isinactive": True},
        ],
    )  # fmt: skip
    assert answer.status_code == 200
    added, updated = answer.json()
    assert added["id"] not in (None, kept["id"]) and added["recurring_invoice_id"] == invoice
    assert (added["item_code"], added["unit_price"], added["qty_order"]) == ("M365 Basic", 8.1, 5)
    assert [(q["licence_id"], q["licence_name"]) for q in added["quantity_licences"]] == [
        (licence, "M365 Business Basic")
    ]
    assert updated == {**kept, "qty_order": 7, "isinactive": True}
    assert lines_of(fake, invoice) == [updated, added]
    assert (fake.created, fake.updated, fake.writes) == (1, 1, 2)


REFUSED_LINES = [
    pytest.param([{"qty_order": 2}], "recurring_invoice_id is required", id="no-invoice"),
    pytest.param([{"recurring_invoice_id": 99}], "recurring_invoice_id 99 does not", id="unknown-invoice"),
    pytest.param([{"id": 99, "qty_order": 2}], "InvoiceDetail 99 not found", id="unknown-line"),
    pytest.param([{"recurring_invoice_id": 1, "_itemid": 42}], "_itemid 42 does not", id="unknown-item"),
    pytest.param(
        [{"recurring_invoice_id": 1, "quantity_licences": [{"licence_id": 2}]}],
        "licence 2 is not a licence of client 1",
        id="other-clients-licence",
    ),
    pytest.param([{"id": 1, "recurring_invoice_id": 2}], "cannot move to another", id="move"),
]


@pytest.mark.parametrize(("body", "message"), REFUSED_LINES)
def test_updatelines_refuses_what_halo_would_and_saves_nothing_of_the_batch(fake, body, message):
    client, _ = client_with_licences(fake, "Contoso", "Mine")
    other, _ = client_with_licences(fake, "Fabrikam", "Theirs")
    fake.add_recurring_invoice(client, [line()])
    fake.add_recurring_invoice(other)
    before = {k: dict(v) for k, v in fake.invoice_lines.items()}
    answer = post(fake, UPDATELINES, [{"recurring_invoice_id": 1, "qty_order": 3}, *body])
    assert answer.status_code == 400 and message in answer.json()["Message"]
    assert {k: dict(v) for k, v in fake.invoice_lines.items()} == before and fake.writes == 0


def test_a_header_written_with_lines_gets_exactly_those_lines(fake):
    client, (licence,) = client_with_licences(fake, "Contoso", "M365")
    invoice = fake.add_recurring_invoice(client, [line(comment_1="a"), line(comment_1="b")])["id"]
    a, b = lines_of(fake, invoice)
    post(fake, "RecurringInvoice", [{"id": invoice, "disabled": True}])  # no lines: all kept
    assert lines_of(fake, invoice) == [a, b] and fake.invoices[invoice]["disabled"] is True
    new_line = {"comment_1": "new", "quantity_licences": [{"licence_id": licence}]}
    body = [{"id": invoice, "lines": [{"id": a["id"], "qty_order": 4}, new_line]}]
    answer = post(fake, "RecurringInvoice", body).json()
    kept, new = answer[0]["lines"]
    assert kept == {**a, "qty_order": 4} and new["comment_1"] == "new" and new["id"] not in (a["id"], b["id"])
    assert lines_of(fake, invoice) == [kept, new] and b["id"] not in fake.invoice_lines
    created = post(fake, "RecurringInvoice", [{"client_id": client, "lines": [line(comment_1="c")]}]).json()
    assert created[0]["client_name"] == "Contoso" and [x["comment_1"] for x in created[0]["lines"]] == ["c"]
    other = post(fake, "RecurringInvoice", [{"id": invoice, "lines": [{"id": created[0]["lines"][0]["id"]}]}])
    assert other.status_code == 400 and "is not a line of this recurring invoice" in other.json()["Message"]


def test_requests_the_document_does_not_declare_are_refused_and_recorded():
    with HaloFake() as halo:
        client, _ = client_with_licences(halo, "Contoso")
        invoice = halo.add_recurring_invoice(client, [line()])["id"]
        headers = auth(halo)
        refused = [
            post(halo, UPDATELINES, [{"recurring_invoice_id": invoice, "qty_order": "five"}], headers),
            post(halo, UPDATELINES, [{"recurring_invoice_id": invoice, "quantity": 2}], headers),
            post(halo, "RecurringInvoice", [{"client_id": client, "lines": [{"licence_id": 1}]}], headers),
            get(halo, "RecurringInvoice/Lines", headers),
            get(halo, "Item", headers, client_id=client),
            get(halo, f"RecurringInvoice/{invoice}", headers, includelines="true"),
        ]
        assert [r.status_code for r in refused] == [400] * 6
        assert len(halo.invoice_lines) == 1 and len(halo.invoices) == 1
        said = "\n".join(halo.violations)
        for problem in (
            'body[0].qty_order: expected number, got string "five"',
            "body[0]: 'quantity' is not a property of InvoiceDetail",
            "body[0].lines[0]: 'licence_id' is not a property of InvoiceDetail",
            "method GET is not allowed on /RecurringInvoice/Lines",
            "query parameter 'client_id' is not declared for GET /Item",
            "query parameter 'includelines' is not declared for GET /RecurringInvoice/{id}",
        ):
            assert problem in said
        lines = post(halo, "RecurringInvoice/Lines", [{"recurring_invoice_id": invoice}], headers)
        assert lines.status_code == 501 and "does not guess" in lines.json()["Message"]


def test_billing_routes_need_their_scopes(fake):
    software = {"Authorization": auth(fake, "edit:software")["Authorization"]}
    assert get(fake, "Item", software).status_code == 403
    assert post(fake, UPDATELINES, [], software).status_code == 403
    invoices = {"Authorization": auth(fake, "read:invoices")["Authorization"]}
    assert get(fake, "RecurringInvoice", invoices).status_code == 200
    assert post(fake, UPDATELINES, [], invoices).status_code == 403


def test_a_lost_updatelines_answer_whose_save_lands_late(fake):
    """A busy Halo saves the batch after the client gave up: a read straight after the timeout
    does not show the line, a read after the delay shows it once."""
    client, _ = client_with_licences(fake, "Contoso")
    invoice = fake.add_recurring_invoice(client)["id"]
    fake.hang_next(1, 1.0, paths=[f"/api/{UPDATELINES}"], methods=["POST"], saves="late")
    body = [{"recurring_invoice_id": invoice, "comment_1": "sub-1", "qty_order": 3}]
    with pytest.raises(requests.Timeout):
        requests.post(f"{fake.api_url}/{UPDATELINES}", json=body, headers=auth(fake), timeout=0.3)
    assert lines_of(fake, invoice) == []
    time.sleep(1.0)
    assert fake.wait_idle(5)
    assert [x["comment_1"] for x in lines_of(fake, invoice)] == ["sub-1"]


def test_an_updatelines_saved_at_once_whose_answer_is_lost(fake):
    client, _ = client_with_licences(fake, "Contoso")
    invoice = fake.add_recurring_invoice(client)["id"]
    fake.hang_next(1, 0.2, paths=[f"/api/{UPDATELINES}"], methods=["POST"], answer=False)
    body = [{"recurring_invoice_id": invoice, "comment_1": "sub-1", "qty_order": 3}]
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{fake.api_url}/{UPDATELINES}", json=body, headers=auth(fake), timeout=5)
    assert [x["comment_1"] for x in lines_of(fake, invoice)] == ["sub-1"]


def test_data_faults_and_the_rate_limit_reach_the_billing_routes(fake):
    headers = auth(fake)
    fake.fail_next(2, 429, data_only=True)
    assert get(fake, "Item", headers).status_code == 429
    assert get(fake, "RecurringInvoice", headers).status_code == 429
    assert get(fake, "RecurringInvoice", headers).status_code == 200
    fake.saturate(5)
    assert post(fake, UPDATELINES, [], headers).status_code == 429


def test_created_hooks_run_after_the_answer_is_built(fake):
    client, _ = client_with_licences(fake, "Contoso")
    heard: list[tuple[str, int]] = []

    def hand_edit(entity: str, record: dict[str, Any]) -> None:
        heard.append((entity, record["id"]))
        if entity == "SoftwareLicence":
            record["count"] = 1

    fake.on_created.append(hand_edit)
    (answer,) = post(fake, "SoftwareLicence", [{"client_id": client, "name": "M365", "count": 5}]).json()
    assert answer["count"] == 5 and fake.licences[answer["id"]]["count"] == 1
    post(fake, "SoftwareLicence", [{"id": answer["id"], "count": 6}])  # an update is not a creation
    invoice = fake.add_recurring_invoice(client)
    assert heard == [("SoftwareLicence", answer["id"]), ("RecurringInvoice", invoice["id"])]


# -- the sample world: every way the billing check can disagree ------------------------------

CUSTOMER_CLIENTS = {
    "contoso": "Contoso Pty Ltd",
    "fabrikam": "Fabrikam Solutions",
    "northwind": "Northwind Traders",
    "smithjones": "Smith and Jones Accounting",
    "wideworld": "Wide World Importers",
}
SPEC_ORDER = ("billed_after_cancel", "unbilled", "under_billed", "over_billed", "ambiguous_line",
              "no_product", "licence_count_differs", "renewal_due")  # fmt: skip


def read_all(fake: HaloFake, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a list, 100 a page, as the product reads them."""
    records: list[dict[str, Any]] = []
    while True:
        page = get(fake, path, pageinate="true", page_size=100, page_no=len(records) // 100 + 1, **params)
        records += page.json()[key]
        if len(records) >= page.json()["record_count"] or not page.json()[key]:
            return records


World = dict[tuple[str, int], tuple[dict[str, Any], dict[str, Any]]]


def imported(fake: HaloFake, subscriptions: list[dict[str, Any]]) -> World:
    """The sample customers' subscriptions created as licences through the API, as an import
    does (Wide World's client created first): (slug, row) → (subscription, licence)."""
    if "Wide World Importers" not in {c["name"] for c in fake.clients.values()}:
        post(fake, "Client", [{"name": "Wide World Importers"}])
    clients = {c["name"]: c["id"] for c in fake.clients.values()}
    found = {}
    for slug, client in CUSTOMER_CLIENTS.items():
        subs = [s for s in subscriptions if s["TenantId"] == tenant_guid(slug)]
        body = [
            {"client_id": clients[client], "name": s["StockDescription"], "count": s["ConfirmedQuantity"]}
            for s in subs
        ]
        answer = post(fake, "SoftwareLicence", body).json()
        found |= {(slug, n): pair for n, pair in enumerate(zip(subs, answer, strict=True))}
    return found


def product_of(items: list[dict[str, Any]], sub: dict[str, Any]) -> int | None:
    """The spec's generate rule: the one Item by code, else the one Item by name, else none."""
    refs = ("supplier_part_code", "internalreference", "externalreference")
    by_code = [i["id"] for i in items if norm(sub["ManufacturerStockCode"]) in {norm(i[r]) for r in refs}]
    by_name = [i["id"] for i in items if norm(i["name"]) == norm(sub["StockDescription"])]
    candidates = by_code or by_name
    return candidates[0] if len(candidates) == 1 else None


def norm(value: Any) -> str:
    return str(value or "").strip().casefold()


def links(line: dict[str, Any]) -> set[int]:
    return {q["licence_id"] for q in line["quantity_licences"]}


def findings(fake: HaloFake, world: World) -> dict[tuple[str, int], list[str]]:
    """The spec's comparison, restated for the sample world, from what the fake answers."""
    items = read_all(fake, "Item", "items")
    live = {}
    for key, (sub, licence) in world.items():
        params = {"client_id": licence["client_id"], "includelines": "true"}
        invoices = read_all(fake, "RecurringInvoice", "invoices", **params)
        count = get(fake, f"SoftwareLicence/{licence['id']}").json()["count"]
        lines = [x for i in invoices if not i["disabled"] for x in i["lines"] if not x["isinactive"]]
        live[key] = (sub, licence["id"], count, lines, product_of(items, sub))
    return {key: codes_of(key, live) for key in live}


def codes_of(key: tuple[str, int], live: dict[tuple[str, int], Any]) -> list[str]:
    """The reason codes of one subscription, in the spec's order."""
    sub, licence_id, count, lines, product = live[key]
    cancelled = sub["Status"] == "CANCELLED"
    dicker = 0 if cancelled else sub["ConfirmedQuantity"]
    linked = [x["qty_order"] for x in lines if licence_id in links(x)]
    shared = [x["qty_order"] for x in lines if x["_itemid"] == product and not links(x)]
    sharers = [
        k
        for k, v in live.items()
        if k[0] == key[0] and product is not None and v[4] == product
        and not any(v[1] in links(x) for x in lines)
    ]  # fmt: skip
    billed = sum(linked) if linked else sum(shared) if product is not None else None
    ambiguous = not linked and bool(shared) and len(sharers) > 1
    if ambiguous:
        dicker = sum(live[k][0]["ConfirmedQuantity"] for k in sharers)
    days = (date.fromisoformat(sub["ExpiryDate"][:10]) - date.today()).days
    found = {
        "billed_after_cancel": cancelled and bool(billed),
        "unbilled": not cancelled and billed == 0,
        "under_billed": not ambiguous and billed is not None and 0 < billed < dicker,
        "over_billed": not ambiguous and billed is not None and dicker > 0 and billed > dicker,
        "ambiguous_line": ambiguous and billed != dicker,
        "no_product": product is None and not linked,
        "licence_count_differs": not cancelled and count != sub["ConfirmedQuantity"],
        "renewal_due": sub["ManufacturerStockCode"].startswith("P1Y") and 0 <= days <= 30,
    }
    return [code for code in SPEC_ORDER if found[code]]


def test_the_sample_world_disagrees_with_dicker_data_in_every_way_the_check_reports(halo_fake):
    _, subscriptions = sample_dicker_data()
    world = imported(halo_fake, subscriptions)
    found = findings(halo_fake, world)
    assert {key: (codes or ["unchanged"])[0] for key, codes in found.items()} == EXPECTED
    assert {code for codes in found.values() for code in codes} == set(SPEC_ORDER)
    invoices = read_all(halo_fake, "RecurringInvoice", "invoices", includelines="true")
    per_client = Counter(i["client_name"] for i in invoices if not i["disabled"])
    assert per_client["Fabrikam Solutions"] == 2 and "Wide World Importers" not in per_client
    assert [i["client_name"] for i in invoices if i["disabled"]] == ["Contoso Pty Ltd"]
    assert any(x["isinactive"] for i in invoices for x in i["lines"])
    linked = [x for i in invoices for x in i["lines"] if x["quantity_licences"]]
    assert len(linked) == 10 and all(len(x["quantity_licences"]) == 1 for x in linked)
    # A licence created again (a twin) links nothing more: each seeded line links once.
    post(halo_fake, "SoftwareLicence", [{"client_id": 1, "name": world["contoso", 0][1]["name"], "count": 1}])
    assert len([x for i in read_all(halo_fake, "RecurringInvoice", "invoices", includelines="true")
                for x in i["lines"] if x["quantity_licences"]]) == 10  # fmt: skip


def test_the_sample_price_book_matches_the_stock_codes_as_the_plan_says(halo_fake):
    _, subscriptions = sample_dicker_data()
    items = read_all(halo_fake, "Item", "items")
    codes = {s["ManufacturerStockCode"]: s for s in subscriptions}
    mapped = {code: product_of(items, sub) for code, sub in codes.items()}
    refs = ("supplier_part_code", "internalreference", "externalreference")
    on_items = {c: [i["id"] for i in items if norm(c) in {norm(i[r]) for r in refs}] for c in codes}
    assert [c for c, ids in on_items.items() if len(ids) > 1] == ["P1Y:CFQ7TTC0LH18:0001:Y:"]
    unmatched = {c for c, i in mapped.items() if i is None and not on_items[c]}
    assert {"P1Y:CFQ7TTC0LFLX:0001:1:", "P1Y:CFQ7TTC0LH1G:0001:1:"} <= unmatched
    by_name = [c for c, i in mapped.items() if i is not None and not on_items[c]]
    assert sorted(by_name) == ["P1M:CFQ7TTC0LH16:0001:1:", "P1Y:CFQ7TTC0MM8R:0002:Y:"]
    renewing = [s for s in subscriptions if s["TenantId"] == tenant_guid("smithjones")][4]
    assert renewing["ExpiryDate"] == f"{date.today() + timedelta(days=15)}T00:00:00"
