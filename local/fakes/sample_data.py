"""Seed data for the fakes: a small hand-made world and a generator for benchmarks.

The sample world is built so that exact-name mapping (trimmed, case-insensitive) has work to
do. Dicker Data customers (GetTenant) against Halo clients:

=========================  ===============================  ======================================
Dicker Data CompanyName    Halo client(s)                   expected outcome
=========================  ===============================  ======================================
Contoso Pty Ltd            Contoso Pty Ltd                  exact match
Fabrikam Solutions         Fabrikam Solutions               exact match
"  NORTHWIND Traders "     Northwind Traders                exact (case + surrounding spaces)
Tailspin Toys Pty Ltd      Tailspin Toys Pty. Ltd.          near miss: suggestion, not mapped
Smith & Jones Accounting   Smith and Jones Accounting       near miss: suggestion, not mapped
Adventure Works            Adventure Works (x2)             ambiguous: reported, not mapped
"" (TenantDescription:     none                             unmatched (name from TenantDescription)
Wide World Importers)
Blue Yonder Airlines       Blue Yonder Airlines             TenantId "": not importable
=========================  ===============================  ======================================

Halo also holds "Litware Inc" (inactive) and "Coho Winery" (no Dicker Data customer),
Contoso has one non-Dicker-Data licence that imports must leave alone, and the billing side
(price book, recurring invoices) is `sample_billing`'s. Everything is
deterministic (uuid5 GUIDs, fixed dates), so tests can name records by constant.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from .halo import HaloFake
from .sample_billing import RENEWING, seed_billing

Record = dict[str, Any]

ACCOUNT_CODE = "ACME01"
_NAMESPACE = uuid.UUID("6f1c2a4e-1d7b-4c8e-9a55-d1c4e2b7a001")


def tenant_guid(slug: str) -> str:
    """The deterministic TenantId of sample customer `slug` (e.g. "contoso")."""
    return str(uuid.uuid5(_NAMESPACE, f"tenant:{slug}"))


def subscription_guid(slug: str, n: int) -> str:
    """The deterministic SubscriptionId of the `n`-th sample subscription of `slug`."""
    return str(uuid.uuid5(_NAMESPACE, f"subscription:{slug}:{n}"))


# Microsoft NCE products: (product id, sku id, name, short name used in StockDescription).
PRODUCTS: dict[str, tuple[str, str, str, str]] = {
    "basic": ("CFQ7TTC0LH18", "0001", "Microsoft 365 Business Basic", "M365 BUSINESS BASIC"),
    "standard": (
        "CFQ7TTC0LDPB",
        "0001",
        "Microsoft 365 Business Standard",
        "M365 BUSINESS STANDARD",
    ),
    "premium": (
        "CFQ7TTC0LCHC",
        "0002",
        "Microsoft 365 Business Premium",
        "M365 BUSINESS PREMIUM",
    ),
    "exchange1": ("CFQ7TTC0LH16", "0001", "Exchange Online (Plan 1)", "EXCHANGE ONLINE PLAN 1"),
    "apps": ("CFQ7TTC0LH1G", "0001", "Microsoft 365 Apps for business", "M365 APPS FOR BUSINESS"),
    "e3": ("CFQ7TTC0LFLX", "0001", "Microsoft 365 E3", "M365 E3"),
    "archiving": (
        "CFQ7TTC0LHSV",
        "0001",
        "Exchange Online Archiving for Exchange Online",
        "EXCHANGE ONLINE ARCHIVING",
    ),
    "copilot": ("CFQ7TTC0MM8R", "0002", "Microsoft 365 Copilot", "M365 COPILOT"),
}
#: Products sold as add-ons to a base subscription (ParentSubscriptionId set).
ADDONS = ("archiving", "copilot")


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    return day.replace(year=day.year + total // 12, month=total % 12 + 1)


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def make_subscription(
    tenant: Record,
    subscription_id: str,
    product: str,
    *,
    term: str = "P1Y",
    billing: str = "Annual",
    quantity: int = 1,
    status: str = "ACTIVE",
    parent_id: str = "",
    start: date = date(2025, 11, 1),
) -> Record:
    """A GetSubscriptionDetails record in Dicker Data's shape for `tenant`.

    `term` is "P1Y" or "P1M"; `billing` "Annual" or "Monthly" (a P1M term is always monthly).
    """
    product_id, sku, name, short = PRODUCTS[product]
    annual = billing == "Annual"
    term_months = 12 if term == "P1Y" else 1
    period = 12 if annual else 1
    description = f"MS NCE {short} {'1YR' if term == 'P1Y' else '1MTH'} COMMIT"
    if term == "P1Y" and not annual:
        description += " MONTHLY"
    return {
        "AccountCode": tenant["AccountCode"],
        "TenantId": tenant["TenantId"],
        "TenantDescription": tenant["TenantDescription"],
        "CompanyName": tenant["CompanyName"],
        "SubscriptionId": subscription_id,
        "ParentSubscriptionId": parent_id,
        "SubscriptionReference": name[:30],
        "Status": status,
        "StockCode": f"MS-NCE-{product_id}-{sku}-{term}-{'Y' if annual else 'M'}",
        "StockDescription": description,
        "ManufacturerStockCode": f"{term}:{product_id}:{sku}:{'Y' if annual else '1'}:",
        "BillingFrequency": billing,
        "LastBillingDate": _stamp(start),
        "NextBillingDate": _stamp(_add_months(start, period)),
        "ExpiryDate": _stamp(_add_months(start, term_months)),
        "ConfirmedQuantity": quantity,
        "Serials": "",
    }


def _tenant(
    tenant_id: str, company: str, description: str, domain: str, address: tuple[str, str, str, str]
) -> Record:
    """A GetTenant record in Dicker Data's shape; `address` is (street, suburb, state, postcode)."""
    street, suburb, state, postcode = address
    return {
        "AccountCode": ACCOUNT_CODE,
        "TenantId": tenant_id,
        "TenantDescription": description,
        "CompanyName": company,
        "TenantDomain": domain,
        "Address01": street,
        "Address02": "",
        "Address03": "",
        "Suburb": suburb,
        "State": state,
        "Postcode": postcode,
        "Country": "AU",
    }


