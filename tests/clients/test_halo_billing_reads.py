"""Halo's billing reads against the Halo fake, routes as Halo's OpenAPI document describes them
(``GET /Item`` list key ``items``, ``GET /RecurringInvoice`` list key ``invoices``). The world is
written through Halo's own routes (``POST /Item``, ``POST /RecurringInvoice``: arrays), so these
tests depend on nothing of the fake but the API it stands in for."""

from ddhalo.halo.billing_records import ItemRecord, RecurringInvoiceLineRecord

# A stock code none of the sample world's Items carries (the fake starts with a price book).
CODE = "P1Y:TESTONLY0001:0001:Y:"


def add_items(halo_client, count: int, prefix: str = "Item") -> None:
    """Items in batches of 50 (Halo's writes take arrays)."""
    for start in range(0, count, 50):
        batch = [
            {"name": f"{prefix} {n:03}", "recurringprice": 10.5, "isrecurringitem": True}
            for n in range(start, min(count, start + 50))
        ]
        halo_client.request("POST", "Item", json=batch)


def list_requests(halo_fake, path: str) -> list:
    return [r for r in halo_fake.requests if r.method == "GET" and r.path == path]


def test_items_are_read_page_by_page_under_their_list_key(halo_client, halo_fake):
    add_items(halo_client, 130)
    items = halo_client.items()
    ours = [i for i in items if i.name.startswith("Item ")]  # beside the sample price book
    assert sorted(i.name for i in ours) == [f"Item {n:03}" for n in range(130)]
    assert {i.recurring_price for i in ours} == {10.5} and all(i.is_recurring for i in ours)
    pages = list_requests(halo_fake, "/api/Item")
    assert [r.query["page_no"] for r in pages] == ["1", "2"]
    assert all(r.query["pageinate"] == "true" and r.query["page_size"] == "100" for r in pages)


def test_an_item_keeps_the_codes_a_stock_code_is_matched_against(halo_client):
    halo_client.request(
        "POST",
        "Item",
        json=[
            {
                "name": "Microsoft 365 Business Basic (annual)",
                "supplier_part_code": CODE,
                "internalreference": "M365-BB-Y",
                "externalreference": "CFQ7TTC0LH18",
                "baseprice": 9.9,
                "recurringprice": 8.8,
                "costprice": 6.6,
                "isrecurringitem": True,
            }
        ],
    )
    (item,) = [i for i in halo_client.items() if i.supplier_part_code == CODE]
    assert item == ItemRecord(
        item.id,
        "Microsoft 365 Business Basic (annual)",
        CODE,
        "M365-BB-Y",
        "CFQ7TTC0LH18",
        9.9,
        8.8,
        6.6,
        True,
    )
    assert halo_client.item(item.id) == item
    assert halo_client.item(item.id + 10_000) is None


def test_recurring_invoices_of_a_client_come_with_their_lines_and_licence_links(halo_client, halo_fake):
    client = halo_fake.add_client("Billing Client")
    other = halo_fake.add_client("Other Client")
    licence = halo_fake.add_licence(client["id"], "Microsoft 365 Business Basic", count=12)
    add_items(halo_client, 1, prefix="Basic")
    (item,) = [i for i in halo_client.items() if i.name == "Basic 000"]
    line = {
        "_itemid": item.id,
        "qty_order": 12,
        "unit_price": 8.5,
        "comment_1": "sub-1",
        "quantity_licences": [{"licence_id": licence["id"]}],
    }
    halo_client.request(
        "POST",
        "RecurringInvoice",
        json=[
            {
                "client_id": client["id"],
                "lines": [line, {"_itemid": item.id, "qty_order": 2, "isinactive": True}],
            },
            {"client_id": client["id"], "disabled": True, "lines": []},
            {"client_id": other["id"], "lines": [{"_itemid": item.id, "qty_order": 1}]},
        ],
    )
    invoices = halo_client.recurring_invoices(client["id"])
    assert [(i.client_id, i.disabled) for i in invoices] == [(client["id"], False), (client["id"], True)]
    active, disabled = invoices
    assert disabled.lines == ()
    billing, inactive = active.lines
    assert billing == RecurringInvoiceLineRecord(
        billing.id, active.id, item.id, billing.item_code, 12.0, 8.5, False, "sub-1", (licence["id"],)
    )
    assert inactive.is_inactive and inactive.licence_ids == () and inactive.recurring_invoice_id == active.id
    (request,) = list_requests(halo_fake, "/api/RecurringInvoice")
    assert request.query["client_id"] == str(client["id"]) and request.query["includelines"] == "true"


def test_every_recurring_invoice_is_read_page_by_page_under_its_list_key(halo_client, halo_fake):
    clients = [halo_fake.add_client(f"Invoiced {n:03}") for n in range(105)]
    for start in range(0, 105, 50):
        halo_client.request(
            "POST",
            "RecurringInvoice",
            json=[{"client_id": c["id"], "lines": []} for c in clients[start : start + 50]],
        )
    invoices = halo_client.recurring_invoices(include_lines=False)
    ours = {c["id"] for c in clients}  # beside the sample world's invoices
    assert sorted(i.client_id for i in invoices if i.client_id in ours) == sorted(ours)
    pages = list_requests(halo_fake, "/api/RecurringInvoice")
    assert [r.query["page_no"] for r in pages] == ["1", "2"]
    assert all("client_id" not in r.query and r.query["includelines"] == "false" for r in pages)
