"""Billing, totals: the run's ``billing`` answer, summed from its items.

From the items (not the findings) so that a run summed chunk by chunk, or read back from its
stored items, answers the same: the money is the items' own, in cents, so the totals are what a
person adding up the CSV gets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ddhalo.models import RunItem
from ddhalo.pipeline.billing.money import answer_money
from ddhalo.pipeline.billing.plan import CODES


@dataclass
class BillingTotals:
    under_billed_value: Decimal = Decimal(0)  # the positive differences: billed too little
    over_billed_value: Decimal = Decimal(0)  # the negative ones, as a positive sum
    findings: Counter[str] = field(default_factory=Counter)  # every code of every item
    # Lines shared by several subscriptions (``ambiguous_line``) carry their difference on each
    # sharer's item: counted once per set of lines.
    counted_lines: set[tuple[int, ...]] = field(default_factory=set)

    def add(self, item: RunItem) -> None:
        self.findings.update(item.findings or ())
        if item.value_difference is None or not self._first_of_its_lines(item):
            return
        value = Decimal(str(item.value_difference))
        if value > 0:
            self.under_billed_value += value
        else:
            self.over_billed_value -= value

    def _first_of_its_lines(self, item: RunItem) -> bool:
        if "ambiguous_line" not in (item.findings or ()):
            return True
        lines = tuple(sorted(item.line_ids))
        if lines in self.counted_lines:
            return False
        self.counted_lines.add(lines)
        return True

    def answer(self) -> dict[str, Any]:
        return {
            "under_billed_value": answer_money(self.under_billed_value),
            "over_billed_value": answer_money(self.over_billed_value),
            "findings": {code: self.findings[code] for code in CODES if self.findings[code]},
        }


def billing_totals(items: Iterable[RunItem]) -> dict[str, Any]:
    """``{"under_billed_value", "over_billed_value", "findings": {code: count}}``."""
    totals = BillingTotals()
    for item in items:
        totals.add(item)
    return totals.answer()
