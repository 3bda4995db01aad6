"""Hostile upstreams: what Dicker Data or Halo may answer when they misbehave.

The requirement (from the issue): hostile data from Dicker Data or Halo (huge names, control
characters, missing fields, wrong types, a 50 MB body, invalid JSON, HTML error pages) produces
a per-item failure or a clear error, never a crash of the whole run and never a partial write
that a re-run cannot repair.

Every test drives the real handlers through the local API (queue and worker included) against
the loopback fakes. Several tests collect every broken expectation before failing, so one
failure report lists all of them. A run whose worker crashed never finishes: `HostileApi.run`
notices that (the run is still running but no worker has run for a second) instead of
waiting for a timeout.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from ddhalo.halo.records import MARKER
from ddhalo.http import retry as http_module
from ddhalo.pipeline.subscriptions import read as subscriptions_module
from local.client import FINISHED
from local.fakes import DickerDataFake, HaloFake
from local.fakes.http_messages import HTML_TYPE, JSON_TYPE, Request, Response, json_response
from local.fakes.sample_data import make_subscription, sample_dicker_data, sample_halo, tenant_guid
from local.serve.app import LocalApp
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

Record = dict[str, Any]
State = dict[str, list[tuple[Any, ...]]]

CONTOSO, SMITHJONES = tenant_guid("contoso"), tenant_guid("smithjones")
GET_TENANT = "/api/Subscriptions/GetTenant"
GET_SUBSCRIPTIONS = "/api/Subscriptions/GetSubscriptionDetails"
HTML_502 = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
    "Gateway</h1></center><hr><center>nginx</center>\n<pre>upstream: b2b-api-backend-03\n</pre>"
    "</body></html>"
)
#: Bidirectional-text controls: invisible in Halo's UI, they reorder what the user reads.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
HOSTILE_TEXT = "\x00\x1b[31m\u202e"
FIFTY_MB = 50 * 1024 * 1024
#: Licence fields compared with a clean run's (ids aside, which differ between worlds).
LICENCE_FIELDS = (
    "name", "count", "status", "is_active", "deleted", "distributor", "manufacturer", "product_sku",
    "vendor_product_sku", "term_duration", "billing_cycle", "end_date", "tenant_id", "notes",
)  # fmt: skip


# ------------------------------------------------------------------------------ harness
def _fast_backoff(self: http_module.RetryPolicy, attempt: int, rng: Any) -> float:
    """Keep every retry (the count matters), drop the jittered sleep between them."""
    return 0.001


class WorkerWatch:
    """Counts invocations of the queue-driven functions (the worker) in flight: a run that is
    still running while no worker runs and none has run for a while has crashed."""

    def __init__(self, app: LocalApp, monkeypatch: pytest.MonkeyPatch) -> None:
        self.functions = {source.function_id for source in app.template.sqs_sources}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.last_seen = time.monotonic()
        real = app.invoke

        def invoke(function_id: str, event: Any) -> Any:
            if function_id not in self.functions:
                return real(function_id, event)
            with self.lock:
                self.in_flight += 1
            try:
                return real(function_id, event)
            finally:
                with self.lock:
                    self.in_flight -= 1
                    self.last_seen = time.monotonic()

        monkeypatch.setattr(app, "invoke", invoke)

    def idle_for(self) -> float:
        with self.lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last_seen


class HostileApi(Api):
    """The conftest client, plus: every response kept (no traceback may leak), crash detection,
    all items of a run (paged)."""

    def __init__(self, url: str, watch: WorkerWatch) -> None:
        super().__init__(url)
        self.watch = watch
        self.responses: list[requests.Response] = []

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        response = super().call(method, path, body, **params)
        self.responses.append(response)
        return response

    def wait_run(self, run_id: str, timeout: float = 40, quiet: float = 1.0) -> Record:
        started = time.monotonic()
        run: Record = {}
        while time.monotonic() < started + timeout:
            run = self.get(f"/runs/{run_id}").json()
            if run.get("status") in FINISHED:
                return run
            if min(time.monotonic() - started, self.watch.idle_for()) > quiet:
                raise AssertionError(
                    f"run {run_id} crashed: still {run.get('status')!r} with no worker running for "
                    f"{quiet:.0f} s (the worker raised something other than an IntegrationError)"
                )
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not finish: {run}")

    def try_run(self, path: str, body: Any, problems: list[str], label: str) -> Record | None:
        """`run`, but a crashed run becomes a problem (so the test can go on to the re-run)."""
        try:
            return self.run(path, body)
        except AssertionError as exc:
            problems.append(f"{label}: {exc}")
            return None

    def items(self, run_id: str) -> list[Record]:
        found: list[Record] = []
        token: str | None = None
        while True:
            params = {"next_token": token} if token else {}
            page = self.get(f"/runs/{run_id}", **params).json()
            found += page["items"]
            token = page.get("next_token")
            if not token:
                return found


#: Every import here creates each customer, held names too (``create_when_similar``): the sample
#: world's Halo holds most of its names, and these tests are about hostile answers, not holding.
#: Their faults save a write at once or never, so a lost answer is looked for after a second, not
#: after the 300 s a busy Halo is given (tests/integration/test_slow_writes.py is about that).
SETTINGS = {"halo_requests_per_minute": 6000, "create_when_similar": True, "halo_write_settle_seconds": 1}


def _upstreams(dd: DickerDataFake, halo: HaloFake) -> UpstreamTargets:
    return UpstreamTargets(
        dicker_data=DickerDataUpstream(dd.base_url, dd.account_code, dd.access_token),
        halo=HaloUpstream(halo.api_url, halo.auth_url, None, halo.client_id, halo.client_secret),
    )


@pytest.fixture
def api(local_app: LocalApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileApi]:
    monkeypatch.setattr(http_module.RetryPolicy, "backoff", _fast_backoff)
    client = HostileApi(local_app.url, WorkerWatch(local_app, monkeypatch))
    response = client.call("PUT", "/settings", SETTINGS)
    assert response.status_code == 200, response.text
    yield client
    leaked = [
        f"{r.request.method} {r.url} -> {r.status_code}" for r in client.responses if "Traceback" in r.text
    ]
    assert not leaked, f"API answers carried a Python traceback: {leaked}"


@pytest.fixture(params=["per-customer", "bulk"])
def read_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both subscription read strategies (per customer when few, one bulk read when many)."""
    if request.param == "bulk":
        monkeypatch.setattr(subscriptions_module, "PER_CUSTOMER_READS", 0)
    return str(request.param)