# The sample subscriptions, a row each: customer slug, product, term, billing, quantity, status,
# and the row (counted within the customer) of the base subscription it is an add-on of, or "-".
_SAMPLE_SUBSCRIPTIONS = """
contoso     premium    P1Y  Annual   25   ACTIVE     -
contoso     archiving  P1M  Monthly  25   ACTIVE     0
contoso     basic      P1M  Monthly  5    ACTIVE     -
contoso     apps       P1Y  Monthly  3    SUSPENDED  -
contoso     copilot    P1Y  Annual   2    ACTIVE     0
fabrikam    standard   P1Y  Annual   12   ACTIVE     -
fabrikam    exchange1  P1M  Monthly  4    ACTIVE     -
fabrikam    basic      P1Y  Annual   8    CANCELLED  -
fabrikam    e3         P1Y  Monthly  2    ACTIVE     -
northwind   basic      P1Y  Annual   40   ACTIVE     -
northwind   apps       P1M  Monthly  6    ACTIVE     -
northwind   archiving  P1M  Monthly  10   ACTIVE     0
tailspin    premium    P1Y  Annual   15   ACTIVE     -
tailspin    standard   P1M  Monthly  3    ACTIVE     -
tailspin    copilot    P1Y  Annual   1    ACTIVE     0
smithjones  standard   P1Y  Annual   9    ACTIVE     -
smithjones  exchange1  P1Y  Annual   2    ACTIVE     -
smithjones  basic      P1M  Monthly  1    CANCELLED  -
smithjones  standard   P1Y  Annual   3    ACTIVE     -
smithjones  premium    P1Y  Annual   6    ACTIVE     -
adventure   e3         P1Y  Annual   120  ACTIVE     -
adventure   copilot    P1Y  Annual   10   ACTIVE     0
adventure   exchange1  P1M  Monthly  15   ACTIVE     -
adventure   premium    P1Y  Monthly  5    SUSPENDED  -
wideworld   basic      P1M  Monthly  3    ACTIVE     -
wideworld   standard   P1Y  Annual   7    ACTIVE     -
wideworld   apps       P1Y  Annual   2    ACTIVE     -
"""


def _sample_subscription_rows() -> dict[str, list[tuple[str, str, str, int, str, int | None]]]:
    """slug → (product, term, billing, quantity, status, parent row or None), from the table."""
    rows: dict[str, list[tuple[str, str, str, int, str, int | None]]] = {}
    for line in _SAMPLE_SUBSCRIPTIONS.strip().splitlines():
        slug, product, term, billing, quantity, status, parent = line.split()
        parent_row = None if parent == "-" else int(parent)
        rows.setdefault(slug, []).append((product, term, billing, int(quantity), status, parent_row))
    return rows


