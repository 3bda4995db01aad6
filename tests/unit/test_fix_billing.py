"""The billing fix's plan is pure: PRODUCT.md's billing section, point 3, checked here.

The builders' world: Halo client 7 with active recurring invoice 100, Item 50 at 12.50 a month,
subscription S1 (three seats) linked to licence 1."""

from datetime import date
from decimal import Decimal

from ddhalo.models import PackedItems
from ddhalo.pipeline.billing.fix import FixAction, LinePatch, NewLine, plan_fix
from ddhalo.pipeline.billing.inputs import RecurringInvoice, decimal_of
from ddhalo.pipeline.billing.plan import plan_billing
from tests.unit.builders import client_billing, line, product, subscribed

ONE_INVOICE = (RecurringInvoice(100),)


def fix(subs, lines=(), invoices=ONE_INVOICE, **options) -> list[FixAction]:
    clients = [client_billing(subs, lines, invoices)]
    return plan_fix(clients, plan_billing(clients, today=date(2026, 12, 8)), **options)


def one(sub, lines=(), invoices=ONE_INVOICE, **options) -> FixAction:
    (action,) = fix([sub], lines, invoices, **options)
    return action


# ---------------------------------------------------------------------------------- unbilled
def test_unbilled_adds_a_linked_line_marked_with_the_subscription_id():
    action = one(subscribed())
    assert (action.action, action.patches, action.changes) == ("create", (), ["line"])
    assert action.new_line == NewLine(100, 50, 3, product().price, 1, "S1")
    assert action.new_line.to_wire() == {
        "recurring_invoice_id": 100,
        "_itemid": 50,
        "qty_order": 3,
        "unit_price": 12.5,
        "quantity_licences": [{"licence_id": 1}],
        "comment_1": "S1",
    }
    item = action.item()
    assert (item.result, item.reason_code, item.reason) == (
        "created",
        "unbilled",
        "Adds a line for Halo item #50 to recurring invoice #100: 3 at 12.50 a month, its quantity linked "
        "to licence #1.",
    )


def test_an_added_line_takes_the_base_price_when_the_recurring_price_is_null_or_zero():
    for recurring in (None, "0"):
        action = one(subscribed(mapped=product(recurring=recurring, base="9.99")))
        assert action.new_line is not None and action.new_line.to_wire()["unit_price"] == 9.99


def test_a_price_halo_answers_as_a_double_is_the_decimal_it_prints():
    assert (decimal_of(12.1), decimal_of(3), decimal_of(None)) == (Decimal("12.1"), Decimal(3), None)
    action = one(subscribed(mapped=product(recurring="12.1")))
    assert action.new_line is not None and action.new_line.to_wire()["unit_price"] == 12.1


def test_an_added_line_of_an_item_without_price_leaves_halos_default():
    action = one(subscribed(mapped=product(recurring=None, base=None)))
    assert action.new_line is not None and "unit_price" not in action.new_line.to_wire()


def test_no_active_recurring_invoice_holds_the_line_with_the_invoices_as_suggestions():
    action = one(subscribed(), invoices=(RecurringInvoice(100, disabled=True),))
    item = action.item()
    assert (action.action, action.new_line, item.result, item.reason_code) == (
        "skip",
        None,
        "skipped",
        "no_recurring_invoice",
    )
    assert [s.model_dump() for s in item.suggestions] == [
        {
            "halo_client_id": 7,
            "halo_client_name": "Recurring invoice #100 (disabled)",
            "recurring_invoice_id": 100,
        }
    ]
    assert item.reason == (
        "Held: Halo client #7 has no active recurring invoice to add the line to. Choose one with "
        'recurring_invoice_ids {"7": <id>} (or create one in Halo), then fix again.'
    )


def test_an_invoice_suggestion_survives_packing():
    item = one(subscribed(), invoices=(RecurringInvoice(100), RecurringInvoice(200))).item()
    (pack,) = PackedItems.pack([item])
    assert PackedItems.unpack(pack.data) == [item]
    assert [s.recurring_invoice_id for s in item.suggestions] == [100, 200]


def test_a_client_without_recurring_invoices_is_held_without_suggestions():
    action = one(subscribed(), invoices=())
    assert (action.reason_code, action.suggestions) == ("no_recurring_invoice", [])


def test_several_active_recurring_invoices_hold_the_line():
    action = one(subscribed(), invoices=(RecurringInvoice(100), RecurringInvoice(200)))
    assert (action.action, action.reason_code) == ("skip", "ambiguous_recurring_invoice")
    assert [s.recurring_invoice_id for s in action.suggestions] == [100, 200]
    assert action.reason.startswith("Held: Halo client #7 has 2 active recurring invoices (#100, #200).")


