"""Billing, money as the API answers it: ``Decimal`` inside, a JSON number outside.

Money is reckoned in ``Decimal`` (never float arithmetic) and answered rounded to cents, half
up, as a float of that two-place ``Decimal`` (JSON has no decimal type; every two-place amount
a float can hold prints back exactly). Quantities answer as integers when whole.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def answer_money(value: Decimal | None) -> float | None:
    return None if value is None else float(cents(value))


def answer_quantity(value: Decimal | None) -> int | float | None:
    """Seats as a person reads them: ``3``, not ``3.0``; a fractional ``qty_order`` as it is."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def shown(value: Decimal | int) -> str:
    """A quantity or amount in a sentence: ``3``, ``2.5``, ``12.50``."""
    if isinstance(value, int) or value == value.to_integral_value():
        return str(int(value))
    return str(value.normalize())