# ------------------------------------------------------------------------------ Halo state
def _first_marker(licence: Record) -> str | None:
    notes = str(licence.get("notes") or "")
    first = notes.splitlines()[0] if notes else ""
    return first[len(MARKER) :] if first.startswith(MARKER) else None


def _tenant_links(client: Record) -> tuple[tuple[str, str, str], ...]:
    links = client.get("azure_tenants")
    if not isinstance(links, list):
        return ()
    return tuple(
        sorted(
            (
                str(t.get("azure_tenant_id") or ""),
                str(t.get("azure_tenant_name") or ""),
                str(t.get("azure_tenant_domain") or ""),
            )
            for t in links
            if isinstance(t, dict)
        )
    )


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) else -1


def halo_state(halo: HaloFake) -> State:
    """What Halo holds, keyed by what Dicker Data calls things (ids differ between worlds);
    records a test planted (`x_hostile`) are left out."""
    with halo.lock:
        clients = {k: c for k, c in halo.clients.items() if not c.get("x_hostile")}
        licences = {k: v for k, v in halo.licences.items() if not v.get("x_hostile")}

        def client_key(client_id: Any) -> tuple[Any, ...]:
            client = clients.get(_as_int(client_id)) or {}
            return (client.get("name"), tuple(link[0] for link in _tenant_links(client)))

        def address(client: Record) -> tuple[Any, ...]:
            site = halo.sites.get(_as_int(client.get("main_site_id"))) or {}
            return tuple(sorted((site.get("delivery_address") or {}).items()))

        client_rows = [
            (c.get("name"), c.get("toplevel_name"), bool(c.get("inactive")), _tenant_links(c), address(c))
            for c in clients.values()
        ]
        licence_rows = [
            (
                client_key(lic.get("client_id")),
                _first_marker(lic),
                *(lic.get(name) for name in LICENCE_FIELDS),
                _first_marker(licences.get(_as_int(lic.get("parent_id"))) or {})
                if lic.get("parent_id")
                else None,
            )
            for lic in licences.values()
        ]
    return {"clients": sorted(client_rows, key=repr), "licences": sorted(licence_rows, key=repr)}


def duplicates(halo: HaloFake) -> list[str]:
    """Two Halo clients carrying one Microsoft tenant, or two licences carrying one marker."""
    with halo.lock:
        tenants = Counter(link[0] for c in halo.clients.values() for link in _tenant_links(c))
        markers = Counter(m for lic in halo.licences.values() if (m := _first_marker(lic)))
    return [f"{n} clients carry tenant {t}" for t, n in tenants.items() if n > 1] + [
        f"{n} licences carry marker {m}" for m, n in markers.items() if n > 1
    ]


def state_diff(actual: State, expected: State, part: str) -> list[str]:
    missing = Counter(map(repr, expected[part])) - Counter(map(repr, actual[part]))
    extra = Counter(map(repr, actual[part])) - Counter(map(repr, expected[part]))
    if not missing and not extra:
        return []
    return [f"Halo {part} differ from a clean run: missing {list(missing)[:3]}, extra {list(extra)[:3]}"]


def bad_characters(halo: HaloFake) -> list[str]:
    """Control (Cc) and bidi characters in any string Halo stores; `notes` may hold newlines."""
    found: list[str] = []

    def walk(value: Any, where: str, multiline: bool) -> None:
        if isinstance(value, str):
            bad = {
                f"U+{ord(ch):04X}"
                for ch in value
                if ch in BIDI or (unicodedata.category(ch) == "Cc" and not (multiline and ch == "\n"))
            }
            if bad:
                found.append(f"{where}: {sorted(bad)} in {value[:60]!r}")
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{where}.{key}", multiline or key == "notes")
        elif isinstance(value, list):
            for n, inner in enumerate(value):
                walk(inner, f"{where}[{n}]", multiline)

    with halo.lock:
        for table in ("clients", "sites", "licences"):
            for record_id, record in getattr(halo, table).items():
                walk(record, f"{table}[{record_id}]", False)
    return found


@pytest.fixture(scope="module")
def clean_state() -> State:
    """Halo after a fault-free generate → import customers → import subscriptions."""
    tenants, subscriptions = sample_dicker_data()
    with DickerDataFake(tenants=tenants, subscriptions=subscriptions) as dd, HaloFake() as halo:
        sample_halo(halo)
        with LocalApp(port=0, upstreams=_upstreams(dd, halo)) as app:
            client = Api(app.url)
            create_all = {"create_when_similar": SETTINGS["create_when_similar"]}
            assert client.call("PUT", "/settings", create_all).status_code == 200
            assert client.post("/mappings/generate").status_code == 200
            assert client.run("/customers/import")["status"] == "succeeded"
            assert client.run("/subscriptions/import")["status"] == "succeeded"
        return halo_state(halo)


# ------------------------------------------------------------------------------ checks
def readable(text: Any) -> str | None:
    """Why `text` is not a readable one-line message for a person, or None when it is."""
    if not isinstance(text, str) or not text.strip():
        return f"empty ({text!r})"
    low = text.lower()
    for bad, why in (
        ("traceback", "a traceback"),
        ('file "', "a stack frame"),
        ("<html", "HTML"),
        ("<!doctype", "HTML"),
        ("<body", "HTML"),
    ):
        if bad in low:
            return f"carries {why}: {text[:120]!r}"
    if "\n" in text or "\r" in text:
        return f"is not one line: {text[:120]!r}"
    if len(text) > 600:
        return f"is {len(text)} characters long"
    return None


def run_problems(api: HostileApi, run: Record) -> list[str]:
    """Invariants of any finished run: counts match the items, every failed/skipped item and
    any run-level error is readable."""
    problems: list[str] = []
    items = api.items(run["run_id"])
    counted = sum(run["counts"].values())
    if counted != len(items):
        by_result = Counter(i["result"] for i in items)
        problems.append(
            f"run counts {run['counts']} ({counted} items) but GET /runs answers {len(items)} items "
            f"{dict(by_result)}: some items overwrote others"
        )
    for item in items:
        if item["result"] in ("failed", "skipped") and (why := readable(item.get("reason"))):
            problems.append(f"{item['result']} item {item['dicker_id']!r}: reason {why}")
    if run.get("error") is not None:
        for field in ("error", "hint"):
            if why := readable(run.get(field)):
                problems.append(f"run {field} {why}")
    return problems


