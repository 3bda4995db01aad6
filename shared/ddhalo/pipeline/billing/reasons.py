"""Billing, reasons: each finding in words a person can act on (what differs, what to do).

An item's ``reason`` says every code that applies, its ``reason_code`` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ddhalo.pipeline.billing.money import cents, shown

if TYPE_CHECKING:
    from ddhalo.pipeline.billing.plan import Finding


def reason_of(finding: Finding) -> str:
    return " ".join(_SENTENCES[code](finding) for code in finding.findings)


FIX = "set the quantity to what Dicker Data charges (POST /billing/fix)."


def _lines(finding: Finding) -> str:
    ids = [f"#{line.id}" for line in finding.basis.lines]
    return ("line " if len(ids) == 1 else "lines ") + ", ".join(ids)


def _lines_bill(finding: Finding) -> str:
    """``line #31 bills 3`` / ``lines #31, #32 bill 5``."""
    verb = "bills" if len(finding.basis.lines) == 1 else "bill"
    return f"recurring invoice {_lines(finding)} {verb} {_billed(finding)}"


def _it(finding: Finding) -> str:
    return "it" if len(finding.basis.lines) == 1 else "them"


def _billed(finding: Finding) -> str:
    return shown(finding.billed_quantity or 0)


def _wanted(finding: Finding) -> str:
    """What Dicker Data charges, of this subscription or of its sharers together."""
    wanted = finding.basis.wanted(finding.subscribed)
    return f"together {wanted}" if finding.basis.ambiguous else str(wanted)


def _billed_after_cancel(finding: Finding) -> str:
    status = "cancelled in" if finding.facts.status == "cancelled" else "no longer answered by"
    fix = f"make {_it(finding)} inactive (POST /billing/fix)."
    return f"It is {status} Dicker Data, but {_lines_bill(finding)}: {fix}"


def _unbilled(finding: Finding) -> str:
    product = finding.product
    if product is None:
        return f"Dicker Data charges {finding.dicker_quantity} and no active recurring invoice line bills it."
    return (
        f"Dicker Data charges {finding.dicker_quantity} and no active recurring invoice line bills it: "
        f"add a line for Halo item #{product.halo_item_id} (POST /billing/fix)."
    )


def _quantity_differs(finding: Finding) -> str:
    """``under_billed`` and ``over_billed``: the numbers say which."""
    return f"Dicker Data charges {_wanted(finding)}, {_lines_bill(finding)}{_money(finding)}: {FIX}"


def _money(finding: Finding) -> str:
    value = finding.value_difference
    if value is None or value == 0:
        return ""
    side = "unbilled" if value > 0 else "billed too much"
    return f" ({cents(abs(value))} a month {side})"


def _ambiguous_line(finding: Finding) -> str:
    others = [s.facts.subscription_id for s in finding.basis.sharers if s is not finding.subscribed]
    link = "the line links" if len(finding.basis.lines) == 1 else "the lines link"
    return (
        f"It shares {_lines(finding)} of this product with {', '.join(others)}, and {link} "
        f"no licence, so what bills which is unknown: together Dicker Data charges "
        f"{finding.basis.wanted(finding.subscribed)}, {_lines_bill(finding)}. "
        "Link each line to its licence in Halo to check them one by one."
    )


def _no_product(finding: Finding) -> str:
    return (
        f"Stock code {finding.facts.stock_code} is not mapped to a Halo item and no line links its "
        "licence: map it (POST /products) so the check knows which item bills it."
    )


def _licence_count_differs(finding: Finding) -> str:
    licence = finding.subscribed.licence
    if licence is None:
        return "Halo holds no licence for it: the next sync creates it."
    return (
        f"Halo's licence #{licence.id} counts {licence.count} where Dicker Data confirms "
        f"{finding.facts.quantity}: the next sync corrects it."
    )


def _renewal_due(finding: Finding) -> str:
    return (
        f"Its annual term ends on {finding.facts.end_date}: renew, change or cancel it in Dicker "
        "Data before then."
    )


_SENTENCES: dict[str, Callable[[Finding], str]] = {
    "billed_after_cancel": _billed_after_cancel,
    "unbilled": _unbilled,
    "under_billed": _quantity_differs,
    "over_billed": _quantity_differs,
    "ambiguous_line": _ambiguous_line,
    "no_product": _no_product,
    "licence_count_differs": _licence_count_differs,
    "renewal_due": _renewal_due,
}