def test_recurring_invoice_ids_chooses_the_invoice_for_that_client():
    invoices = (RecurringInvoice(100), RecurringInvoice(200))
    action = one(subscribed(), invoices=invoices, recurring_invoice_ids={7: 200})
    assert action.action == "create" and action.new_line is not None
    assert action.new_line.recurring_invoice_id == 200
    assert one(subscribed(), invoices=invoices, recurring_invoice_ids={8: 200}).action == "skip"


def test_a_choice_that_is_not_an_active_invoice_of_the_client_is_held():
    invoices = (RecurringInvoice(100), RecurringInvoice(200, disabled=True))
    for chosen in (200, 999):
        action = one(subscribed(), invoices=invoices, recurring_invoice_ids={7: chosen})
        assert (action.action, action.reason_code) == ("skip", "ambiguous_recurring_invoice")
        assert action.reason.startswith(
            f"Held: Recurring invoice #{chosen}, chosen for Halo client #7, is not one of its active ones."
        )


# ---------------------------------------------------------------------------------- existing lines
def test_under_billed_sets_the_lines_quantity_and_never_its_price():
    action = one(subscribed(), [line(31, 2, 1)])
    assert (action.action, action.new_line, action.changes) == ("update", None, ["qty_order"])
    assert action.patches == (LinePatch(31, 100, qty_order=3),)
    assert action.patches[0].to_wire() == {"id": 31, "recurring_invoice_id": 100, "qty_order": 3}
    item = action.item()
    assert (item.result, item.reason_code, item.reason) == (
        "updated",
        "under_billed",
        "Sets line #31's quantity from 2 to 3.",
    )


def test_over_billed_sets_the_quantity_of_an_unlinked_line_billing_it_alone():
    action = one(subscribed(), [line(31, 5)])
    assert (action.action, action.patches) == ("update", (LinePatch(31, 100, qty_order=3),))


def test_billed_after_cancel_makes_every_line_billing_it_inactive():
    sub = subscribed(status="cancelled")
    action = one(sub, [line(31, 2, 1), line(32, 1, 1)])
    assert action.patches == (LinePatch(31, 100, inactive=True), LinePatch(32, 100, inactive=True))
    assert action.patches[0].to_wire() == {"id": 31, "recurring_invoice_id": 100, "isinactive": True}
    assert (action.action, action.changes, action.reason) == (
        "update",
        ["isinactive"],
        "Makes lines #31, #32 inactive: the subscription is cancelled. Nothing is deleted.",
    )


def test_changes_to_existing_lines_are_never_held():
    invoices = (RecurringInvoice(100), RecurringInvoice(200))
    assert one(subscribed(), [line(31, 2, 1)], invoices).action == "update"


# ---------------------------------------------------------------------------------- not its items
def test_findings_the_fix_cannot_act_on_are_not_its_items():
    cases = {
        "unchanged": ([subscribed()], [line(31, 3, 1)]),
        "no product": ([subscribed(unmapped=True)], [line(31, 2, 1)]),
        "no product, unbilled": ([subscribed(unmapped=True)], []),
        "licence count only": ([subscribed(licence=(1, 9))], [line(31, 3, 1)]),
        "shared unlinked line": ([subscribed("S1"), subscribed("S2", (2, 3))], [line(31, 4)]),
        "several lines": ([subscribed()], [line(31, 1, 1), line(32, 1, 1)]),
        "line linking another licence": ([subscribed()], [line(31, 2, 1, 9)]),
        "no licence to link": ([subscribed(licence=None)], []),
    }
    assert {name: fix(subs, lines) for name, (subs, lines) in cases.items()} == {name: [] for name in cases}


def test_subscription_ids_choose_the_findings_to_fix():
    subs = [subscribed("S1"), subscribed("S2", (2, 3))]
    assert [a.finding.facts.subscription_id for a in fix(subs)] == ["S1", "S2"]
    assert [a.finding.facts.subscription_id for a in fix(subs, subscription_ids=["S2"])] == ["S2"]


def test_a_fix_item_answers_the_findings_numbers():
    item = one(subscribed(), [line(31, 2, 1)]).item()
    assert (
        item.dicker_quantity,
        item.billed_quantity,
        item.line_ids,
        item.value_difference,
        item.findings,
    ) == (
        3,
        2,
        [31],
        12.5,
        ["under_billed"],
    )
