"""The billing check is pure: every rule of PRODUCT.md's billing section, point 2, checked here.

The world of the builders: Halo client 7, its active recurring invoice 100, the product mapped to
Item 50 at 12.50 a month, subscription S1 (three seats) linked to licence 1 (count 3)."""

from datetime import date
from decimal import Decimal

from ddhalo.models import BILLING_FIELDS, PackedItems, RunItem, Suggestion
from ddhalo.pipeline.billing.inputs import RecurringInvoice
from ddhalo.pipeline.billing.money import answer_money
from ddhalo.pipeline.billing.plan import CODES, Finding, plan_billing
from ddhalo.pipeline.billing.totals import billing_totals
from tests.unit.builders import client_billing, line, product, subscribed

TODAY = date(2026, 12, 8)
ONE_INVOICE = (RecurringInvoice(100),)


def check(subs, lines=(), invoices=ONE_INVOICE, **options) -> list[Finding]:
    return plan_billing([client_billing(subs, lines, invoices)], today=TODAY, **options)


def one(sub, lines=(), invoices=ONE_INVOICE, **options) -> Finding:
    (finding,) = check([sub], lines, invoices, **options)
    return finding


def seen(finding: Finding) -> tuple:
    """The codes, what is billed, by which lines and the money at stake, in one line."""
    item = finding.item()
    return (item.findings, item.billed_quantity, item.line_ids, item.value_difference)


def numbers(finding: Finding) -> dict:
    """What a billing item answers of its comparison."""
    item = finding.item()
    return {
        "result": item.result,
        "reason_code": item.reason_code,
        "findings": item.findings,
        "dicker_quantity": item.dicker_quantity,
        "halo_count": item.halo_count,
        "billed_quantity": item.billed_quantity,
        "line_ids": item.line_ids,
        "unit_price": item.unit_price,
        "value_difference": item.value_difference,
    }


# ---------------------------------------------------------------------------------- agreeing
def test_all_three_agree_is_unchanged_and_answers_every_billing_field():
    item = one(subscribed(), [line(31, 3, 1)]).item()
    assert item.model_dump(mode="json") == {
        "type": "subscription",
        "dicker_id": "S1",
        "halo_id": 1,
        "result": "unchanged",
        "reason": None,
        "reason_code": None,
        "suggestions": [],
        "create_when_similar_creates": False,
        "shares_name_with": [],
        "name": "Product S1",
        "customer_id": "t1",
        "changes": [],
        "hint": None,
        "occurrence": 0,
        "duplicate_ids": [],
        "stock_code": "P1M:CFQ7TTC0LH18:0001:M:",
        "dicker_quantity": 3,
        "halo_count": 3,
        "billed_quantity": 3,
        "line_ids": [31],
        "unit_price": 12.5,
        "value_difference": 0.0,
        "findings": [],
    }
    assert '"dicker_quantity":3,"halo_count":3,"billed_quantity":3,' in item.model_dump_json()  # not 3.0


def test_an_item_that_is_not_a_billing_item_answers_as_before():
    """Without the billing fields: every answer of customers and subscriptions stays as it was."""
    item = RunItem(
        type="customer",
        dicker_id="t1",
        result="skipped",
        suggestions=[Suggestion(halo_client_id=1, halo_client_name="A")],
    )
    answer = item.model_dump(mode="json")
    assert list(answer) == [n for n in RunItem.model_fields if n not in BILLING_FIELDS]
    assert answer["suggestions"] == [{"halo_client_id": 1, "halo_client_name": "A"}]


def test_a_billing_item_survives_packing_with_its_nulls():
    item = one(subscribed(unmapped=True, status="cancelled")).item()
    (pack,) = PackedItems.pack([item])
    assert PackedItems.unpack(pack.data) == [item]
    assert item.billed_quantity is None and item.findings == ["no_product"]


# ---------------------------------------------------------------------------------- each code
def test_unbilled_active_subscription_priced_at_the_items_recurring_price():
    finding = one(subscribed())
    assert numbers(finding) == {
        "result": "skipped",
        "reason_code": "unbilled",
        "findings": ["unbilled"],
        "dicker_quantity": 3,
        "halo_count": 3,
        "billed_quantity": 0,
        "line_ids": [],
        "unit_price": 12.5,
        "value_difference": 37.5,
    }
    assert finding.reason == (
        "Dicker Data charges 3 and no active recurring invoice line bills it: add a line for Halo item #50 "
        "(POST /billing/fix)."
    )