# The sample customers, a row each: slug | CompanyName, as JSON (its spaces are part of the plan)
# | TenantDomain ("-": no CSP tenant) | street | suburb | state | postcode | TenantDescription,
# where it is not the trimmed CompanyName.
_SAMPLE_TENANTS = """
contoso    | "Contoso Pty Ltd"          | contoso.onmicrosoft.com            | 12 Harbour St      | Sydney    | NSW | 2000 |
fabrikam   | "Fabrikam Solutions"       | fabrikam.onmicrosoft.com           | 400 Collins St     | Melbourne | VIC | 3000 |
northwind  | "  NORTHWIND Traders "     | northwindtraders.onmicrosoft.com   | 7 Eagle St         | Brisbane  | QLD | 4000 |
tailspin   | "Tailspin Toys Pty Ltd"    | tailspintoys.onmicrosoft.com       | 88 Hay St          | Perth     | WA  | 6000 |
smithjones | "Smith & Jones Accounting" | smithjones.onmicrosoft.com         | 3 King William St  | Adelaide  | SA  | 5000 |
adventure  | "Adventure Works"          | adventureworks.onmicrosoft.com     | 21 Elizabeth St    | Hobart    | TAS | 7000 |
wideworld  | ""                         | wideworldimporters.onmicrosoft.com | 150 Mitchell St    | Darwin    | NT  | 0800 | Wide World Importers
blueyonder | "Blue Yonder Airlines"     | -                                  | 1 Constitution Ave | Canberra  | ACT | 2600 |
"""  # noqa: E501 - a table reads best unwrapped


def _sample_tenants_by_slug() -> dict[str, Record]:
    """slug → GetTenant record of the sample customers, in the table's order."""
    tenants: dict[str, Record] = {}
    for line in _SAMPLE_TENANTS.strip().splitlines():
        slug, company_json, domain, street, suburb, state, postcode, description = (
            f.strip() for f in line.split("|")
        )
        company = json.loads(company_json)
        tenants[slug] = _tenant(
            "" if domain == "-" else tenant_guid(slug),
            company,
            description or company.strip(),
            "" if domain == "-" else domain,
            (street, suburb, state, postcode),
        )
    return tenants


def sample_tenants() -> list[Record]:
    """The eight sample GetTenant records (see the module docstring for the plan)."""
    return list(_sample_tenants_by_slug().values())


def _start(slug: str, n: int) -> date:
    """When sample subscription `n` of `slug` started: fixed, but for the one renewing soon."""
    if (slug, n) != RENEWING[:2]:
        return date(2025, 3 + n, 1)
    start = date.today() + timedelta(days=RENEWING[2] - 365)
    return start - timedelta(days=1) if (start.month, start.day) == (2, 29) else start


def sample_dicker_data() -> tuple[list[Record], list[Record]]:
    """(tenants, subscriptions) for `DickerDataFake`: 8 customers, 27 subscriptions."""
    by_slug = _sample_tenants_by_slug()
    subscriptions: list[Record] = []
    for slug, specs in _sample_subscription_rows().items():
        tenant = by_slug[slug]
        for n, (product, term, billing, qty, status, parent) in enumerate(specs):
            subscriptions.append(
                make_subscription(
                    tenant,
                    subscription_guid(slug, n),
                    product,
                    term=term,
                    billing=billing,
                    quantity=qty,
                    status=status,
                    parent_id="" if parent is None else subscription_guid(slug, parent),
                    start=_start(slug, n),
                )
            )
    return list(by_slug.values()), subscriptions


def sample_halo(fake: HaloFake) -> None:
    """Seed the Halo side of the sample world (2 top levels, 10 clients with main sites, the
    price book and recurring invoices of `sample_billing`)."""
    managed = fake.add_toplevel("Managed Services")["id"]
    projects = fake.add_toplevel("Projects")["id"]
    contoso = fake.add_client(
        "Contoso Pty Ltd",
        managed,
        website="https://contoso.example",
        newclient_delivery_address={"line1": "Level 2", "line2": "10 Old Harbour Rd",
                                    "line3": "Sydney NSW", "postcode": "2000"},
    )  # fmt: skip
    fake.add_client("Fabrikam Solutions", managed)
    fake.add_client("Northwind Traders", managed)
    fake.add_client("Tailspin Toys Pty. Ltd.", projects)
    fake.add_client("Smith and Jones Accounting", managed)
    fake.add_client("Adventure Works", managed)
    fake.add_client("Adventure Works", projects)
    fake.add_client("Blue Yonder Airlines", projects)
    fake.add_client("Litware Inc", managed, inactive=True)
    fake.add_client("Coho Winery", projects)
    fake.add_licence(
        contoso["id"],
        "Adobe Acrobat Pro",
        count=4,
        distributor="Adobe",
        vendor="Adobe",
        manufacturer="Adobe",
        notes="Bought direct; not from Dicker Data",
    )
    seed_billing(fake)


