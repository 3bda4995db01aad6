"""Billing, fix plan: what the billing fix writes for the check's findings. Pure.

For a finding with a mapped product: ``unbilled`` adds a line for the product's Item to the
client's active recurring invoice, its quantity linked to the licence; ``under_billed`` /
``over_billed`` set the billing line's ``qty_order``; ``billed_after_cancel`` makes the line
inactive. A price on an existing line is never changed, nothing is deleted. Adding a line is held
where the client has no active recurring invoice, or several, unless one is chosen; changes to
existing lines are never held. A finding it cannot fix (no product, lines shared by several
subscriptions or licences, no licence to link) is not one of its actions: the check reports it.

A line it adds carries the subscription id in ``comment_1``: a lost answer is looked for by it
before the line is sent again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ddhalo.models import RESULT_OF, RunItem, Suggestion
from ddhalo.pipeline.billing.inputs import ClientBilling, InvoiceLine, RecurringInvoice
from ddhalo.pipeline.billing.money import cents, shown
from ddhalo.pipeline.billing.plan import Finding

NO_INVOICE = "no_recurring_invoice"
SEVERAL_INVOICES = "ambiguous_recurring_invoice"


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line to add: the Item, the seats Dicker Data charges, the Item's price, linked to the
    licence, marked with the subscription id (``comment_1``)."""

    recurring_invoice_id: int
    item_id: int
    qty_order: int
    unit_price: Decimal | None
    licence_id: int
    subscription_id: str

    def to_wire(self) -> dict[str, Any]:
        """``POST /RecurringInvoice/updatelines`` entry (no ``id``: added). No price: the Item's
        default stands."""
        line: dict[str, Any] = {
            "recurring_invoice_id": self.recurring_invoice_id,
            "_itemid": self.item_id,
            "qty_order": self.qty_order,
            "quantity_licences": [{"licence_id": self.licence_id}],
            "comment_1": self.subscription_id,
        }
        if self.unit_price is not None:
            line["unit_price"] = float(cents(self.unit_price))
        return line


@dataclass(frozen=True, slots=True)
class LinePatch:
    """A change to an existing line: its quantity, or made inactive. Never its price."""

    line_id: int
    recurring_invoice_id: int
    qty_order: int | None = None
    inactive: bool = False

    def to_wire(self) -> dict[str, Any]:
        line: dict[str, Any] = {"id": self.line_id, "recurring_invoice_id": self.recurring_invoice_id}
        if self.qty_order is not None:
            line["qty_order"] = self.qty_order
        if self.inactive:
            line["isinactive"] = True
        return line


@dataclass(slots=True)
class FixAction:
    """What the fix does for one finding: add a line, change lines, or hold (``skip``)."""

    action: Literal["create", "update", "skip"]
    finding: Finding
    new_line: NewLine | None = None
    patches: tuple[LinePatch, ...] = ()
    reason: str = ""
    reason_code: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        values: dict[str, Any] = {
            "reason": self.reason,
            "reason_code": self.reason_code,
            "suggestions": self.suggestions,
            "changes": self.changes,
        }
        return self.finding.item(result or RESULT_OF[self.action], **(values | overrides))


def plan_fix(
    clients: Sequence[ClientBilling],
    findings: Sequence[Finding],
    *,
    subscription_ids: Collection[str] | None = None,
    recurring_invoice_ids: Mapping[int, int] | None = None,
) -> list[FixAction]:
    """One action per chosen finding the fix can act on, in the findings' order."""
    invoices = {client.halo_client_id: client.invoices for client in clients}
    chosen = recurring_invoice_ids or {}
    actions: list[FixAction] = []
    for finding in findings:
        if subscription_ids is not None and finding.facts.subscription_id not in subscription_ids:
            continue
        action = _fix(finding, invoices.get(finding.halo_client_id, ()), chosen.get(finding.halo_client_id))
        if action is not None:
            actions.append(action)
    return actions


def _fix(finding: Finding, invoices: Sequence[RecurringInvoice], chosen: int | None) -> FixAction | None:
    if finding.product is None or "ambiguous_line" in finding.findings:
        return None
    code = finding.reason_code
    if code == "unbilled":
        return _add_line(finding, invoices, chosen)
    if code in ("under_billed", "over_billed"):
        return _set_quantity(finding)
    if code == "billed_after_cancel":
        return _make_inactive(finding)
    return None