def test_unbilled_takes_the_base_price_when_the_recurring_price_is_null_or_zero():
    for recurring in (None, "0"):
        finding = one(subscribed(mapped=product(recurring=recurring, base="9.99")))
        assert (finding.item().unit_price, finding.item().value_difference) == (9.99, 29.97)


def test_under_billed_reports_the_money_not_billed_a_month():
    finding = one(subscribed(), [line(31, 2, 1)])
    assert numbers(finding) | {"reason": finding.reason} == {
        "result": "skipped",
        "reason_code": "under_billed",
        "findings": ["under_billed"],
        "dicker_quantity": 3,
        "halo_count": 3,
        "billed_quantity": 2,
        "line_ids": [31],
        "unit_price": 12.5,
        "value_difference": 12.5,
        "reason": "Dicker Data charges 3, recurring invoice line #31 bills 2 (12.50 a month unbilled): "
        "set the quantity to what Dicker Data charges (POST /billing/fix).",
    }


def test_over_billed_is_a_negative_difference():
    finding = one(subscribed(), [line(31, 5, 1)])
    assert (finding.findings, finding.item().value_difference) == (["over_billed"], -25.0)
    assert "(25.00 a month billed too much)" in (finding.reason or "")


def test_billed_after_cancel_for_a_cancelled_or_gone_subscription_still_billed():
    for status in ("cancelled", "gone"):
        finding = one(subscribed(status=status), [line(31, 3, 1)])
        assert numbers(finding) == {
            "result": "skipped",
            "reason_code": "billed_after_cancel",
            "findings": ["billed_after_cancel"],
            "dicker_quantity": 0,
            "halo_count": 3,
            "billed_quantity": 3,
            "line_ids": [31],
            "unit_price": 12.5,
            "value_difference": -37.5,
        }


def test_no_product_when_unmapped_and_no_line_links_the_licence():
    finding = one(subscribed(unmapped=True, status="cancelled"))
    assert numbers(finding) | {"reason": finding.reason} == {
        "result": "skipped",
        "reason_code": "no_product",
        "findings": ["no_product"],
        "dicker_quantity": 0,
        "halo_count": 3,
        "billed_quantity": None,
        "line_ids": [],
        "unit_price": None,
        "value_difference": None,
        "reason": "Stock code P1M:CFQ7TTC0LH18:0001:M: is not mapped to a Halo item and no line links its "
        "licence: map it (POST /products) so the check knows which item bills it.",
    }


def test_an_unmapped_product_whose_line_links_the_licence_is_checked_by_that_line():
    finding = one(subscribed(unmapped=True), [line(31, 3, 1, item_id=99)])
    assert (finding.findings, finding.item().billed_quantity, finding.item().unit_price) == ([], 3, 12.5)


def test_an_active_unmapped_subscription_no_line_links_is_no_product_not_unbilled():
    # Which Item would bill it is unknown (billed_quantity null), so nothing is known to leave it
    # unbilled: the sample world's EXPECTED (local/fakes/sample_billing.py) says so too.
    finding = one(subscribed(unmapped=True))
    assert (finding.reason_code, finding.findings) == ("no_product", ["no_product"])
    assert (finding.item().billed_quantity, finding.item().value_difference) == (None, None)


def test_licence_count_differs_for_an_active_subscription():
    finding = one(subscribed(licence=(1, 4)), [line(31, 3, 1)])
    assert (finding.findings, finding.item().halo_count) == (["licence_count_differs"], 4)
    assert (
        finding.reason
        == "Halo's licence #1 counts 4 where Dicker Data confirms 3: the next sync corrects it."
    )


def test_licence_count_differs_when_halo_holds_no_licence():
    finding = one(subscribed(licence=None), [line(31, 3)])
    item = finding.item()
    assert (finding.findings, item.halo_count, item.halo_id) == (["licence_count_differs"], None, None)


# ---------------------------------------------------------------------------------- what bills
def test_a_cancelled_subscription_agrees_when_nothing_bills_it_whatever_its_licence_count():
    finding = one(subscribed(licence=(1, 3), status="cancelled"), [line(31, 3, 1, inactive=True)])
    assert numbers(finding)["findings"] == [] and finding.item().result == "unchanged"
    assert finding.item().billed_quantity == 0


def test_an_inactive_line_bills_nothing():
    finding = one(subscribed(), [line(31, 3, 1, inactive=True)])
    assert seen(finding) == (["unbilled"], 0, [], 37.5)


