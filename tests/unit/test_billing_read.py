"""The billing read's mapping from what Dicker Data, Halo and the store answer to the plan's
inputs (``ddhalo.pipeline.billing.inputs``): exact, field by field."""

from datetime import date
from decimal import Decimal

from ddhalo.dicker_data.models import Subscription
from ddhalo.halo.billing_records import ItemRecord, RecurringInvoiceRecord
from ddhalo.models import Mapping, SubscriptionLink, compact_json
from ddhalo.pipeline.billing.inputs import (
    ClientBilling,
    InvoiceLine,
    LicenceFacts,
    Product,
    RecurringInvoice,
    Subscribed,
    SubscriptionFacts,
)
from ddhalo.pipeline.billing.read import (
    BillingWorld,
    gone_facts,
    group_clients,
    invoice_line,
    invoices_by_client,
    priced_products,
    subscription_facts,
)
from ddhalo.store.products import ProductMapping

ANNUAL = "P1Y:CFQ7TTC0LH18:0001:Y:"


def sub(sub_id: str = "S1", status: str = "ACTIVE", code: str = ANNUAL, **fields) -> Subscription:
    row = {
        "SubscriptionId": sub_id,
        "TenantId": "t1",
        "Status": status,
        "StockCode": "MS-BASIC",
        "StockDescription": "M365 BASIC",
        "ManufacturerStockCode": code,
        "ConfirmedQuantity": 4,
        "ExpiryDate": "2027-01-01T00:00:00",
    }
    return Subscription.from_api(row | fields)


def link(sub_id: str = "S1", licence_id: int = 1, customer: str = "t1", **fields) -> SubscriptionLink:
    return SubscriptionLink(customer, sub_id, licence_id, "hash", compact_json(fields) if fields else None)


def invoice(raw: dict) -> RecurringInvoiceRecord:
    record = RecurringInvoiceRecord.from_wire(raw)
    assert record is not None
    return record


def test_an_answered_subscription_is_its_facts():
    assert subscription_facts(sub()) == SubscriptionFacts(
        customer_id="t1",
        subscription_id="S1",
        stock_code=ANNUAL,
        dicker_stock_code="MS-BASIC",
        description="M365 BASIC",
        status="active",
        quantity=4,
        annual=True,
        end_date=date(2027, 1, 1),
    )


def test_a_suspended_or_cancelled_subscription_charges_nothing_and_a_monthly_term_is_not_annual():
    for status in ("SUSPENDED", "CANCELLED"):
        assert subscription_facts(sub(status=status)).status == "cancelled"
    assert subscription_facts(sub(code="P1M:CFQ7TTC0LH18:0001:1:")).annual is False


def test_a_gone_subscription_is_what_its_link_remembers_with_its_stock_code_put_back_together():
    remembered = link(
        name="M365 BASIC",
        product_sku="MS-BASIC",
        term_duration="P1M",
        vendor_product_sku="CFQ7TTC0LH18:0001",
        billing_cycle="Monthly",
    )
    assert gone_facts(remembered) == SubscriptionFacts(
        customer_id="t1",
        subscription_id="S1",
        stock_code="P1M:CFQ7TTC0LH18:0001:1:",
        dicker_stock_code="MS-BASIC",
        description="M365 BASIC",
        status="gone",
        quantity=0,
        annual=False,
    )


def test_a_gone_subscription_whose_link_remembers_nothing_has_no_stock_code():
    facts = gone_facts(link())
    assert (facts.stock_code, facts.description, facts.status) == ("", "S1", "gone")


def test_a_line_maps_its_fields_a_null_quantity_bills_nothing_and_its_invoice_is_its_headers():
    header = invoice(
        {
            "id": 100,
            "client_id": 7,
            "lines": [
                {
                    "id": 31,
                    "_itemid": 50,
                    "qty_order": 2.5,
                    "unit_price": 12.1,
                    "isinactive": True,
                    "quantity_licences": [{"licence_id": 1}, {"licence_id": 2}],
                },
                {"id": 32, "recurring_invoice_id": 100, "qty_order": None},
            ],
        }
    )
    assert [invoice_line(x) for x in header.lines or ()] == [
        InvoiceLine(31, 100, 50, Decimal("2.5"), Decimal("12.1"), True, (1, 2)),
        InvoiceLine(32, 100, None, Decimal(0), None, False, ()),
    ]


def test_invoices_are_kept_by_client_and_other_clients_left_out():
    mine, other, disabled = (
        invoice({"id": 1, "client_id": 7}),
        invoice({"id": 2, "client_id": 8}),
        invoice({"id": 3, "client_id": 7, "disabled": True}),
    )
    assert invoices_by_client([mine, other, disabled], {7}) == {7: [mine, disabled]}


def test_products_carry_their_items_prices_and_an_item_halo_lost_leaves_them_unpriced():
    mappings = [
        ProductMapping(stock_code=ANNUAL, halo_item_id=50, source="generated"),
        ProductMapping(stock_code="P1M:X:0001:1:", halo_item_id=51, source="manual"),
    ]
    items = {50: ItemRecord(50, "Basic", base_price=0.0, recurring_price=8.1)}
    assert priced_products(mappings, items) == {
        ANNUAL: Product(ANNUAL, 50, Decimal("8.1"), Decimal("0.0")),
        "P1M:X:0001:1:": Product("P1M:X:0001:1:", 51, None, None),
    }


def test_a_client_holds_its_invoices_lines_and_every_linked_subscription_of_its_customers():
    world = BillingWorld()
    world.subscriptions["t1"]["S1"] = sub()
    world.subscriptions["t2"]["S3"] = sub("S3", TenantId="t2", ManufacturerStockCode="P1M:X:0001:1:")
    world.subscriptions["t1"]["S9"] = sub("S9")  # not linked: not checked
    remembered = {"name": "Old", "term_duration": "P1Y", "vendor_product_sku": "CFQ7TTC0LH18:0001"}
    world.links["t1"] = [link("S2", 2, **remembered, billing_cycle="Annual"), link("S1", 1)]
    world.links["t2"] = [link("S3", 3, customer="t2")]
    world.licences = {1: LicenceFacts(1, 4)}  # licence 2 and 3: Halo holds none
    world.invoices[7] = [invoice({"id": 100, "client_id": 7, "disabled": True, "lines": [{"id": 31}]})]
    world.products = {ANNUAL: Product(ANNUAL, 50)}
    mappings = [
        Mapping(dicker_customer_id="t2", halo_client_id=7, source="manual"),
        Mapping(dicker_customer_id="t1", halo_client_id=7, source="manual"),
        Mapping(dicker_customer_id="t4", halo_client_id=9, source="manual"),
    ]
    gone = {("t1", "S2"): world.links["t1"][0]}
    first, second = group_clients(mappings, world, gone)
    assert first == ClientBilling(
        7,
        (RecurringInvoice(100, disabled=True),),
        (InvoiceLine(31, 100, None, Decimal(0), None),),
        (
            Subscribed(
                subscription_facts(world.subscriptions["t1"]["S1"]), LicenceFacts(1, 4), Product(ANNUAL, 50)
            ),
            Subscribed(gone_facts(gone["t1", "S2"]), None, Product(ANNUAL, 50)),
            Subscribed(subscription_facts(world.subscriptions["t2"]["S3"]), None, None),
        ),
    )
    assert second == ClientBilling(9, (), (), ())