# -- generators for benchmarks -------------------------------------------------------------

_ADJECTIVES = ("Blue", "Northern", "Coastal", "Golden", "Summit", "Harbour", "Iron", "Silver",
               "Red Gum", "Southern", "Eastern", "Bright", "Granite", "Cedar", "Pacific")  # fmt: skip
_NOUNS = ("Logistics", "Dental", "Legal", "Engineering", "Motors", "Farms", "Consulting",
          "Builders", "Pharmacy", "Accounting", "Media", "Electrical", "Plumbing", "Travel")  # fmt: skip
_SUFFIXES = ("Pty Ltd", "Pty. Ltd.", "Limited", "Group", "& Co", "Holdings", "")
_STATES = (("NSW", "Sydney", "2000"), ("VIC", "Melbourne", "3000"), ("QLD", "Brisbane", "4000"),
           ("WA", "Perth", "6000"), ("SA", "Adelaide", "5000"))  # fmt: skip
_BASES = ("basic", "standard", "premium", "exchange1", "apps", "e3")
_TERMS = (("P1Y", "Annual"), ("P1Y", "Monthly"), ("P1M", "Monthly"))


# Every AWKWARD_EVERY-th generated name ends in one of these: real customer names carry accents,
# ampersands and emoji, and one character beyond the BMP makes Python hold a str four bytes wide.
AWKWARD_EVERY = 40
_AWKWARD = ("Café", "Zoë & Søn", "Ærø 🚀", "Müller\u2013Lüdenscheid")


def generated_name(i: int, rng: random.Random) -> str:
    """A unique company name for generated customer `i` (the number keeps it unique)."""
    suffix = rng.choice(_SUFFIXES)
    name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {i:05d}{' ' + suffix if suffix else ''}"
    if i % AWKWARD_EVERY == 0:
        name += " " + _AWKWARD[i // AWKWARD_EVERY % len(_AWKWARD)]
    return name


def generate_dicker_data(
    n_customers: int, subs_per_customer: int, seed: int = 0
) -> tuple[list[Record], list[Record]]:
    """(tenants, subscriptions) at scale, deterministic for `seed`.

    Every customer has a CSP tenant; about 10% of later subscriptions are add-ons of the
    customer's first one and about 5% each are SUSPENDED / CANCELLED. 5,000 x 10 builds in
    well under a second.
    """
    rng = random.Random(seed)

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    tenants: list[Record] = []
    subscriptions: list[Record] = []
    for i in range(1, n_customers + 1):
        state, suburb, postcode = rng.choice(_STATES)
        name = generated_name(i, rng)
        tenant_id = guid()  # drawn before the street, so each seed's world stays the same
        street = f"{rng.randint(1, 400)} Example St"
        domain = f"customer{i:05d}.onmicrosoft.com"
        tenant = _tenant(tenant_id, name, name, domain, (street, suburb, state, postcode))
        tenants.append(tenant)
        base_id = ""
        for n in range(subs_per_customer):
            addon = n > 0 and rng.random() < 0.1
            product = rng.choice(ADDONS) if addon else rng.choice(_BASES)
            term, billing = rng.choice(_TERMS)
            draw = rng.random()
            status = "SUSPENDED" if draw < 0.05 else "CANCELLED" if draw < 0.10 else "ACTIVE"
            sub = make_subscription(
                tenant,
                guid(),
                product,
                term=term,
                billing=billing,
                quantity=rng.randint(1, 50),
                status=status,
                parent_id=base_id if addon else "",
                start=date(2025, rng.randint(1, 12), 1),
            )
            if n == 0:
                base_id = sub["SubscriptionId"]
            subscriptions.append(sub)
    return tenants, subscriptions


def generate_halo(
    fake: HaloFake,
    n_clients: int,
    names: Sequence[str] | None = None,
    toplevel_id: int | None = None,
) -> list[Record]:
    """Create `n_clients` Halo clients (each with its main site) and return them.

    Client `i` is named `names[i]` while names last (pass Dicker Data names to make them
    match), then "Halo Client NNNNN". Without `toplevel_id` a "Generated" top level is added.
    """
    names = names or ()
    if toplevel_id is None and n_clients:
        toplevel_id = fake.add_toplevel("Generated")["id"]
    return [
        fake.add_client(names[i] if i < len(names) else f"Halo Client {i + 1:05d}", toplevel_id)
        for i in range(n_clients)
    ]
