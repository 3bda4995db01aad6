"""Halo's records as the core handles them: the one place that knows Halo's wire shape.

Halo answers loose JSON: ids as numbers or text, list views that leave fields out, a site's
address nested or as flat columns. Each record is read tolerantly (``from_wire``: ``None`` when it
has no usable id) and every write is built here (``to_wire`` and the patch builders), so Halo's
field names appear nowhere else in the core. Names and types: ``shared/reference/HALO_FIELDS.md``;
the fields we write and why: docs/HALO_FIELDS_USED.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

# Halo's longest name (clients and licences): a longer one is refused, so it is caught in the plan.
MAX_NAME = 255


def halo_id(value: Any) -> int | None:
    """A Halo record id, when the value is one (a positive integer, maybe as text); else None.

    Halo answers are not trusted to carry clean ids: null, "abc", 0 or a float all read as None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value) or None
    return None


def _number_id(value: Any) -> int | None:
    """An id Halo's document types as a number (``client_id`` is a double on some records)."""
    if isinstance(value, float) and value.is_integer():
        return halo_id(int(value))
    return halo_id(value)


def _text(value: Any) -> str:
    return str(value if value is not None else "").strip()


# ---------------------------------------------------------------------------------- tenant links
@dataclass(frozen=True, slots=True)
class TenantLink:
    """A Microsoft tenant linked on a Halo client (``azure_tenants``: ``AreaAzureTenant``).
    ``wire`` keeps the link as Halo holds it, so a patch of the list sends its other fields back."""

    azure_tenant_id: str
    name: str = ""
    domain: str = ""
    wire: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        """Tenant ids compare without case or surrounding spaces."""
        return self.azure_tenant_id.strip().lower()

    @classmethod
    def from_wire(cls, raw: Any) -> TenantLink | None:
        if not isinstance(raw, dict) or not raw.get("azure_tenant_id"):
            return None
        return cls(
            _text(raw["azure_tenant_id"]),
            _text(raw.get("azure_tenant_name")),
            _text(raw.get("azure_tenant_domain")),
            wire=dict(raw),
        )

    def to_wire(self) -> dict[str, Any]:
        """The link as Halo holds it (a patch of the list sends the others back untouched), or
        ours when it is new."""
        return dict(self.wire) if self.wire else self.ours()

    def ours(self) -> dict[str, str]:
        """Only the fields we own (their hash is what we remember writing)."""
        return {
            "azure_tenant_id": self.azure_tenant_id,
            "azure_tenant_name": self.name,
            "azure_tenant_domain": self.domain,
        }


def links_with(links: Iterable[TenantLink], wanted: TenantLink) -> list[TenantLink] | None:
    """The client's tenant links with ``wanted`` added or refreshed; None when already right.
    A blank name or domain in ``wanted`` never overwrites what Halo holds."""
    out = list(links)
    for i, link in enumerate(out):
        if link.key == wanted.key:
            stale = {k: v for k, v in wanted.ours().items() if k != "azure_tenant_id" and v}
            stale = {k: v for k, v in stale.items() if link.wire.get(k) != v}
            if not stale:
                return None
            wire = {**(link.wire or link.ours()), **stale}
            out[i] = TenantLink(
                link.azure_tenant_id, wanted.name or link.name, wanted.domain or link.domain, wire
            )
            return out
    return [*out, wanted]


# ---------------------------------------------------------------------------------- addresses
ADDRESS_LINES = ("line1", "line2", "line3", "line4")


@dataclass(frozen=True, slots=True)
class Address:
    """Halo's ``AddressStore`` lines (what a site's delivery address holds)."""

    line1: str = ""
    line2: str = ""
    line3: str = ""
    line4: str = ""
    postcode: str = ""

    def to_wire(self) -> dict[str, str]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "line3": self.line3,
            "line4": self.line4,
            "postcode": self.postcode,
        }


