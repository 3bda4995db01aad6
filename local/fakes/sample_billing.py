"""The sample world's billing side in Halo: a price book (Items) and recurring invoices that
disagree with Dicker Data in every way the billing check reports (docs/spec "Billing").

Products are Dicker Data `ManufacturerStockCode`s. The price book matches them by
`supplier_part_code`, `internalreference` (as an MSP typed it: lower case, spaces around) or
`externalreference`; two Items by name only (= `StockDescription`, in another case); the annual
Business Basic code is on two Items (ambiguous); E3 and the annual-term Apps billed monthly match
none (a monthly-term E3 Item is their near miss).

Once the sample customers are mapped (Contoso, Fabrikam, Northwind by generate, Wide World created
by the import, Smith & Jones by hand to "Smith and Jones Accounting") and their subscriptions
imported, the check finds (`EXPECTED`):

============  ================================  ===========================================
customer      subscription (row)                Halo bills it                   → finding
============  ================================  ===========================================
contoso       premium annual 25 (0)             linked line 25                  unchanged
contoso       archiving 25 (1)                  linked line 20                  under_billed
contoso       basic monthly 5 (2)               linked line, inactive           unbilled
contoso       apps, suspended, no Item (3)      nothing                         no_product
contoso       copilot 2 (4, Item by name)       unlinked line of its Item, 2    unchanged
fabrikam      standard 12 (0)                   linked line 14                  over_billed
fabrikam      exchange 1 monthly 4 (1, by name) nothing; two active invoices    unbilled
fabrikam      basic annual, cancelled (2)       linked active line 8            billed_after_cancel
fabrikam      E3, no Item (3)                   nothing                         no_product
northwind     basic annual 40 (0, ambiguous)    linked line 40                  unchanged
northwind     apps monthly 6 (1)                linked line 6                   unchanged
northwind     archiving 10 (2)                  unlinked line of its Item, 10   unchanged
wideworld     all three (0-2)                   no recurring invoice            unbilled
smithjones    standard 9 and 3 (0, 3)           one unlinked line of 10         ambiguous_line
smithjones    exchange 1 annual 2 (1)           linked line 2; licence count    licence_count_differs
                                                edited to 3 in Halo
smithjones    basic, cancelled (2)              linked line, inactive           unchanged
smithjones    premium annual 6, ends in 15      linked line 6                   renewal_due
              days (4)
============  ================================  ===========================================

Contoso also has a disabled invoice (it bills nothing) and a managed-services line of no product;
Fabrikam has two active invoices. A line that links a licence can only be seeded once the licence
exists, and the licences are created by the product's import: so a seeded line names the licence
(its client and name) and the fake links it, through `quantity_licences`, when the product creates
that licence (an `on_created` hook: the first licence that matches, once). The hand edit of Smith &
Jones' Exchange count lands the same way, just after the licence's create is answered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from .halo import HaloFake

Record = dict[str, Any]

_PREMIUM_Y = "MS NCE M365 BUSINESS PREMIUM 1YR COMMIT"
_ARCHIVING_M = "MS NCE EXCHANGE ONLINE ARCHIVING 1MTH COMMIT"
_BASIC_M = "MS NCE M365 BUSINESS BASIC 1MTH COMMIT"
_BASIC_Y = "MS NCE M365 BUSINESS BASIC 1YR COMMIT"
_STANDARD_Y = "MS NCE M365 BUSINESS STANDARD 1YR COMMIT"
_APPS_M = "MS NCE M365 APPS FOR BUSINESS 1MTH COMMIT"
_EXCHANGE_Y = "MS NCE EXCHANGE ONLINE PLAN 1 1YR COMMIT"

# The price book, an Item a row: name (JSON: its case and spaces are part of the plan) | the field
# holding the stock code, "-" for none | the stock code (JSON) | recurringprice | costprice |
# baseprice | isrecurringitem. Prices are a month's, ex GST.
_PRICE_BOOK = """
"Microsoft 365 Business Premium (annual)"     | supplier_part_code | "P1Y:CFQ7TTC0LCHC:0002:Y:"   | 36.3 | 33.0 | 0     | yes
"Exchange Online Archiving (monthly)"         | internalreference  | " p1m:cfq7ttc0lhsv:0001:1: " | 4.9  | 4.4  | 0     | yes
"Microsoft 365 Business Basic (monthly)"      | externalreference  | "P1M:CFQ7TTC0LH18:0001:1:"   | 9.7  | 8.8  | 0     | yes
"MS NCE M365 Copilot 1YR Commit"              | -                  | ""                           | 49.5 | 45.0 | 0     | yes
"Microsoft 365 Business Standard (annual)"    | supplier_part_code | "P1Y:CFQ7TTC0LDPB:0001:Y:"   | 19.8 | 18.0 | 0     | yes
"ms nce exchange online plan 1 1mth commit "  | -                  | ""                           | 7.2  | 6.5  | 0     | yes
"Microsoft 365 Business Basic (annual)"       | supplier_part_code | "P1Y:CFQ7TTC0LH18:0001:Y:"   | 8.1  | 7.3  | 0     | yes
"M365 Business Basic annual - old price"      | internalreference  | "P1Y:CFQ7TTC0LH18:0001:Y:"   | 7.2  | 6.9  | 0     | yes
"Microsoft 365 Apps for business (monthly)"   | supplier_part_code | "P1M:CFQ7TTC0LH1G:0001:1:"   | 12.4 | 11.2 | 0     | yes
"Microsoft 365 Apps for business (annual)"    | supplier_part_code | "P1Y:CFQ7TTC0LH1G:0001:Y:"   | 11.3 | 10.2 | 0     | yes
"Exchange Online (Plan 1) (annual)"           | supplier_part_code | "P1Y:CFQ7TTC0LH16:0001:Y:"   | 6.0  | 5.4  | 6.6   | yes
"Microsoft 365 E3 (monthly term)"             | supplier_part_code | "P1M:CFQ7TTC0LFLX:0001:1:"   | 0    | 54.0 | 59.4  | yes
"Managed Services - per user"                 | -                  | ""                           | 45.0 | 0    | 0     | yes
"Onsite labour (hour)"                        | -                  | ""                           | 0    | 0    | 165.0 | no
"""  # noqa: E501 - a table reads best unwrapped


def price_book() -> dict[str, Record]:
    """Item name → its fields, from the table."""
    items: dict[str, Record] = {}
    for row in _PRICE_BOOK.strip().splitlines():
        name, field, code, recurring, cost, base, is_recurring = (f.strip() for f in row.split("|"))
        prices = {"recurringprice": float(recurring), "costprice": float(cost), "baseprice": float(base)}
        codes = {} if field == "-" else {field: json.loads(code)}
        items[json.loads(name)] = {**codes, **prices, "isrecurringitem": is_recurring == "yes"}
    return items


@dataclass(frozen=True)
class Line:
    """A seeded line: its Item (by name), quantity, and the licence it links (by name), if any."""

    item: str
    qty: int
    links: str | None = None
    inactive: bool = False


#: Recurring invoices: (Halo client name, header fields, lines).
INVOICES: Final[list[tuple[str, Record, list[Line]]]] = [
    ("Contoso Pty Ltd", {}, [
        Line("Microsoft 365 Business Premium (annual)", 25, _PREMIUM_Y),
        Line("Exchange Online Archiving (monthly)", 20, _ARCHIVING_M),
        Line("Microsoft 365 Business Basic (monthly)", 5, _BASIC_M, inactive=True),
        Line("MS NCE M365 Copilot 1YR Commit", 2),
        Line("Managed Services - per user", 25),
    ]),
    ("Contoso Pty Ltd", {"disabled": True}, [Line("Microsoft 365 Business Premium (annual)", 30)]),
    ("Fabrikam Solutions", {}, [
        Line("Microsoft 365 Business Standard (annual)", 14, _STANDARD_Y),
        Line("Microsoft 365 Business Basic (annual)", 8, _BASIC_Y),
    ]),
    ("Fabrikam Solutions", {}, [Line("Managed Services - per user", 18)]),
    ("Northwind Traders", {}, [
        Line("M365 Business Basic annual - old price", 40, _BASIC_Y),
        Line("Microsoft 365 Apps for business (monthly)", 6, _APPS_M),
        Line("Exchange Online Archiving (monthly)", 10),
    ]),
    ("Smith and Jones Accounting", {}, [
        Line("Microsoft 365 Business Standard (annual)", 10),
        Line("Exchange Online (Plan 1) (annual)", 2, _EXCHANGE_Y),
        Line("Microsoft 365 Business Basic (monthly)", 1, _BASIC_M, inactive=True),
        Line("Microsoft 365 Business Premium (annual)", 6, _PREMIUM_Y),
    ]),
]  # fmt: skip

#: Edits a person makes in Halo right after the import creates a licence: (client, licence) → fields.
HAND_EDITS: Final[dict[tuple[str, str], Record]] = {("Smith and Jones Accounting", _EXCHANGE_Y): {"count": 3}}

#: The one sample subscription whose annual term ends soon, whatever the day: (slug, row) and the
#: days left (`sample_data` starts it so).
RENEWING: Final = ("smithjones", 4, 15)

#: (customer slug, subscription row) → the finding the billing check reports first ("unchanged": none).
EXPECTED: Final[dict[tuple[str, int], str]] = {
    ("contoso", 0): "unchanged",
    ("contoso", 1): "under_billed",
    ("contoso", 2): "unbilled",
    ("contoso", 3): "no_product",
    ("contoso", 4): "unchanged",
    ("fabrikam", 0): "over_billed",
    ("fabrikam", 1): "unbilled",
    ("fabrikam", 2): "billed_after_cancel",
    ("fabrikam", 3): "no_product",
    ("northwind", 0): "unchanged",
    ("northwind", 1): "unchanged",
    ("northwind", 2): "unchanged",
    ("wideworld", 0): "unbilled",
    ("wideworld", 1): "unbilled",
    ("wideworld", 2): "unbilled",
    ("smithjones", 0): "ambiguous_line",
    ("smithjones", 1): "licence_count_differs",
    ("smithjones", 2): "unchanged",
    ("smithjones", 3): "ambiguous_line",
    ("smithjones", 4): "renewal_due",
}


class _OnLicenceCreated:
    """The `on_created` hook: when the product creates a licence, links the first seeded line
    waiting for it (by its client and name, one line a licence, in order; or by the subscription
    id that ends the first line of its notes, the product's marker) and makes its hand edit, once."""

    def __init__(self, fake: HaloFake) -> None:
        self.fake = fake
        self.waiting: dict[tuple[int, str], list[int]] = {}
        self.by_subscription: dict[str, int] = {}
        self.edits: dict[tuple[int, str], Record] = {}

    def __call__(self, entity: str, record: Record) -> None:
        if entity != "SoftwareLicence":
            return
        key = (record["client_id"], record["name"])
        marker = (str(record.get("notes") or "").splitlines() or [""])[0].split()
        line_id = self.by_subscription.pop(marker[-1], None) if marker else None
        waiting = self.waiting.get(key)
        if line_id is None and waiting:
            line_id = waiting.pop(0)
        if line_id is not None:
            self.fake.link_licences(line_id, record["id"])
        record.update(self.edits.pop(key, {}))


def _client_id(fake: HaloFake, name: str) -> int:
    (client_id,) = [i for i, c in fake.clients.items() if c["name"] == name]
    return client_id


@dataclass(frozen=True)
class Marker:
    """A line waits for the licence whose notes' first line ends with this subscription id."""

    subscription_id: str


#: A line to add: its Item's id, quantity, whether inactive, and what it waits for to link its
#: licence: the licence's name (str), the Dicker Data subscription id in its notes (`Marker`), or
#: nothing (None: it links no licence).
_NewLine = tuple[int, int, bool, str | Marker | None]


def _add_invoice(
    fake: HaloFake, hook: _OnLicenceCreated, client_id: int, lines: Sequence[_NewLine], header: Record
) -> None:
    """A recurring invoice of `client_id` with `lines`, each linking its licence when created."""
    body = [{"_itemid": item, "qty_order": qty, "isinactive": inactive} for item, qty, inactive, _ in lines]
    saved = fake.add_recurring_invoice(client_id, body, **header)["lines"]
    for (*_, links), stored in zip(lines, saved, strict=True):
        if isinstance(links, Marker):
            hook.by_subscription[links.subscription_id] = stored["id"]
        elif links is not None:
            hook.waiting.setdefault((client_id, links), []).append(stored["id"])


def seed_billing(fake: HaloFake) -> None:
    """Add the price book and the recurring invoices to a fake holding the sample clients, and
    the hook that links their lines to the licences the import creates."""
    items = {name: fake.add_item(name, **fields)["id"] for name, fields in price_book().items()}
    hook = _OnLicenceCreated(fake)
    for client, header, lines in INVOICES:
        new = [(items[x.item], x.qty, x.inactive, x.links) for x in lines]
        _add_invoice(fake, hook, _client_id(fake, client), new, header)
    for (client, licence), edit in HAND_EDITS.items():
        hook.edits[(_client_id(fake, client), licence)] = edit
    fake.on_created.append(hook)


def generate_billing(
    fake: HaloFake, clients: Sequence[Record], tenants: Sequence[Record], subscriptions: Sequence[Record]
) -> int:
    """For benchmarks: an Item per stock code (its `supplier_part_code`), and one recurring
    invoice per client billing each active subscription of its customer (`clients[i]` is
    `tenants[i]`'s, as `generate_halo(names=...)` makes them) on a line linked to the licence
    when the import creates it (found by the subscription id of its marker: a customer may hold
    two subscriptions of one name). Answers how many lines it made."""
    items: dict[str, int] = {}
    for sub in subscriptions:
        code = sub["ManufacturerStockCode"]
        if code not in items:
            price = {"recurringprice": 10.0 + len(items), "isrecurringitem": True}
            items[code] = fake.add_item(sub["StockDescription"], supplier_part_code=code, **price)["id"]
    client_of = {t["TenantId"]: c["id"] for t, c in zip(tenants, clients, strict=False)}
    billed: dict[int, list[_NewLine]] = {client: [] for client in client_of.values()}
    for sub in subscriptions:
        if sub["Status"] != "CANCELLED" and sub["TenantId"] in client_of:
            item = items[sub["ManufacturerStockCode"]]
            line = (item, sub["ConfirmedQuantity"], False, Marker(sub["SubscriptionId"]))
            billed[client_of[sub["TenantId"]]].append(line)
    hook = _OnLicenceCreated(fake)
    for client_id, lines in billed.items():
        _add_invoice(fake, hook, client_id, lines, {})
    fake.on_created.append(hook)
    return sum(len(lines) for lines in billed.values())
