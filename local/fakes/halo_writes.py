"""Halo's writes in the fake: `POST /api/<Entity>` with an array that creates or partly updates.

As Halo does, the whole batch is validated before anything is saved (one bad element saves
nothing), an element with an `id` updates that record with only the fields it sends, and the
fields Halo derives follow: a client's `toplevel_name` and main site (created with it), a
`client_name` on its sites and licences after a rename. Nothing is ever deleted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Final

from .halo_base import ADDRESS_LINES, Entity, HaloBase, invalid
from .halo_tables import Record, Table, id_key
from .http_messages import Request, Response, json_response


def _stored(item: Record, create_only_prefix: str | None = None) -> Record:
    """Fields to store: not `id`, not `_isimport`-style flags, not create-only instructions
    (`newclient_*`), which Halo acts on but does not keep."""
    return {
        k: v
        for k, v in item.items()
        if k != "id"
        and not k.startswith("_")
        and not (create_only_prefix and k.startswith(create_only_prefix))
    }


def _address(given: Any) -> Record:
    """An AddressStore with line1..line4 and postcode always present."""
    extra = {k: v for k, v in given.items() if not k.startswith("_")} if isinstance(given, dict) else {}
    return {**dict.fromkeys(ADDRESS_LINES, ""), **extra}


#: The fields Halo fills in on a new record, before those the request sent.
#: Why Halo would refuse an element (None: it would not), given the record it updates.
Validate = Callable[[Record, Record | None], str | None]
#: Create (`None`) or update a record with an element's fields; answers the saved record.
Save = Callable[[Record | None, Record], Record]

_NEW_CLIENT: Final[Record] = {
    "name": "",
    "toplevel_id": 0,
    "toplevel_name": "",
    "inactive": False,
    "main_site_id": 0,
    "main_site_name": "",
    "azure_tenants": [],
}
_NEW_SITE: Final[Record] = {
    "client_id": 0,
    "client_name": "",
    "name": "",
    "inactive": False,
    "delivery_address": _address({}),
}
_NEW_LICENCE: Final[Record] = {
    "client_id": 0,
    "client_name": "",
    "name": "",
    "is_active": True,
    "deleted": False,
}


def _merged(table: Table, new: Record, existing: Record | None, fields: Record) -> Record:
    """`existing` with `fields` written over it, or a record new to `table`: its next id, the
    fields Halo fills in (`new`), then `fields`."""
    record = existing if existing is not None else {"id": table.next_id(), **copy.deepcopy(new)}
    record.update(fields)
    return record


def name_problem(item: Record, existing: Record | None) -> str | None:
    """A new record needs a name, and a name written must not be blank."""
    if existing is None or "name" in item:
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            return "name is required"
    return None


class HaloWrites(HaloBase):
    """Batch writes of clients, sites and licences: validation, then saving."""

    def _write(self, entity: Entity, request: Request) -> Response:
        """`POST /api/<Entity>`: the array body saved as one batch (`_save_batch`)."""
        validate, save = self._writers()[entity.name]
        return self._save_batch(entity.name, self._table(entity), self._array_body(request), validate, save)

    def _writers(self) -> dict[str, tuple[Validate, Save]]:
        """Entity name → (validate, save) of its elements (`halo_billing` adds its own)."""
        return {
            "Client": (self._validate_client, self._save_client),
            "Site": (self._validate_site, self._save_site),
            "SoftwareLicence": (self._validate_licence, self._save_licence),
        }

    @staticmethod
    def _array_body(request: Request) -> list[Any]:
        """A write's JSON array, or Halo's 400."""
        if request.json_error is not None:
            raise invalid(f"Invalid JSON: {request.json_error}", "JsonReaderException")
        if not isinstance(request.json, list):
            raise invalid("Expected an array", "BadRequestException")
        return request.json

    def _save_batch(
        self, name: str, table: Table, body: list[Any], validate: Validate, save: Save
    ) -> Response:
        """Validate the whole batch first, so a bad element saves nothing (as Halo does), then
        save each element and answer the saved records; `on_created` hooks run after the answer
        is built, as a person or an automation acting on a record just after it was saved."""
        plan: list[tuple[Record | None, Record]] = []
        for n, item in enumerate(body):
            existing = self._updated_by(name, table, f"{name}[{n}]", item)
            problem = validate(item, existing)
            if problem:
                raise invalid(f"{name}[{n}]: {problem}")
            plan.append((existing, item))
        saved = [save(existing, item) for existing, item in plan]
        created = [record for record, (existing, _) in zip(saved, plan, strict=True) if existing is None]
        self.created += len(created)
        self.updated += len(plan) - len(created)
        self.writes += len(plan)
        one = self.single_post_returns_object and len(saved) == 1
        response = json_response(200, saved[0] if one else saved)
        self._created(name, created)
        return response

    @staticmethod
    def _updated_by(name: str, table: Table, where: str, item: Any) -> Record | None:
        """The record an element updates (by its `id`), None when it creates one, or Halo's 400."""
        if not isinstance(item, dict):
            raise invalid(f"{where}: expected an object")
        raw_id = item.get("id")
        if raw_id in (None, ""):
            return None
        record_id = id_key(raw_id)
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise invalid(f"{where}: invalid id {raw_id!r}")
        if record_id <= 0:
            return None
        existing = table.get(record_id)
        if existing is None:
            raise invalid(f"{where}: {name} {record_id} not found")
        return existing

    def _owner_problem(self, item: Record, existing: Record | None) -> str | None:
        """Why a site's or licence's client is wrong: missing on a new one, or not a client."""
        if existing is None and "client_id" not in item:
            return "client_id is required"
        if "client_id" in item and id_key(item["client_id"]) not in self.clients:
            return f"client_id {item['client_id']!r} does not exist"
        return None

    def _validate_client(self, item: Record, existing: Record | None) -> str | None:
        """Why Halo would refuse this client element, or None (tests replace it to refuse more)."""
        if existing is None or "name" in item:
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                return "name is required"
            if len(name) > 255:
                return "name is longer than 255 characters"
        toplevel_id = id_key(item.get("toplevel_id"))
        if toplevel_id not in (None, 0, -1) and toplevel_id not in self.toplevels:
            return f"toplevel_id {item['toplevel_id']!r} does not exist"
        tenants = item.get("azure_tenants")
        if tenants is not None and not (
            isinstance(tenants, list) and all(isinstance(t, dict) for t in tenants)
        ):
            return "azure_tenants must be an array of objects"
        return None

    def _validate_site(self, item: Record, existing: Record | None) -> str | None:
        return self._owner_problem(item, existing)

    def _validate_licence(self, item: Record, existing: Record | None) -> str | None:
        """Why Halo would refuse this licence element, or None (tests replace it to refuse more)."""
        return self._owner_problem(item, existing) or name_problem(item, existing)

    def _save_client(self, existing: Record | None, item: Record) -> Record:
        """Create or update a client, and the fields that follow it (top level, tenants, sites)."""
        fields = _stored(item, "newclient_")
        record = _merged(self.clients, _NEW_CLIENT, existing, fields)
        if "toplevel_id" in fields:
            toplevel_id = id_key(fields["toplevel_id"]) or 0
            record["toplevel_id"] = toplevel_id
            record["toplevel_name"] = self.toplevels.get(toplevel_id, {}).get("name", "")
        if "azure_tenants" in fields:
            record["azure_tenants"] = [
                self._azure_tenant(tenant, record) for tenant in fields["azure_tenants"]
            ]
        self.clients[record["id"]] = record
        if existing is None:
            self._add_main_site(record, item)
        else:
            self._follow_client_edit(record, fields)
        return record

    def _azure_tenant(self, tenant: Record, client: Record) -> Record:
        """A tenant link as Halo stores it: its own id (a new one unless it has one), its client's."""
        given_id = tenant.get("id")
        tenant_id = given_id if isinstance(given_id, int) and given_id > 0 else next(self._azure_ids)
        return {**_stored(tenant), "id": tenant_id, "client_id": client["id"], "client_name": client["name"]}

    def _add_main_site(self, client: Record, item: Record) -> None:
        """Halo creates the main site with the client, from the request's `newclient_*` fields."""
        site = self._save_site(
            None,
            {
                "client_id": client["id"],
                "name": item.get("newclient_sitename") or "Main",
                "delivery_address": item.get("newclient_delivery_address") or {},
            },
        )
        client["main_site_id"], client["main_site_name"] = site["id"], site["name"]

    def _follow_client_edit(self, client: Record, fields: Record) -> None:
        """The denormalised fields that follow an edited client: its main site's name, and the
        `client_name` of its sites and licences after a rename."""
        if "main_site_id" in fields:
            site = self.sites.get(id_key(fields["main_site_id"]))
            client["main_site_name"] = site["name"] if site else ""
        if "name" in fields:
            for table in (self.sites, self.licences):
                for child in table.ids_where(client["id"]):
                    table[child]["client_name"] = client["name"]

    def _take_owner(self, record: Record, fields: Record) -> None:
        """A site's or licence's `client_id` as an int, and its client's name beside it."""
        if "client_id" in fields:
            record["client_id"] = id_key(fields["client_id"])
            record["client_name"] = self.clients[record["client_id"]]["name"]

    def _save_site(self, existing: Record | None, item: Record) -> Record:
        fields = _stored(item, "newsite_")
        record = _merged(self.sites, _NEW_SITE, existing, fields)
        self._take_owner(record, fields)
        if "delivery_address" in fields:
            record["delivery_address"] = _address(fields["delivery_address"])
        self.sites[record["id"]] = record
        owner = self.clients.get(record["client_id"])
        if existing is not None and owner and owner.get("main_site_id") == record["id"]:
            owner["main_site_name"] = record["name"]
        return record

    def _save_licence(self, existing: Record | None, item: Record) -> Record:
        fields = _stored(item)
        record = _merged(self.licences, _NEW_LICENCE, existing, fields)
        self._take_owner(record, fields)
        self.licences[record["id"]] = record
        return record