def _own_lines(finding: Finding) -> list[InvoiceLine] | None:
    """The billing lines, when they bill this subscription alone (they link no other licence)."""
    licence = finding.subscribed.licence
    own = {licence.id} if licence is not None else set()
    lines = list(finding.basis.lines)
    return lines if lines and all(set(line.licence_ids) <= own for line in lines) else None


def _set_quantity(finding: Finding) -> FixAction | None:
    lines = _own_lines(finding)
    if lines is None or len(lines) != 1:
        return None  # which of several lines should change is for a person to say
    (line,) = lines
    quantity = finding.dicker_quantity
    return FixAction(
        "update",
        finding,
        patches=(LinePatch(line.id, line.invoice_id, qty_order=quantity),),
        reason=f"Sets line #{line.id}'s quantity from {shown(line.qty_order)} to {quantity}.",
        reason_code=finding.reason_code,
        changes=["qty_order"],
    )


def _make_inactive(finding: Finding) -> FixAction | None:
    lines = _own_lines(finding)
    if lines is None:
        return None
    named = ("line " if len(lines) == 1 else "lines ") + ", ".join(f"#{line.id}" for line in lines)
    return FixAction(
        "update",
        finding,
        patches=tuple(LinePatch(line.id, line.invoice_id, inactive=True) for line in lines),
        reason=f"Makes {named} inactive: the subscription is {finding.facts.status}. Nothing is deleted.",
        reason_code=finding.reason_code,
        changes=["isinactive"],
    )


def _add_line(finding: Finding, invoices: Sequence[RecurringInvoice], chosen: int | None) -> FixAction | None:
    licence, product = finding.subscribed.licence, finding.product
    if licence is None or product is None:
        return None  # no licence for the line's quantity to follow yet: the next sync creates it
    active = [invoice for invoice in invoices if not invoice.disabled]
    target = _invoice_for(active, chosen)
    if target is None:
        return _held(finding, invoices, active, chosen)
    line = NewLine(
        target,
        product.halo_item_id,
        finding.dicker_quantity,
        product.price,
        licence.id,
        finding.facts.subscription_id,
    )
    price = f" at {cents(product.price)}" if product.price is not None else ""
    return FixAction(
        "create",
        finding,
        new_line=line,
        reason=(
            f"Adds a line for Halo item #{product.halo_item_id} to recurring invoice #{target}: "
            f"{line.qty_order}{price} a month, its quantity linked to licence #{licence.id}."
        ),
        reason_code=finding.reason_code,
        changes=["line"],
    )


def _invoice_for(active: list[RecurringInvoice], chosen: int | None) -> int | None:
    """The chosen invoice when it is one of the client's active ones; else the only active one."""
    ids = [invoice.id for invoice in active]
    if chosen is not None:
        return chosen if chosen in ids else None
    return ids[0] if len(ids) == 1 else None


def _held(
    finding: Finding, invoices: Sequence[RecurringInvoice], active: list[RecurringInvoice], chosen: int | None
) -> FixAction:
    client = finding.halo_client_id
    code = NO_INVOICE if not active else SEVERAL_INVOICES
    if chosen is not None:
        why = f"Recurring invoice #{chosen}, chosen for Halo client #{client}, is not one of its active ones."
    elif not active:
        why = f"Halo client #{client} has no active recurring invoice to add the line to."
    else:
        named = ", ".join(f"#{invoice.id}" for invoice in active)
        why = f"Halo client #{client} has {len(active)} active recurring invoices ({named})."
    return FixAction(
        "skip",
        finding,
        reason=(
            f"Held: {why} Choose one with recurring_invoice_ids "
            f'{{"{client}": <id>}} (or create one in Halo), then fix again.'
        ),
        reason_code=code,
        suggestions=[_suggestion(invoice, client) for invoice in invoices],
    )


def _suggestion(invoice: RecurringInvoice, client: int) -> Suggestion:
    words = f"Recurring invoice #{invoice.id}" + (" (disabled)" if invoice.disabled else "")
    return Suggestion(halo_client_id=client, halo_client_name=words, recurring_invoice_id=invoice.id)