def test_an_active_subscription_of_no_seats_billed_by_nothing_agrees():
    finding = one(subscribed(quantity=0, licence=(1, 0)))
    assert seen(finding) == ([], 0, [], 0.0) and finding.item().result == "unchanged"


def test_an_inactive_unlinked_line_of_the_item_bills_nothing():
    finding = one(subscribed(), [line(31, 3, inactive=True)])
    assert seen(finding) == (["unbilled"], 0, [], 37.5)


def test_a_line_of_a_disabled_invoice_bills_nothing():
    invoices = (RecurringInvoice(100, disabled=True), RecurringInvoice(200))
    finding = one(subscribed(), [line(31, 3, 1)], invoices)
    assert (finding.findings, finding.item().billed_quantity) == (["unbilled"], 0)


def test_active_lines_linking_the_licence_are_summed():
    finding = one(
        subscribed(quantity=5, licence=(1, 5)),
        [line(31, 2, 1), line(32, 3, 1, invoice_id=200)],
        (RecurringInvoice(100), RecurringInvoice(200)),
    )
    assert (finding.findings, finding.item().billed_quantity, finding.item().line_ids) == ([], 5, [31, 32])


def test_where_no_line_links_the_licence_the_items_unlinked_lines_bill_it():
    lines = [line(31, 3), line(32, 9, item_id=51), line(33, 9, 2)]  # another Item; linking licence 2
    finding = one(subscribed(), lines)
    assert (finding.findings, finding.item().billed_quantity, finding.item().line_ids) == ([], 3, [31])


def test_a_line_linking_the_licence_wins_over_the_items_unlinked_lines():
    finding = one(subscribed(), [line(31, 3), line(32, 2, 1)])
    assert (finding.findings, finding.item().line_ids) == (["under_billed"], [32])


def test_a_fractional_quantity_is_answered_as_it_is():
    finding = one(subscribed(), [line(31, "2.5", 1)])
    assert (finding.item().billed_quantity, finding.item().value_difference) == (2.5, 6.25)


def test_lines_at_different_prices_leave_the_price_and_the_difference_unknown():
    lines = [line(31, 1, 1), line(32, 1, 1, unit_price=Decimal("10"))]
    finding = one(subscribed(), lines)
    assert seen(finding) == (["under_billed"], 2, [31, 32], None) and finding.item().unit_price is None


def test_money_is_rounded_to_cents_half_up():
    finding = one(subscribed(quantity=1, licence=(1, 1)), [line(31, 0, 1, unit_price=Decimal("0.125"))])
    assert (finding.item().unit_price, finding.item().value_difference) == (0.13, 0.13)


# ---------------------------------------------------------------------------------- shared lines
def test_ambiguous_line_compares_the_sharers_sum_with_the_items_unlinked_lines():
    subs = [subscribed("S1", (1, 3)), subscribed("S2", (2, 2), quantity=2)]
    s1, s2 = check(subs, [line(31, 5)])
    for finding in (s1, s2):
        assert seen(finding) == (["ambiguous_line"], 5, [31], 0.0)
    assert s1.reason == (
        "It shares line #31 of this product with S2, and the line links no licence, so what bills which "
        "is unknown: together Dicker Data charges 5, recurring invoice line #31 bills 5. Link each line to "
        "its licence in Halo to check them one by one."
    )


def test_ambiguous_line_whose_sum_differs_is_reported_as_ambiguous_not_under_billed_on_each():
    # Which sharer the line bills too little is unknown: the sum's difference is the finding.
    subs = [subscribed("S1", (1, 3)), subscribed("S2", (2, 2), quantity=2)]
    s1, s2 = check(subs, [line(31, 4)])
    assert s1.findings == s2.findings == ["ambiguous_line"]
    assert s1.item().value_difference == s2.item().value_difference == 12.5
    assert "together Dicker Data charges 5, recurring invoice line #31 bills 4" in (s1.reason or "")


def test_a_cancelled_sibling_leaves_the_items_lines_to_the_active_one():
    subs = [subscribed("S1", (1, 3)), subscribed("S2", (2, 2), status="cancelled")]
    s1, s2 = check(subs, [line(31, 3)])
    assert (s1.findings, s1.item().line_ids, s2.findings, s2.item().line_ids) == ([], [31], [], [])


def test_cancelled_sharers_of_lines_still_billed_are_billed_after_cancel():
    subs = [subscribed("S1", (1, 3), status="cancelled"), subscribed("S2", (2, 2), status="gone")]
    s1, s2 = check(subs, [line(31, 4)])
    assert s1.findings == s2.findings == ["billed_after_cancel", "ambiguous_line"]