def items_by(items: list[Record]) -> dict[str, list[Record]]:
    found: dict[str, list[Record]] = {}
    for item in items:
        found.setdefault(item["dicker_id"], []).append(item)
    return found


def results_of(found: dict[str, list[Record]], dicker_id: str) -> list[str]:
    return [i["result"] for i in found.get(dicker_id, [])]


def tenant_row(dd: DickerDataFake, tenant_id: str) -> Record:
    return next(t for t in dd.tenants if isinstance(t, dict) and t.get("TenantId") == tenant_id)


def hostile_tenant(slug: str, **fields: Any) -> Record:
    row: Record = {
        "AccountCode": "ACME01",
        "TenantId": tenant_guid(slug),
        "TenantDescription": slug,
        "CompanyName": slug,
        "TenantDomain": f"{slug}.onmicrosoft.com",
        "Address01": "1 Test St",
        "Suburb": "Sydney",
        "State": "NSW",
        "Postcode": "2000",
        "Country": "AU",
    }
    row.update(fields)
    return {k: v for k, v in row.items() if v is not ...}


def map_and_import_customers(api: HostileApi) -> dict[str, int]:
    assert api.post("/mappings/generate").status_code == 200
    run = api.run("/customers/import")
    assert run["status"] == "succeeded", run
    return {m["dicker_customer_id"]: m["halo_client_id"] for m in api.get("/mappings").json()["mappings"]}


def ours(halo: HaloFake) -> dict[str, list[Record]]:
    found: dict[str, list[Record]] = {}
    for licence in halo.licences.values():
        if marker := _first_marker(licence):
            found.setdefault(marker, []).append(licence)
    return found


