"""Halo's billing records in the fake: the price book (`Item`) and recurring invoices (headers and
their lines), written as Halo's OpenAPI document declares them.

- `POST /api/Item`: an array of items, created or partly updated like every other write.
- `POST /api/RecurringInvoice`: an array of headers (`InvoiceHeader`). A header written **with**
  `lines` gets exactly those lines: a line with an `id` of that header is updated, one without is
  added, and the header's lines left out are removed. Whether real Halo keeps or removes lines a
  header write leaves out is not documented; the stand-in takes the stricter guess, so a product
  that writes a header without all its lines loses them here first.
- `POST /api/RecurringInvoice/updatelines`: an array of lines (`InvoiceDetail`); with an `id` it
  updates the fields given of that line, without one it adds a line to `recurring_invoice_id`;
  the answer is the saved lines with their ids. Lines not sent are kept.
- A line's quantity links licences through `quantity_licences: [{"licence_id"}]`, each a licence
  of the invoice's client; the stand-in stores them with their own `id` and `licence_name`, and
  never changes `qty_order` by itself (whether Halo makes it follow the licences' count is not
  documented either: the product must set it).
- `POST /api/RecurringInvoice/Lines` is in the document without saying what it does: it answers
  501, so nothing comes to rely on a guess.

Lines are kept in their own table (`invoice_lines`, by `recurring_invoice_id`) and joined to
their header when a read asks for them.
"""

from __future__ import annotations

from typing import Any, Final

from .halo_base import Entity, line_copy
from .halo_tables import Record, id_key
from .halo_writes import HaloWrites, Save, Validate, _merged, name_problem
from .http_messages import Request, Response, json_response

_NEW_ITEM: Final[Record] = {
    "name": "",
    "supplier_part_code": "",
    "internalreference": "",
    "externalreference": "",
    "baseprice": 0.0,
    "recurringprice": 0.0,
    "costprice": 0.0,
    "isrecurringitem": False,
}
_NEW_HEADER: Final[Record] = {"client_id": 0, "client_name": "", "disabled": False}
_NEW_LINE: Final[Record] = {
    "recurring_invoice_id": 0,
    "_itemid": None,
    "item_code": "",
    "qty_order": 0.0,
    "unit_price": 0.0,
    "isinactive": False,
    "comment_1": "",
    "quantity_licences": [],
}
NOT_MODELLED = (
    "POST /api/RecurringInvoice/Lines is in Halo's document without a description of what it does;"
    " the stand-in does not guess (write lines with /api/RecurringInvoice/updatelines)"
)


def _fields(item: Record, keep: frozenset[str] = frozenset()) -> Record:
    """An element's fields to store: not `id`, nor `_` instructions other than those in `keep`."""
    return {k: v for k, v in item.items() if k != "id" and (k in keep or not k.startswith("_"))}


def _positive_id(value: Any) -> int | None:
    """An id that names a record (a positive integer), else None."""
    key = id_key(value)
    return key if isinstance(key, int) and not isinstance(key, bool) and key > 0 else None


