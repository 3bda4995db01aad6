"""Halo's reads in the fake: one record by id, and paged, filtered, searched lists.

Hosted Halo serves at most `max_page_size` (100) records per page whatever `page_size` asks, and
says in `page_size` what each page really holds; a client that trusts its own page size misses
records. Filters are those the product uses (`includeinactive`, `client_id`, `toplevel_id`,
`search`), applied as Halo does. A recurring invoice's lines come with it only on request
(`includelines=true`) in a list, always in a single read.
"""

from __future__ import annotations

from collections.abc import Callable

from .halo_base import ADDRESS_LINES, Entity, HaloBase
from .halo_tables import Record, id_key
from .http_messages import HttpError, Request, Response, json_response

DEFAULT_PAGE_SIZE = 50


class HaloLists(HaloBase):
    """`GET /api/<Entity>` and `GET /api/<Entity>/<id>`."""

    @staticmethod
    def _int_param(request: Request, name: str) -> int | None:
        """An integer query parameter (None when absent or blank), or Halo's 400."""
        raw = request.param(name)
        if raw is None or raw.strip() == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise HttpError(
                json_response(400, {"Message": f"The request is invalid: {name}={raw!r}"})
            ) from None

    def _get_one(self, entity: Entity, raw_id: str) -> Response:
        """One record by id, or Halo's 404."""
        key = id_key(raw_id)
        record = self._table(entity).get(key) if isinstance(key, int) else None
        if record is None:
            return json_response(404, {"Message": f"{entity.name} not found"})
        return json_response(200, self._with_lines(record) if entity.name == "RecurringInvoice" else record)

    def _matching_ids(self, entity: Entity, request: Request) -> list[int]:
        """Ids passing the entity's filters, sorted; uses the client_id index when filtered."""
        table = self._table(entity)
        client_id = self._int_param(request, "client_id")
        keep = self._filter(entity, request)
        if client_id is not None and table.index_field == "client_id":
            candidates = table.ids_where(client_id)
        else:
            candidates = sorted(table)
        return [i for i in candidates if keep(table[i])]

    def _filter(self, entity: Entity, request: Request) -> Callable[[Record], bool]:
        """Whether a record passes the list's filters, as Halo applies them to `entity`:
        inactive records only on request; `search` in a client's name, or a licence's name
        and notes."""
        include_inactive = request.flag("includeinactive")
        search = (request.param("search") or "").strip().casefold()
        if entity.name == "Client":
            toplevel_id = self._int_param(request, "toplevel_id")
            return lambda r: (
                (include_inactive or not r.get("inactive"))
                and (toplevel_id is None or id_key(r.get("toplevel_id")) == toplevel_id)
                and (not search or search in str(r.get("name") or "").casefold())
            )
        if entity.name == "Site":
            return lambda r: include_inactive or not r.get("inactive")
        if entity.name == "Item":
            return lambda r: not search or search in str(r.get("name") or "").casefold()
        if entity.name == "SoftwareLicence":
            return lambda r: (
                (include_inactive or r.get("is_active", True) is not False)
                and (not search or search in f"{r.get('name') or ''}\n{r.get('notes') or ''}".casefold())
            )
        return lambda r: True

    def _list_view(self, entity: Entity, record: Record, request: Request) -> Record:
        """A record as a list shows it: a client's Azure tenants only on request, a site's
        address also as flat `delivery_address_line<n>` fields, a recurring invoice's lines only
        on request."""
        if entity.name == "RecurringInvoice" and request.flag("includelines"):
            return self._with_lines(record)
        if entity.name == "Client" and not request.flag("includeazuretenants"):
            return {k: v for k, v in record.items() if k != "azure_tenants"}
        if entity.name == "Site":
            address = record.get("delivery_address") or {}
            flat = {
                f"delivery_address_line{n}": address.get(line, "")
                for n, line in enumerate(ADDRESS_LINES, start=1)
            }
            return {**record, **flat}
        return record

    def _list(self, entity: Entity, request: Request) -> Response:
        """A list answer: one page (`pageinate`) or the first `count` of the matching records."""
        table = self._table(entity)
        ids = self._matching_ids(entity, request)
        total = len(ids)
        paged = request.flag("pageinate")
        page_no = page_size = 0
        if paged:  # `page_size` answers what each page really holds, not what was asked
            page_size = self._int_param(request, "page_size") or DEFAULT_PAGE_SIZE
            page_size = min(max(page_size, 1), self.max_page_size)
            page_no = max(self._int_param(request, "page_no") or 1, 1)
            ids = ids[(page_no - 1) * page_size : page_no * page_size]
        else:
            count = self._int_param(request, "count")
            if count is not None and count > 0:
                ids = ids[:count]
        records = [self._list_view(entity, table[i], request) for i in ids]
        if entity.name == "TopLevel" and self.toplevel_style == "bare":
            return json_response(200, records)
        payload: Record = {"page_no": page_no, "page_size": page_size} if paged else {}
        payload["record_count"] = total
        payload[entity.list_key] = records
        return json_response(200, payload)