# ============================================================ Dicker Data: hostile rows
def test_hostile_tenant_rows_fail_alone_and_the_others_import(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    huge = "Huge Holdings Pty Ltd " + "x" * 100_000
    contoso = tenant_row(dicker_data_fake, CONTOSO)
    first_hostile = len(dicker_data_fake.tenants)
    rows: list[Any] = [
        hostile_tenant("huge", CompanyName=huge, TenantDescription=huge),
        hostile_tenant("no-tenant-key", TenantId=..., CompanyName="No Tenant Key Pty Ltd"),
        "just a string",
        ["a", "list"],
        None,
        {**contoso, "CompanyName": "Contoso Impostor", "TenantDescription": "Contoso Impostor"},
        hostile_tenant("nameless", CompanyName="\x00\x1b", TenantDescription=None),
    ]
    dicker_data_fake.tenants.extend(rows)
    generated = api.post("/mappings/generate")
    assert generated.status_code == 200, generated.text
    overview = api.get("/mappings")
    assert overview.status_code == 200, overview.text

    problems: list[str] = []
    run = api.run("/customers/import")
    problems += run_problems(api, run)
    items = api.items(run["run_id"])
    found = items_by(items)
    if run["status"] != "partial":
        problems.append(f"run status {run['status']!r}, expected 'partial'")
    # The seven sample customers with a tenant import exactly as in a clean world.
    for slug in ("contoso", "fabrikam", "northwind"):
        if "updated" not in results_of(found, tenant_guid(slug)):
            problems.append(f"{slug}: {results_of(found, tenant_guid(slug))}, expected an 'updated' item")
    for slug in ("tailspin", "smithjones", "adventure", "wideworld"):
        if "created" not in results_of(found, tenant_guid(slug)):
            problems.append(f"{slug}: {results_of(found, tenant_guid(slug))}, expected a 'created' item")
    # Each hostile row: its own readable failure (or a skip for the row without a tenant).
    if results_of(found, tenant_guid("huge")) != ["failed"]:
        problems.append(f"100,000-character name: {results_of(found, tenant_guid('huge'))}, expected failed")
    elif len(found[tenant_guid("huge")][0].get("name") or "") > 300:
        problems.append("100,000-character name: the item's name is not shortened")
    if not [i for i in items if i["result"] == "skipped" and "No Tenant Key" in (i.get("name") or "")]:
        problems.append("row without TenantId: no 'skipped' item")
    for offset, what in ((2, "a string row"), (3, "a list row"), (4, "a null row")):
        ref = f"#{first_hostile + offset}"
        if results_of(found, ref) != ["failed"]:
            problems.append(f"{what} ({ref}): {results_of(found, ref)}, expected one failed item")
    twice = [i for i in items if i["result"] == "failed" and "twice" in (i.get("reason") or "")]
    if not twice:
        problems.append(
            f"duplicated TenantId: no failed item says it was answered twice (items for it: "
            f"{found.get(CONTOSO)})"
        )
    if results_of(found, tenant_guid("nameless")) != ["failed"]:
        problems.append(f"nameless row: {results_of(found, tenant_guid('nameless'))}, expected failed")
    # Nothing hostile landed in Halo.
    names = [str(c.get("name") or "") for c in halo_fake.clients.values()]
    if [n for n in names if n.startswith("Huge Holdings") or n == "Contoso Impostor" or len(n) > 255]:
        problems.append("a hostile customer was written to Halo")
    problems += duplicates(halo_fake)
    assert not problems, "\n".join(problems)


def test_wrongly_typed_tenant_fields_are_refused_not_stringified(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    """A TenantId or CompanyName that is a JSON object/array is not a name or an id."""
    dicker_data_fake.tenants.extend(
        [
            hostile_tenant("dict-id", TenantId={"id": tenant_guid("dict-id")}, CompanyName="Dict Id Ltd"),
            hostile_tenant("list-id", TenantId=[tenant_guid("list-id")], CompanyName="List Id Ltd"),
            hostile_tenant("dict-name", CompanyName={"legal": "Dict Name Ltd"}, TenantDescription=...),
            hostile_tenant("list-name", CompanyName=["List", "Name"], TenantDescription=...),
        ]
    )
    problems: list[str] = []
    run = api.run("/customers/import")
    problems += run_problems(api, run)
    items = api.items(run["run_id"])
    for label in ("Dict Id Ltd", "List Id Ltd"):
        hits = [i for i in items if i.get("name") == label]
        if [i["result"] for i in hits] not in (["failed"], ["skipped"]):
            problems.append(f"{label} (TenantId of the wrong type): {[i['result'] for i in hits]}")
    for slug in ("dict-name", "list-name"):
        if results_of(items_by(items), tenant_guid(slug)) != ["failed"]:
            problems.append(
                f"{slug} (CompanyName of the wrong type): {results_of(items_by(items), tenant_guid(slug))}"
            )
    for client in halo_fake.clients.values():
        junk = [str(client.get("name"))] + [link[0] for link in _tenant_links(client)]
        if any(text.startswith(("{", "[")) for text in junk):
            problems.append(f"Halo client {client['id']} carries a stringified object: {junk}")
    if run["status"] != "partial":
        problems.append(f"run status {run['status']!r}, expected 'partial'")
    assert not problems, "\n".join(problems)


def _hostile_subscription_rows(dd: DickerDataFake) -> tuple[list[Any], dict[str, str]]:
    """Contoso's subscriptions plus hostile rows; answers (rows, ref → what it is)."""
    contoso = tenant_row(dd, CONTOSO)
    good = [copy.deepcopy(s) for s in dd.subscriptions if s["TenantId"] == CONTOSO]

    def sub(sub_id: str, **fields: Any) -> Record:
        row = make_subscription(contoso, sub_id, "basic", quantity=3)
        row.update(fields)
        return {k: v for k, v in row.items() if v is not ...}

    hostile: list[tuple[str, Any]] = [
        ("no SubscriptionId", sub("unused", SubscriptionId=...)),
        ("no TenantId", sub("hostile-no-tenant", TenantId=...)),
        ("ConfirmedQuantity 'lots'", sub("hostile-qty-lots", ConfirmedQuantity="lots")),
        ("ConfirmedQuantity a dict", sub("hostile-qty-dict", ConfirmedQuantity={"seats": 5})),
        ("a string row", "garbage"),
        ("a list row", [1, 2, 3]),
        ("a null row", None),
        ("a duplicated SubscriptionId", {**good[0], "ConfirmedQuantity": 999}),
    ]
    rows: list[Any] = list(good)
    refs: dict[str, str] = {}
    for what, row in hostile:
        sub_id = row.get("SubscriptionId") if isinstance(row, dict) else None
        refs[sub_id or f"#{len(rows)}"] = what
        rows.append(row)
    # Tolerable oddities: imported (cleaned) or failed, but never a crash or junk in Halo.
    rows += [
        sub("hostile-status-null", Status=None),
        sub("hostile-dates", ExpiryDate="not a date", LastBillingDate=20250101, NextBillingDate={"y": 1}),
        sub("hostile-huge-description", StockDescription="M365 " + "X" * 100_000),
    ]
    return rows, refs


def test_hostile_subscription_rows_fail_alone_and_the_others_import(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake, read_mode: str
) -> None:
    mapped = map_and_import_customers(api)
    rows, must_fail = _hostile_subscription_rows(dicker_data_fake)
    good_ids = [s["SubscriptionId"] for s in dicker_data_fake.subscriptions if s["TenantId"] == CONTOSO]
    dicker_data_fake.fail_next(1, 200, {"Out": rows}, paths=[GET_SUBSCRIPTIONS])

    problems: list[str] = []
    run = api.run("/subscriptions/import", {"customer_ids": [CONTOSO]})
    problems += run_problems(api, run)
    found = items_by(api.items(run["run_id"]))
    if run["status"] != "partial":
        problems.append(f"run status {run['status']!r}, expected 'partial'")
    licences = ours(halo_fake)
    for sub_id in good_ids:
        if "created" not in results_of(found, sub_id) or len(licences.get(sub_id, [])) != 1:
            problems.append(f"good subscription {sub_id}: {results_of(found, sub_id)}, not imported once")
    original = next(s for s in dicker_data_fake.subscriptions if s["SubscriptionId"] == good_ids[0])
    if licences.get(good_ids[0]) and licences[good_ids[0]][0].get("count") != original["ConfirmedQuantity"]:
        problems.append("duplicated SubscriptionId: the second row's quantity overwrote the first")
    for ref, what in must_fail.items():
        results = results_of(found, ref)
        if what == "no TenantId":
            if results not in (["failed"], ["skipped"]):
                problems.append(f"{what} ({ref}): items {results}, expected failed or skipped")
        elif what == "a duplicated SubscriptionId":
            if "failed" not in results:
                problems.append(f"{what} ({ref}): items {results}, expected a failed item besides the first")
        elif results != ["failed"]:
            problems.append(f"{what} ({ref}): items {results}, expected one failed item")
    for ref in ("hostile-no-tenant", "hostile-qty-lots", "hostile-qty-dict"):
        if ref in licences:
            problems.append(f"{must_fail[ref]}: a licence was written to Halo anyway")
    for ref in ("hostile-status-null", "hostile-dates", "hostile-huge-description"):
        if not set(results_of(found, ref)) & {"created", "failed"}:
            problems.append(f"{ref}: items {results_of(found, ref)}, expected created or failed")
    for licence in (lic for group in licences.values() for lic in group):
        if len(str(licence.get("name") or "")) > 255:
            problems.append(f"licence {licence['id']}: a name of {len(licence['name'])} characters")
        end = licence.get("end_date")
        if end is not None and not (isinstance(end, str) and len(end) >= 10 and end[4] == "-"):
            problems.append(f"licence {licence['id']}: end_date {end!r}")
    assert mapped[CONTOSO]
    problems += duplicates(halo_fake)
    assert not problems, "\n".join(problems)


def test_an_infinite_quantity_fails_one_subscription_not_the_run(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    """JSON parsers (Python's included) read `Infinity`; `int(inf)` raises OverflowError."""
    map_and_import_customers(api)
    contoso = tenant_row(dicker_data_fake, CONTOSO)
    dicker_data_fake.add_subscription(
        make_subscription(contoso, "hostile-qty-infinity", "basic") | {"ConfirmedQuantity": float("inf")}
    )
    dicker_data_fake.add_subscription(
        make_subscription(contoso, "hostile-qty-1e999", "basic") | {"ConfirmedQuantity": "1e999"}
    )
    problems: list[str] = []
    run = api.try_run("/subscriptions/import", {}, problems, "subscriptions import")
    if run is not None:
        problems += run_problems(api, run)
        found = items_by(api.items(run["run_id"]))
        for ref in ("hostile-qty-infinity", "hostile-qty-1e999"):
            if results_of(found, ref) != ["failed"]:
                problems.append(f"{ref}: items {results_of(found, ref)}, expected one failed item")
        if run["status"] != "partial" or run["counts"]["created"] < 20:
            problems.append(f"run {run['status']} {run['counts']}: the other subscriptions did not import")
    assert not problems, "\n".join(problems)


def test_control_characters_never_reach_halo(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    """NUL, ESC (terminal escapes), newline and a right-to-left override in every text field."""
    dicker_data_fake.add_tenant(
        hostile_tenant(
            "control",
            CompanyName=f"Evil{HOSTILE_TEXT} Corp\nLine Two",
            TenantDescription=f"Evil{HOSTILE_TEXT} Corp",
            TenantDomain=f"evil{HOSTILE_TEXT}.onmicrosoft.com",
            Address01=f"1{HOSTILE_TEXT} Main St",
            Address02="Level\t2",
            Suburb=f"Sydney{HOSTILE_TEXT}",
        )
    )
    contoso = tenant_row(dicker_data_fake, CONTOSO)
    contoso["Address01"] = f"12 Harbour{HOSTILE_TEXT} St"
    evil = tenant_row(dicker_data_fake, tenant_guid("control"))
    for n, sub in enumerate(
        [make_subscription(contoso, "ctl-sub-1", "basic"), make_subscription(evil, "ctl-sub-2", "apps")]
    ):
        sub.update(
            StockDescription=f"MS NCE{HOSTILE_TEXT} M365 BASIC\nINJECTED",
            SubscriptionReference=f"Ref{HOSTILE_TEXT}{n}",
            StockCode=f"MS-\x00NCE-{n}",
            BillingFrequency="Mon\x1bthly",
            Status="ACTIVE\x00",
        )
        dicker_data_fake.add_subscription(sub)

    problems: list[str] = []
    assert api.post("/mappings/generate").status_code == 200
    customers = api.run("/customers/import", {"update_main_site_address": True})
    problems += run_problems(api, customers)
    subscriptions = api.run("/subscriptions/import")
    problems += run_problems(api, subscriptions)
    found = items_by(api.items(customers["run_id"]) + api.items(subscriptions["run_id"]))
    for ref in (tenant_guid("control"), "ctl-sub-1", "ctl-sub-2"):
        if not set(results_of(found, ref)) & {"created", "failed"}:
            problems.append(f"{ref}: items {results_of(found, ref)}, expected created (cleaned) or failed")
    problems += bad_characters(halo_fake)
    assert not problems, "\n".join(problems)


def test_whitespace_inside_a_subscription_id_survives_a_rerun(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    """Our marker must name the whole id: a re-run with nothing changed writes nothing."""
    map_and_import_customers(api)
    contoso = tenant_row(dicker_data_fake, CONTOSO)
    for sub_id in ("DD SUB 0001", "DD-SUB\t0002"):
        dicker_data_fake.add_subscription(make_subscription(contoso, sub_id, "basic", quantity=2))
    first = api.run("/subscriptions/import")
    assert first["status"] == "succeeded", first
    halo_fake.reset_calls()
    second = api.run("/subscriptions/import")
    problems = run_problems(api, second)
    if second["counts"]["updated"] or halo_fake.writes:
        gone = [i for i in api.items(second["run_id"]) if i["result"] == "updated"]
        problems.append(
            f"re-run with nothing changed wrote {halo_fake.writes} records: "
            f"{[(i['dicker_id'], i.get('reason')) for i in gone]}"
        )
    for licence in halo_fake.licences.values():
        notes = str(licence.get("notes"))
        if ("DD SUB" in notes or "DD-SUB" in notes) and licence.get("is_active") is not True:
            problems.append(f"licence {licence['id']} ({licence['name']}) made inactive: {licence['status']}")
    assert not problems, "\n".join(problems)


# ============================================================ Dicker Data: hostile answers
_DD_ANSWERS: dict[str, dict[str, Any]] = {
    "50MB-not-json": {"status": 200, "body": b"x" * FIFTY_MB, "content_type": JSON_TYPE},
    "invalid-json": {"status": 200, "body": '{"Out": [{"TenantId": "abc", ', "content_type": JSON_TYPE},
    "html-502": {"status": 502, "body": HTML_502, "content_type": HTML_TYPE},
    "out-null": {"status": 200, "body": {"Out": None}},
    "out-string": {"status": 200, "body": {"Out": "nope"}},
    "bare-list": {"status": 200, "body": ["not", "tenants"]},
    "status-error-200": {
        "status": 200,
        "body": {"Status": "ERROR", "Message": "Service unavailable: SQL timeout", "ErrorDescription": "E42"},
    },
}
#: Answers that must give a run-level error; the others may also be handled as data.
_RUN_LEVEL = {"50MB-not-json", "invalid-json", "html-502", "out-string", "status-error-200"}


def test_dicker_data_answers_that_are_not_its_api_give_a_clear_error(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    """Each answer in turn, for GetTenant: in the worker (a run) and inside a request (a chosen
    customer is looked up before queueing); then the next run without the fault succeeds."""
    problems: list[str] = []
    for answer, spec in _DD_ANSWERS.items():
        halo_fake.reset_calls()
        dicker_data_fake.fail_next(10, paths=[GET_TENANT], **spec)
        run = api.try_run("/customers/import", None, problems, f"{answer}: customers import")
        dicker_data_fake.clear_faults()
        if run is not None:
            problems += [f"{answer}: {p}" for p in run_problems(api, run)]
            if answer in _RUN_LEVEL and (
                run["status"] != "failed" or not run.get("error") or not run.get("hint")
            ):
                problems.append(
                    f"{answer}: run {run['status']!r} error={run.get('error')!r}: no run-level error"
                )
            if run.get("error") and "Dicker Data" not in run["error"]:
                problems.append(f"{answer}: run error does not name Dicker Data: {run['error']!r}")
            if halo_fake.writes:
                problems.append(
                    f"{answer}: {halo_fake.writes} Halo records written from an unreadable answer"
                )
        if answer == "50MB-not-json":
            continue  # the request path reads the same way; 50 MB twice only slows the suite
        dicker_data_fake.fail_next(10, paths=[GET_TENANT], **spec)
        response = api.post("/customers/import", {"customer_ids": [CONTOSO]})
        dicker_data_fake.clear_faults()
        if response.status_code == 500 or response.status_code < 400:
            problems.append(
                f"{answer}: POST /customers/import answered {response.status_code}: {response.text[:200]}"
            )
        else:
            error = response.json().get("error") or {}
            if error.get("code") == "internal_error" or (why := readable(error.get("message"))):
                problems.append(
                    f"{answer}: POST /customers/import error {error}: {why if error else 'no body'}"
                )
    recovered = api.run("/customers/import")
    if recovered["status"] != "succeeded":
        problems.append(f"the next run without a fault: {recovered['status']} {recovered.get('error')}")
    assert not problems, "\n".join(problems)


def test_a_50mb_answer_with_one_huge_name(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake
) -> None:
    """Valid JSON, 50 MB because of one customer's name: either that customer fails alone and
    the others import, or the whole answer is refused with a clear run error and nothing written."""
    rows = [*dicker_data_fake.tenants, hostile_tenant("fifty", CompanyName="F" * FIFTY_MB)]
    body = json.dumps({"Out": rows}).encode()
    dicker_data_fake.fail_next(1, 200, body, content_type=JSON_TYPE, paths=[GET_TENANT])
    problems: list[str] = []
    run = api.try_run("/customers/import", None, problems, "customers import")
    if run is not None:
        problems += run_problems(api, run)
        found = items_by(api.items(run["run_id"]))
        if run["status"] == "failed":
            if not run.get("error") or not run.get("hint") or halo_fake.writes:
                problems.append(f"run failed without a clear error or after writing: {run}")
        elif results_of(found, tenant_guid("fifty")) != ["failed"]:
            problems.append(f"50 MB name: items {results_of(found, tenant_guid('fifty'))}, expected failed")
        elif run["status"] != "partial" or run["counts"]["created"] != 7:
            problems.append(f"run {run['status']} {run['counts']}: the other customers did not import")
    if any(len(str(c.get("name") or "")) > 255 for c in halo_fake.clients.values()):
        problems.append("a huge name reached Halo")
    assert not problems, "\n".join(problems)


def test_dicker_data_subscription_answer_faults_are_repaired_by_a_rerun(
    api: HostileApi, dicker_data_fake: DickerDataFake, halo_fake: HaloFake, clean_state: State
) -> None:
    """A bad GetSubscriptionDetails answer after a clean import (an HTML 502, invalid JSON, or
    `{"Out": null}`): readable failures or a handled empty answer, and each time the next run
    without the fault puts Halo back to a clean run's state."""
    map_and_import_customers(api)
    assert api.run("/subscriptions/import")["status"] == "succeeded"
    problems: list[str] = []
    for answer in ("html-502", "invalid-json", "out-null"):
        dicker_data_fake.fail_next(1000, paths=[GET_SUBSCRIPTIONS], **_DD_ANSWERS[answer])
        run = api.try_run("/subscriptions/import", None, problems, f"{answer}: faulted run")
        dicker_data_fake.clear_faults()
        if run is not None:
            problems += [f"{answer}: {p}" for p in run_problems(api, run)]
            if answer != "out-null" and run["status"] not in ("failed", "partial"):
                problems.append(
                    f"{answer}: faulted run {run['status']!r}: the unreadable answer went unreported"
                )
        repaired = api.try_run("/subscriptions/import", None, problems, f"{answer}: repair run")
        if repaired is not None:
            problems += [f"{answer}: {p}" for p in run_problems(api, repaired)]
        problems += [f"{answer}: {p}" for p in duplicates(halo_fake)]
        problems += [f"{answer}: {p}" for p in state_diff(halo_state(halo_fake), clean_state, "licences")]
    assert not problems, "\n".join(problems)


# ============================================================ Halo: hostile records and answers
def _plant_hostile_clients(halo: HaloFake) -> dict[int, Record]:
    planted: dict[int, Record] = {
        900: {"id": "abc", "name": "Id Is A String", "azure_tenants": [], "x_hostile": True},
        901: {"id": None, "name": "Id Is Null", "x_hostile": True},
        902: {
            "id": 902,
            "name": None,
            "azure_tenants": "not-a-list",
            "surprise": {"n": [1]},
            "x_hostile": True,
        },
        903: {
            "id": 903,
            "name": "N" * 50_000,
            "azure_tenants": [{"azure_tenant_id": None}],
            "x_hostile": True,
        },
        904: {"id": 904, "name": "Extra Fields Ltd", "azure_tenants": [None, 7, "x"], "x_hostile": True},
    }
    with halo.lock:
        for key, record in planted.items():
            halo.clients[key] = record
    return copy.deepcopy(planted)


def test_hostile_halo_client_records_are_ignored(
    api: HostileApi, halo_fake: HaloFake, clean_state: State
) -> None:
    planted = _plant_hostile_clients(halo_fake)
    contoso_id = next(c["id"] for c in halo_fake.clients.values() if c.get("name") == "Contoso Pty Ltd")
    halo_fake.clients[contoso_id]["azure_tenants"] = "garbage, not a list"
    problems: list[str] = []
    for method, path in (("POST", "/mappings/generate"), ("GET", "/mappings")):
        response = api.call(method, path)
        if response.status_code != 200:
            problems.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    run = api.try_run("/customers/import", None, problems, "customers import")
    if run is not None:
        problems += run_problems(api, run)
        if run["status"] != "succeeded":
            problems.append(
                f"run {run['status']!r} {run['counts']}: hostile records that are not ours broke it"
            )
    halo_fake.reset_calls()
    again = api.try_run("/customers/import", None, problems, "re-run")
    if again is not None and (again["counts"]["created"] or halo_fake.writes):
        problems.append(f"re-run wrote {halo_fake.writes} records: {again['counts']}")
    for key, record in planted.items():
        if halo_fake.clients.get(key) != record:
            problems.append(f"planted record {key} was changed")
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "clients")
    assert not problems, "\n".join(problems)


def test_hostile_halo_licence_records_cause_no_duplicates(
    api: HostileApi, halo_fake: HaloFake, clean_state: State, read_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Licence lists with unreadable ids, null/huge names, unknown fields, and no `client_id`
    (Halo list views omit fields): no duplicate, nothing of ours lost, repaired after."""
    mapped = map_and_import_customers(api)
    assert api.run("/subscriptions/import")["status"] == "succeeded"
    contoso_id = mapped[CONTOSO]
    planted: dict[int, Record] = {
        800: {"id": "abc", "client_id": contoso_id, "name": "Id Is A String"},
        801: {"id": None, "client_id": contoso_id, "name": "Id Is Null"},
        802: {"id": 802, "client_id": contoso_id, "name": None, "count": "many"},
        803: {
            "id": 803,
            "client_id": contoso_id,
            "name": "L" * 50_000,
            "notes": None,
            "is_active": "yes",
        },
    }
    with halo_fake.lock:
        for key, record in planted.items():
            halo_fake.licences[key] = {**record, "x_hostile": True, "surprise": [{"deep": {}}]}

    real_view: Callable[[Any, Record, Request], Record] = halo_fake._list_view

    def slim_view(entity: Any, record: Record, request: Request) -> Record:
        view = real_view(entity, record, request)
        if entity.name == "SoftwareLicence":
            return {k: v for k, v in view.items() if k != "client_id"} | {"unknown_field": {"a": 1}}
        return view

    monkeypatch.setattr(halo_fake, "_list_view", slim_view)
    problems: list[str] = []
    halo_fake.reset_calls()
    run = api.try_run("/subscriptions/import", None, problems, "run against slim licence lists")
    if run is not None:
        problems += run_problems(api, run)
        if run["counts"]["created"] or halo_fake.created:
            problems.append(
                f"run against licence lists without client_id created {halo_fake.created} licences "
                f"({run['counts']}): they already exist"
            )
    monkeypatch.setattr(halo_fake, "_list_view", real_view)
    api.try_run("/subscriptions/import", None, problems, "repair run")
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "licences")
    assert not problems, "\n".join(problems)


def test_halo_list_answered_with_an_html_page(
    api: HostileApi, halo_fake: HaloFake, clean_state: State
) -> None:
    """A sign-in page instead of the Client list (200 text/html, then 502 text/html): a readable
    error for the request and for the run, nothing written, and the next run repairs."""
    page = "<!DOCTYPE html><html><head><title>Sign in - HaloPSA</title></head><body>" + "x" * 5000
    page += "</body></html>"
    problems: list[str] = []
    assert api.post("/mappings/generate").status_code == 200
    for status in (200, 502):
        halo_fake.fail_next(10, status, page, content_type=HTML_TYPE, paths=["/api/Client"])
        response = api.get("/mappings") if status == 200 else api.post("/mappings/generate")
        halo_fake.clear_faults()
        if response.status_code == 500 or (
            response.status_code >= 400 and readable((response.json().get("error") or {}).get("message"))
        ):
            problems.append(f"HTML {status}: {response.request.method} {response.url}: {response.text[:300]}")
        halo_fake.reset_calls()
        halo_fake.fail_next(10, status, page, content_type=HTML_TYPE, paths=["/api/Client"])
        run = api.try_run("/customers/import", None, problems, f"HTML {status}: customers import")
        halo_fake.clear_faults()
        if run is not None:
            problems += [f"HTML {status}: {p}" for p in run_problems(api, run)]
            if run["status"] != "failed" or not run.get("error") or "Halo" not in run["error"]:
                problems.append(f"HTML {status}: run {run['status']!r} error={run.get('error')!r}")
            if halo_fake.writes:
                problems.append(f"HTML {status}: {halo_fake.writes} records written")
    api.try_run("/customers/import", None, problems, "repair run")
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "clients")
    assert not problems, "\n".join(problems)


def _wrap_writes(
    halo: HaloFake,
    monkeypatch: pytest.MonkeyPatch,
    entity: str,
    answer: Callable[[int, Request, Response], Response | None],
) -> None:
    """Let `answer(n, request, real_response)` replace the answer to the n-th POST of `entity`
    (1-based; the write is applied first, as when only the answer is lost or garbled)."""
    real: Callable[[Request], Response] = halo.handle
    calls = [0]

    def handle(request: Request) -> Response:
        response = real(request)
        if request.method == "POST" and request.path.rstrip("/").lower() == f"/api/{entity.lower()}":
            calls[0] += 1
            replaced = answer(calls[0], request, response)
            if replaced is not None:
                return replaced
        return response

    monkeypatch.setattr(halo, "handle", handle)


@pytest.mark.parametrize("entity", ["Client", "SoftwareLicence"])
def test_halo_write_answered_with_unreadable_ids(
    api: HostileApi, halo_fake: HaloFake, clean_state: State, entity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Halo saves the batch but answers ids that are not numbers: no crash, no duplicate."""
    if entity == "SoftwareLicence":
        map_and_import_customers(api)
    else:
        assert api.post("/mappings/generate").status_code == 200

    def garble(n: int, request: Request, response: Response) -> Response | None:
        if response.status != 200:
            return None
        saved = json.loads(response.body)
        return json_response(200, [{**r, "id": "abc" if i % 2 else None} for i, r in enumerate(saved)])

    real_handle = halo_fake.handle
    _wrap_writes(halo_fake, monkeypatch, entity, garble)
    path = "/customers/import" if entity == "Client" else "/subscriptions/import"
    problems: list[str] = []
    run = api.try_run(path, None, problems, "run with garbled write answers")
    if run is not None:
        problems += run_problems(api, run)
    monkeypatch.setattr(halo_fake, "handle", real_handle)
    api.try_run(path, None, problems, "repair run")
    if entity == "Client":
        api.try_run("/subscriptions/import", None, problems, "subscriptions import")
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "clients")
    problems += state_diff(halo_state(halo_fake), clean_state, "licences")
    assert not problems, "\n".join(problems)


def test_client_create_saved_but_answered_502_is_adopted_not_duplicated(
    api: HostileApi, halo_fake: HaloFake, clean_state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Halo saves the Client batch but answers an HTML 502 (the answer is lost): the run must
    re-read Halo and adopt what landed (the tenant link marks it), not create the clients again."""
    assert api.post("/mappings/generate").status_code == 200

    lost: list[int] = []

    def lose_first(n: int, request: Request, response: Response) -> Response | None:
        creates = isinstance(request.json, list) and any(not r.get("id") for r in request.json)
        if creates and not lost and response.status == 200:
            lost.append(n)
            return Response(502, HTML_502.encode(), HTML_TYPE)
        return None

    _wrap_writes(halo_fake, monkeypatch, "Client", lose_first)
    problems: list[str] = []
    run = api.try_run("/customers/import", None, problems, "customers import")
    if run is not None:
        problems += run_problems(api, run)
        if run["status"] != "succeeded" or run["counts"]["created"] != 4:
            problems.append(f"run {run['status']} {run['counts']}: expected the 4 landed clients adopted")
    creates = [
        b for m, p, _, b in halo_fake.requests if m == "POST" and p == "/api/Client" and not b[0].get("id")
    ]
    if not lost or len(creates) != 1:
        problems.append(f"the saved create batch was sent {len(creates)} times (answer lost: {bool(lost)})")
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "clients")
    assert not problems, "\n".join(problems)


def test_halo_refusing_one_client_fails_only_that_customer(
    api: HostileApi, halo_fake: HaloFake, clean_state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_validate: Callable[[Record, Record | None], str | None] = halo_fake._validate_client

    def refuse_ampersand(item: Record, existing: Record | None) -> str | None:
        if "&" in str(item.get("name") or ""):
            return "name contains a character that is not allowed ('&')"
        return real_validate(item, existing)

    assert api.post("/mappings/generate").status_code == 200
    monkeypatch.setattr(halo_fake, "_validate_client", refuse_ampersand)
    problems: list[str] = []
    run = api.run("/customers/import")
    problems += run_problems(api, run)
    found = items_by(api.items(run["run_id"]))
    refused = found.get(SMITHJONES, [])
    if [i["result"] for i in refused] != ["failed"] or "not allowed" not in (refused[0].get("reason") or ""):
        problems.append(f"Smith & Jones: {refused}, expected failed with Halo's reason")
    if run["status"] != "partial" or run["counts"]["created"] != 3:
        problems.append(f"run {run['status']} {run['counts']}: expected partial with the 3 others created")
    monkeypatch.setattr(halo_fake, "_validate_client", real_validate)
    repaired = api.run("/customers/import")
    if repaired["status"] != "succeeded" or repaired["counts"]["created"] != 1:
        problems.append(f"repair run {repaired['status']} {repaired['counts']}: expected just Smith & Jones")
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "clients")
    assert not problems, "\n".join(problems)


def test_halo_refusing_one_base_licence_is_repaired_by_one_rerun(
    api: HostileApi, halo_fake: HaloFake, clean_state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contoso's Business Premium (the base of two add-ons) is refused; one clean re-run must
    leave Halo as a clean run would (add-ons linked to their base)."""
    map_and_import_customers(api)
    real_validate: Callable[[Record, Record | None], str | None] = halo_fake._validate_licence

    def refuse_premium(item: Record, existing: Record | None) -> str | None:
        if (
            existing is None
            and "M365 BUSINESS PREMIUM" in str(item.get("name"))
            and "1YR COMMIT" in str(item.get("name"))
        ):
            return "this product is not in the price list"
        return real_validate(item, existing)

    monkeypatch.setattr(halo_fake, "_validate_licence", refuse_premium)
    problems: list[str] = []
    run = api.run("/subscriptions/import")
    problems += run_problems(api, run)
    if run["status"] != "partial" or not run["counts"]["failed"]:
        problems.append(f"faulted run {run['status']} {run['counts']}: expected partial with failures")
    monkeypatch.setattr(halo_fake, "_validate_licence", real_validate)
    repaired = api.run("/subscriptions/import")
    problems += run_problems(api, repaired)
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "licences")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("fault", ["outage-500", "applied-then-502", "garbled-after-apply"])
def test_run_interrupted_after_the_first_licence_batch_is_repaired(
    api: HostileApi, halo_fake: HaloFake, clean_state: State, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """After the first licence write batch, Halo fails: every call answers 500 (nothing applied),
    or each later licence write is applied but answered with an HTML 502 (the answer is lost) or
    with invalid JSON. The re-run without the fault must leave Halo exactly as a clean run would."""
    map_and_import_customers(api)
    real: Callable[[Request], Response] = halo_fake.handle
    batches = [0]

    def faulty(request: Request) -> Response:
        is_licence_write = request.method == "POST" and request.path.lower() == "/api/softwarelicence"
        if fault == "outage-500" and batches[0] >= 1 and request.path.lower().startswith("/api/"):
            return json_response(500, {"ClassName": "Exception", "Message": "An error has occurred."})
        response = real(request)
        if is_licence_write:
            batches[0] += 1
            if fault == "applied-then-502" and batches[0] > 1:
                return Response(502, HTML_502.encode(), HTML_TYPE)
            if fault == "garbled-after-apply" and batches[0] > 1:
                return Response(200, b'[{"id": 12, "name": "trunc', JSON_TYPE)
        return response

    monkeypatch.setattr(halo_fake, "handle", faulty)
    problems: list[str] = []
    run = api.try_run("/subscriptions/import", None, problems, "faulted run")
    if run is not None:
        problems += run_problems(api, run)
    if batches[0] < 1:
        problems.append("the fault never triggered (no licence write)")
    monkeypatch.setattr(halo_fake, "handle", real)
    repaired = api.try_run("/subscriptions/import", None, problems, "repair run")
    if repaired is not None:
        problems += run_problems(api, repaired)
    problems += duplicates(halo_fake)
    problems += state_diff(halo_state(halo_fake), clean_state, "licences")
    halo_fake.reset_calls()
    settled = api.try_run("/subscriptions/import", None, problems, "settled run")
    if settled is not None and halo_fake.writes:
        problems.append(f"a third run still wrote {halo_fake.writes} records: {settled['counts']}")
    assert not problems, "\n".join(problems)