class HaloBilling(HaloWrites):
    """Items, recurring invoice headers and lines: validation, saving, and the `updatelines` route."""

    def _writers(self) -> dict[str, tuple[Validate, Save]]:
        return {
            **super()._writers(),
            "Item": (self._validate_item, self._save_item),
            "RecurringInvoice": (self._validate_header, self._save_header),
        }

    def _action(self, entity: Entity, action: str, request: Request) -> Response:
        """`POST /api/RecurringInvoice/<action>`: `updatelines` saves lines as one batch."""
        if action != "updatelines":
            return json_response(501, {"ClassName": "NotImplementedException", "Message": NOT_MODELLED})
        body = self._array_body(request)
        lines = self.invoice_lines
        return self._save_batch("InvoiceDetail", lines, body, self._validate_line, self._save_line)

    # -- items -----------------------------------------------------------------------------

    def _validate_item(self, item: Record, existing: Record | None) -> str | None:
        """Why Halo would refuse this item: a new one needs a name."""
        return name_problem(item, existing)

    def _save_item(self, existing: Record | None, item: Record) -> Record:
        record = _merged(self.items, _NEW_ITEM, existing, _fields(item))
        self.items[record["id"]] = record
        return record

    # -- headers ---------------------------------------------------------------------------

    def _validate_header(self, item: Record, existing: Record | None) -> str | None:
        """Why Halo would refuse this header: no or an unknown client, or a bad line."""
        if existing is None and _positive_id(item.get("client_id")) is None:
            return "client_id is required"
        client_id = id_key(item.get("client_id", existing and existing["client_id"]))
        if client_id not in self.clients:
            return f"client_id {client_id!r} does not exist"
        lines = item.get("lines")
        if lines is None:
            return None
        if not isinstance(lines, list):
            return "lines must be an array"
        header_id = existing["id"] if existing else None
        for n, line in enumerate(lines):
            problem = self._header_line_problem(line, header_id, client_id)
            if problem:
                return f"lines[{n}]: {problem}"
        return None

    def _header_line_problem(self, line: Any, header_id: int | None, client_id: int) -> str | None:
        """Why a line written with its header is refused: an `id` must be one of its lines."""
        if not isinstance(line, dict):
            return "expected an object"
        line_id = _positive_id(line.get("id"))
        if line.get("id") not in (None, 0, "") and line_id is None:
            return f"invalid id {line.get('id')!r}"
        if line_id is not None:
            stored = self.invoice_lines.get(line_id)
            if stored is None or stored["recurring_invoice_id"] != header_id:
                return f"line {line_id} is not a line of this recurring invoice"
        return self._line_fields_problem(line, client_id)

    def _save_header(self, existing: Record | None, item: Record) -> Record:
        record = _merged(self.invoices, _NEW_HEADER, existing, _fields(item))
        record.pop("lines", None)
        record["client_id"] = id_key(record["client_id"])
        record["client_name"] = self.clients[record["client_id"]]["name"]
        self.invoices[record["id"]] = record
        if isinstance(item.get("lines"), list):
            self._replace_lines(record["id"], item["lines"])
        return self._with_lines(record)

    def _replace_lines(self, header_id: int, lines: list[Record]) -> None:
        """The header's lines become exactly `lines` (the stricter guess: see the module)."""
        kept = {_positive_id(line.get("id")) for line in lines}
        for line_id in self.invoice_lines.ids_where(header_id):
            if line_id not in kept:
                del self.invoice_lines[line_id]
        for line in lines:
            existing = self.invoice_lines.get(_positive_id(line.get("id")) or 0)
            self._save_line(existing, {**line, "recurring_invoice_id": header_id})

    # -- lines -----------------------------------------------------------------------------

    def _validate_line(self, item: Record, existing: Record | None) -> str | None:
        """Why Halo would refuse this `updatelines` element: a new line needs an existing
        `recurring_invoice_id`; a line never moves to another invoice."""
        given = item.get("recurring_invoice_id")
        header_id = _positive_id(given)
        if existing is None and header_id is None:
            return "recurring_invoice_id is required to add a line"
        if given is not None and existing is not None and header_id != existing["recurring_invoice_id"]:
            return "a line cannot move to another recurring invoice"
        if header_id is None and existing is not None:
            header_id = existing["recurring_invoice_id"]
        header = self.invoices.get(header_id) if header_id is not None else None
        if header is None:
            return f"recurring_invoice_id {given!r} does not exist"
        return self._line_fields_problem(item, header["client_id"])

    def _line_fields_problem(self, line: Record, client_id: int) -> str | None:
        """An unknown `_itemid`, or a linked licence that is not one of the client's."""
        item_id = line.get("_itemid")
        if item_id not in (None, 0) and id_key(item_id) not in self.items:
            return f"_itemid {item_id!r} does not exist"
        links = line.get("quantity_licences") or []
        if not isinstance(links, list):
            return "quantity_licences must be an array"
        for link in links:
            licence = self.licences.get(id_key(link.get("licence_id"))) if isinstance(link, dict) else None
            if licence is None:
                return f"quantity_licences: licence {link!r} does not exist"
            if licence["client_id"] != client_id:
                return f"quantity_licences: licence {licence['id']} is not a licence of client {client_id}"
        return None

    def _save_line(self, existing: Record | None, item: Record) -> Record:
        fields = _fields(item, frozenset({"_itemid"}))
        record = _merged(self.invoice_lines, _NEW_LINE, existing, fields)
        record["recurring_invoice_id"] = id_key(record["recurring_invoice_id"])
        if existing is None:
            self._from_item(record, item)
        if "quantity_licences" in fields:
            links = fields["quantity_licences"] or []
            record["quantity_licences"] = [self._licence_link(record, link) for link in links]
        self.invoice_lines[record["id"]] = record
        return line_copy(record)

    def _from_item(self, line: Record, given: Record) -> None:
        """A new line of an Item takes the item's name as `item_code` and its price (recurring,
        else base) as `unit_price`, unless the request sent them."""
        item = self.items.get(id_key(line.get("_itemid")))
        if item is None:
            return
        if "item_code" not in given:
            line["item_code"] = item["name"]
        if "unit_price" not in given:
            line["unit_price"] = item.get("recurringprice") or item.get("baseprice") or 0.0

    def _licence_link(self, line: Record, link: Record) -> Record:
        """A stored licence link: its own id, the licence's id and name, its line."""
        licence = self.licences[id_key(link["licence_id"])]
        link_id = _positive_id(link.get("id")) or next(self._licence_link_ids)
        return {
            **_fields(link),
            "id": link_id,
            "licence_id": licence["id"],
            "licence_name": licence["name"],
            "invoice_line_id": line["id"],
        }