# ---------------------------------------------------------------------------------- renewal
def test_renewal_due_from_today_up_to_the_warning_days_both_included():
    due = {
        days: one(
            subscribed(annual=True, end_date=date.fromordinal(TODAY.toordinal() + days)), [line(31, 3, 1)]
        ).findings
        for days in (-1, 0, 30, 31)
    }
    assert due == {-1: [], 0: ["renewal_due"], 30: ["renewal_due"], 31: []}


def test_renewal_warning_days_is_a_parameter():
    sub = subscribed(annual=True, end_date=date(2026, 12, 18))
    assert one(sub, [line(31, 3, 1)], renewal_warning_days=9).findings == []
    assert one(sub, [line(31, 3, 1)], renewal_warning_days=10).findings == ["renewal_due"]


def test_no_renewal_for_a_monthly_term_or_a_cancelled_subscription():
    ends = date(2026, 12, 10)
    assert one(subscribed(annual=False, end_date=ends), [line(31, 3, 1)]).findings == []
    assert one(subscribed(annual=True, end_date=ends, status="cancelled")).findings == []


# ---------------------------------------------------------------------------------- order
def test_reason_code_is_the_first_in_the_specs_order_and_findings_list_every_code():
    sub = subscribed(licence=(1, 7), annual=True, end_date=date(2026, 12, 20))
    finding = one(sub, [line(31, 2, 1)])
    assert finding.reason_code == "under_billed"
    assert finding.findings == ["under_billed", "licence_count_differs", "renewal_due"]
    assert finding.reason == (
        "Dicker Data charges 3, recurring invoice line #31 bills 2 (12.50 a month unbilled): set the "
        "quantity to what Dicker Data charges (POST /billing/fix). Halo's licence #1 counts 7 where Dicker "
        "Data confirms 3: the next sync corrects it. Its annual term ends on 2026-12-20: renew, change or "
        "cancel it in Dicker Data before then."
    )


def test_the_codes_in_the_specs_order():
    order = "billed_after_cancel unbilled under_billed over_billed ambiguous_line no_product"
    assert (*order.split(), "licence_count_differs", "renewal_due") == CODES


def test_one_finding_per_subscription_of_every_client_in_order():
    first = client_billing([subscribed("S1"), subscribed("S2", (2, 3))], [line(31, 3, 1)])
    second = client_billing([subscribed("S3", (3, 3))], client_id=8)
    found = plan_billing([first, second], today=TODAY)
    assert [(f.halo_client_id, f.facts.subscription_id, f.findings) for f in found] == [
        (7, "S1", []),
        (7, "S2", ["unbilled"]),
        (8, "S3", ["unbilled"]),
    ]


# ---------------------------------------------------------------------------------- totals
def test_totals_sum_the_positive_and_the_negative_differences_and_count_every_code():
    subs = [
        subscribed("S1", (1, 3)),  # under by 1: +12.50
        subscribed("S2", (2, 3)),  # unbilled: +37.50
        subscribed("S3", (3, 3)),  # over by 2: -25.00
        subscribed("S4", (4, 3), status="cancelled"),  # billed after cancel: -37.50
        subscribed("S5", (5, 4)),  # agrees, but the licence says 4
        subscribed("S6", (6, 3), unmapped=True, status="cancelled"),  # unknown: no money
    ]
    lines = [line(31, 2, 1), line(33, 5, 3), line(34, 3, 4), line(35, 3, 5)]
    assert billing_totals(f.item() for f in check(subs, lines)) == {
        "under_billed_value": 50.0,
        "over_billed_value": 62.5,
        "findings": {
            "billed_after_cancel": 1,
            "unbilled": 1,
            "under_billed": 1,
            "over_billed": 1,
            "no_product": 1,
            "licence_count_differs": 1,
        },
    }


def test_totals_count_the_difference_of_shared_lines_once():
    subs = [subscribed("S1", (1, 3)), subscribed("S2", (2, 2), quantity=2)]
    items = [f.item() for f in check(subs, [line(31, 4)])]
    assert billing_totals(items) == {
        "under_billed_value": 12.5,
        "over_billed_value": 0.0,
        "findings": {"ambiguous_line": 2},
    }


def test_totals_of_nothing_are_zero():
    assert billing_totals([]) == {"under_billed_value": 0.0, "over_billed_value": 0.0, "findings": {}}


def test_answer_money_is_none_when_unknown():
    assert (answer_money(None), answer_money(Decimal("1.005"))) == (None, 1.01)