# ---------------------------------------------------------------------------------- clients, sites
@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A Halo client (Halo's ``Area``). ``tenant_links`` is None when this view of the client did
    not show them (a list read without ``includeazuretenants``, or a single GET)."""

    id: int
    name: str = ""
    main_site_id: int | None = None
    tenant_links: tuple[TenantLink, ...] | None = None

    @classmethod
    def from_wire(cls, raw: Any) -> ClientRecord | None:
        if not isinstance(raw, dict) or (client_id := halo_id(raw.get("id"))) is None:
            return None
        links = raw.get("azure_tenants") if "azure_tenants" in raw else None
        return cls(
            client_id,
            _text(raw.get("name")),
            halo_id(raw.get("main_site_id")),
            None if links is None else _tenant_links(links),
        )

    def tenant_ids(self) -> list[str]:
        """The Microsoft tenant ids linked on it: our marker for find-before-create."""
        return [link.key for link in self.tenant_links or ()]


def _tenant_links(raw: Any) -> tuple[TenantLink, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(link for item in raw if (link := TenantLink.from_wire(item)) is not None)


@dataclass(frozen=True, slots=True)
class NewClient:
    """A client to create, with its main site (Halo makes both from one ``Client`` record)."""

    name: str
    tenant_link: TenantLink
    top_level_id: int | None = None
    site_name: str = "Main"
    address: Address | None = None

    def to_wire(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "name": self.name,
            "azure_tenants": [self.tenant_link.ours()],
            "_isimport": True,
        }
        if self.top_level_id is not None:
            record["toplevel_id"] = self.top_level_id
        record["newclient_sitename"] = self.site_name
        if self.address is not None:
            record["newclient_delivery_address"] = self.address.to_wire()
        return record


def client_links_patch(client_id: int, links: Iterable[TenantLink]) -> dict[str, Any]:
    return {"id": client_id, "azure_tenants": [link.to_wire() for link in links]}


@dataclass(frozen=True, slots=True)
class SiteRecord:
    id: int
    address: Address = Address()

    @classmethod
    def from_wire(cls, raw: Any) -> SiteRecord | None:
        """The delivery address from the nested object, else the flat list columns."""
        if not isinstance(raw, dict) or (site_id := halo_id(raw.get("id"))) is None:
            return None
        nested = raw.get("delivery_address") if isinstance(raw.get("delivery_address"), dict) else {}
        lines = {}
        for i, name in enumerate(ADDRESS_LINES, start=1):
            value = nested.get(name) if nested else None
            lines[name] = _text(value if value is not None else raw.get(f"delivery_address_line{i}") or "")
        postcode = _text(nested.get("postcode")) if nested else ""
        return cls(site_id, Address(**lines, postcode=postcode))


def site_address_patch(site_id: int, address: Address) -> dict[str, Any]:
    return {"id": site_id, "delivery_address": address.to_wire()}


# ---------------------------------------------------------------------------------- top levels
@dataclass(frozen=True, slots=True)
class TopLevelRecord:
    """A Halo top level (``Tree``): where an import creates clients, picked by name."""

    id: int
    name: str

    @classmethod
    def from_wire(cls, raw: Any) -> TopLevelRecord | None:
        """A top level without a name is called by its id, so it can still be picked."""
        if not isinstance(raw, dict) or (top_level_id := halo_id(raw.get("id"))) is None:
            return None
        return cls(top_level_id, str(raw.get("name") or f"Top level {top_level_id}"))


# ---------------------------------------------------------------------------------- licences
class LicenceFields(TypedDict, total=False):
    """The fields of a ``SoftwareLicence`` we own, under Halo's names and types. Kept as a dict:
    links store it as we wrote it, and its hash is the change detector of every link."""

    client_id: int
    name: str
    count: int
    distributor: str
    manufacturer: str
    vendor: str
    product_sku: str
    vendor_product_sku: str
    term_duration: str
    billing_cycle: str
    status: str
    is_active: bool
    end_date: str | None
    tenant_id: str
    notes: str
    parent_id: int | None


OWNED_LICENCE_FIELDS: frozenset[str] = frozenset(LicenceFields.__annotations__)
# What a hand edit in Halo most often changes: kept even of a slim licence, so a verify sees it.
DRIFT_FIELDS: tuple[str, ...] = ("client_id", "count", "is_active", "status", "name")
MARKER = "Dicker Data subscription: "
# To the end of its line: a SubscriptionId is whatever Dicker Data says, spaces included.
_MARKER = re.compile(r"^Dicker Data subscription: (.+?)\s*$", re.MULTILINE)


def marker_line(subscription_id: str) -> str:
    """The first line of our licences' ``notes``: which Dicker Data subscription it is (Halo has no
    external-id field, so this is how a licence created before a crash is recognised)."""
    return f"{MARKER}{subscription_id}"


def marker_in(notes: Any) -> str | None:
    match = _MARKER.search(str(notes or ""))
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Licence:
    """A Halo ``SoftwareLicence``: its identity, our marker, and the fields we own as Halo holds
    them (``owned``; when read slim, only the ``DRIFT_FIELDS`` Halo answered: a licence we have
    a link to, whose link holds what we wrote). A bulk read holds tens of thousands: slotted,
    nothing else kept."""

    id: int
    client_id: int | None = None
    marker: str | None = None
    name: str = ""
    is_active: bool | None = None
    status: str = ""
    owned: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, raw: Any, *, slim: bool = False) -> Licence | None:
        if not isinstance(raw, dict) or (licence_id := halo_id(raw.get("id"))) is None:
            return None
        active = raw.get("is_active")
        return cls(
            licence_id,
            _number_id(raw.get("client_id")),
            marker_in(raw.get("notes")),
            _text(raw.get("name")),
            active if isinstance(active, bool) else None,
            _text(raw.get("status")),
            {k: raw[k] for k in DRIFT_FIELDS if k in raw}
            if slim
            else {k: v for k, v in raw.items() if k in OWNED_LICENCE_FIELDS and k != "id"},
        )

    def to_wire(self) -> dict[str, Any]:
        """What a checkpoint stores of it (``from_wire`` reads it back the same)."""
        wire: dict[str, Any] = {"id": self.id, "name": self.name, "status": self.status}
        if self.client_id is not None:
            wire["client_id"] = self.client_id
        if self.is_active is not None:
            wire["is_active"] = self.is_active
        if self.marker is not None:
            wire["notes"] = marker_line(self.marker)
        return {**wire, **self.owned}

    def value(self, name: str) -> Any:
        """Halo's value of a field we own (of a slim one, only its identity fields are known)."""
        if name in self.owned:
            return self.owned[name]
        identity = {
            "client_id": self.client_id,
            "name": self.name,
            "is_active": self.is_active,
            "status": self.status,
            "notes": marker_line(self.marker) if self.marker is not None else None,
        }
        return identity.get(name)

    def is_ours_for(self, client_id: int) -> bool:
        """It carries our marker and sits on this client (or on none: a list that hid it)."""
        return self.marker is not None and (self.client_id or client_id) == client_id


def licence_patch(licence_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    return {"id": licence_id, **{k: v for k, v in changes.items() if k in OWNED_LICENCE_FIELDS}}
