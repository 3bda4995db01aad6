"""The Halo fake's billing records (issue 27): Items and recurring invoices, paged with their list
keys, written through arrays and `updatelines`, checked against Halo's document, and the faults
(lost answers, late saves, 429s) they meet like every other route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.fakes import HaloFake
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
