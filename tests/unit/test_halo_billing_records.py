"""Halo's billing records read Halo's loose JSON tolerantly: names and types of its document."""

from ddhalo.halo.billing_records import ItemRecord, RecurringInvoiceLineRecord, RecurringInvoiceRecord


def test_an_item_reads_its_codes_and_prices():
    raw = {
        "id": 7,
        "name": " Microsoft 365 Business Basic ",
        "supplier_part_code": "P1Y:CFQ7TTC0LH18:0001:Y:",
        "internalreference": "M365-BB",
        "externalreference": None,
        "baseprice": 9,
        "recurringprice": 8.5,
        "costprice": 6.25,
        "isrecurringitem": True,
    }
    assert ItemRecord.from_wire(raw) == ItemRecord(
        7, "Microsoft 365 Business Basic", "P1Y:CFQ7TTC0LH18:0001:Y:", "M365-BB", "", 9.0, 8.5, 6.25, True
    )
    assert ItemRecord.from_wire(raw).codes() == ("P1Y:CFQ7TTC0LH18:0001:Y:", "M365-BB")  # blanks left out


def test_an_item_with_missing_null_or_mistyped_values_reads_them_as_unknown():
    raw = {
        "id": "12",
        "baseprice": "9.00",
        "recurringprice": True,
        "costprice": float("nan"),
        "isrecurringitem": 1,
    }
    assert ItemRecord.from_wire(raw) == ItemRecord(12)


def test_records_without_a_usable_id_are_none():
    for raw in (None, [], {"name": "x"}, {"id": 0}, {"id": "abc"}, {"id": True}):
        assert ItemRecord.from_wire(raw) is None
        assert RecurringInvoiceRecord.from_wire(raw) is None
        assert RecurringInvoiceLineRecord.from_wire(raw) is None


def test_a_recurring_invoice_reads_its_header_and_lines():
    raw = {
        "id": 40,
        "client_id": 9,
        "disabled": False,
        "lines": [
            {
                "id": 400,
                "recurring_invoice_id": 40,
                "_itemid": 7,
                "item_code": "M365-BB",
                "qty_order": 12.0,
                "unit_price": 8.5,
                "isinactive": False,
                "comment_1": "sub-1",
                "quantity_licences": [
                    {"id": 1, "licence_id": 55, "licence_name": "M365"},
                    {"licence_id": 56},
                ],
            },
            {"id": 401, "isinactive": True, "qty_order": None},
            {"name": "no id: not a line"},
        ],
    }
    invoice = RecurringInvoiceRecord.from_wire(raw)
    assert invoice == RecurringInvoiceRecord(
        40,
        9,
        False,
        (
            RecurringInvoiceLineRecord(400, 40, 7, "M365-BB", 12.0, 8.5, False, "sub-1", (55, 56)),
            # A line listed without its invoice id belongs to the header it came in.
            RecurringInvoiceLineRecord(401, 40, is_inactive=True),
        ),
    )


def test_a_header_read_without_lines_says_so_and_a_disabled_one_is_disabled():
    assert RecurringInvoiceRecord.from_wire({"id": 41, "client_id": 9.0, "disabled": True}) == (
        RecurringInvoiceRecord(41, 9, True, None)
    )
    assert RecurringInvoiceRecord.from_wire({"id": 42, "lines": []}) == RecurringInvoiceRecord(42, lines=())


def test_a_line_ignores_licence_links_without_a_licence():
    raw = {"id": 5, "quantity_licences": [{"licence_id": None}, "x", {"licence_id": 0}, {"licence_id": 3}]}
    assert RecurringInvoiceLineRecord.from_wire(raw).licence_ids == (3,)
    assert RecurringInvoiceLineRecord.from_wire({"id": 5, "quantity_licences": None}).licence_ids == ()
