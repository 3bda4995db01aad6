"""The integrator: scheduled and on-demand syncs, the lock, chunking, faults and convergence."""

import json
import threading
import time
from pathlib import Path

import pytest

from ddhalo import store as store_module
from ddhalo.jobs import chunking
from ddhalo.runs.halo_lock import HALO_LOCK
from ddhalo.store import Store
from local.fakes import DickerDataFake, HaloFake
from local.fakes.sample_data import make_subscription, sample_dicker_data, sample_halo
from local.serve.app import LocalApp
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

SCHEDULE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "schedule.json").read_text())


def halo_state(halo: HaloFake) -> dict:
    """What landed in Halo, keyed by what Dicker Data calls things (ids differ between worlds)."""
    clients = {}
    for client in halo.clients.values():
        tenants = sorted(t.get("azure_tenant_id", "") for t in client.get("azure_tenants") or [])
        clients[(client["name"], tuple(tenants))] = client.get("toplevel_id")
    names = {c["id"]: c["name"] for c in halo.clients.values()}
    markers = {}
    for licence in halo.licences.values():
        notes = licence.get("notes") or ""
        if notes.startswith("Dicker Data subscription: "):
            markers[licence["id"]] = notes.splitlines()[0].split(": ", 1)[1]
    licences = {}
    for licence in halo.licences.values():
        key = markers.get(licence["id"], f"foreign:{licence['name']}")
        assert key not in licences, f"duplicate licence {key}"
        licences[key] = (
            names.get(licence["client_id"]),
            licence["name"],
            licence["count"],
            licence.get("is_active"),
            licence.get("status"),
            markers.get(licence.get("parent_id")),
        )
    return {"clients": clients, "licences": licences}


def enable_integrator(api: Api) -> None:
    response = api.call("PUT", "/settings", {"integrator": {"enabled": True, "schedule": "rate(30 minutes)"}})
    assert response.status_code == 200 and response.json()["schedule_state"] == "ENABLED"


def scheduled_sync(local_app: LocalApp, api: Api) -> dict:
    (schedule,) = local_app.template.schedules
    answer = local_app.invoke(schedule.function_id, SCHEDULE_EVENT)
    assert answer["started"] is True, answer
    return api.wait_run(answer["run_id"], timeout=120)


def create_when_similar(api: Api) -> None:
    """Syncs create every customer, held names too (the sample world's Halo holds most names)."""
    assert api.call("PUT", "/settings", {"create_when_similar": True}).status_code == 200


def test_scheduled_event_drives_a_full_sync(local_app, api, halo_fake, dicker_data_fake):
    enable_integrator(api)
    create_when_similar(api)
    run = scheduled_sync(local_app, api)
    assert run["status"] == "succeeded" and run["kind"] == "sync" and run["trigger"] == "schedule"
    types = {i["type"] for i in run["items"]}
    assert types == {"customer", "subscription"}
    state = halo_state(halo_fake)
    importable = [s for s in dicker_data_fake.subscriptions if s["TenantId"]]
    assert {s["SubscriptionId"] for s in importable} <= set(state["licences"])
    assert len(api.get("/mappings").json()["mappings"]) == 7


def test_schedule_does_nothing_while_the_integrator_is_disabled(local_app, api):
    (schedule,) = local_app.template.schedules
    assert local_app.invoke(schedule.function_id, SCHEDULE_EVENT) == {
        "started": False,
        "reason": "integrator disabled",
    }
    assert api.get("/runs").json()["runs"] == []


def test_settings_switch_the_schedule_rule(local_app, api):
    rule = local_app.aws.client("events").list_rules()["Rules"][0]
    assert rule["State"] == "DISABLED"
    enable_integrator(api)
    rule = local_app.aws.client("events").describe_rule(Name=rule["Name"])
    assert rule["State"] == "ENABLED" and rule["ScheduleExpression"] == "rate(30 minutes)"
    assert api.get("/settings").json()["integrator"]["enabled"] is True


def test_switches_choose_what_a_sync_does(api, halo_fake):
    api.call("PUT", "/settings", {"integrator": {"sync_subscriptions": False}})
    run = api.run("/sync", {})
    assert {i["type"] for i in run["items"]} == {"customer"}
    run = api.run("/sync", {"customers": False, "subscriptions": True})
    assert {i["type"] for i in run["items"]} == {"subscription"}
    response = api.post("/sync", {"customers": False, "subscriptions": False})
    assert response.status_code == 400


def test_a_second_trigger_during_a_sync_is_recorded_as_skipped(local_app, api):
    store = Store(
        local_app.aws.function_environment(local_app.template.functions["SyncFunction"])["TABLE_NAME"]
    )
    assert store.acquire_lock(HALO_LOCK, "someone-else", 3600, kind="sync") is None
    response = api.post("/sync", {})
    assert response.status_code == 409 and response.json()["error"]["code"] == "sync_running"
    assert response.json()["running_run_id"] == "someone-else"
    skipped = api.get(f"/runs/{response.json()['run_id']}").json()
    assert "someone-else" in skipped["skipped_reason"] and skipped["counts"]["created"] == 0
    assert skipped["skipped_reason"] == "Skipped: sync someone-else is still running."
    assert (skipped["status"], skipped["running_run_id"], skipped["items"]) == ("skipped", "someone-else", [])
    assert skipped["counts"] == dict.fromkeys(("created", "updated", "unchanged", "skipped", "failed"), 0)
    store.release_lock(HALO_LOCK, "someone-else")
    assert api.run("/sync", {})["status"] == "succeeded"
    assert api.run("/sync", {})["status"] == "succeeded"  # the lock was given back


def test_a_sync_meeting_a_running_import_answers_409_and_is_a_skipped_run(api, halo_fake, monkeypatch):
    """A real customers import holds Halo (its worker is held inside its first Halo call)."""
    gate, real = threading.Event(), halo_fake.handle

    def held_open(request):
        gate.wait(30)
        return real(request)

    monkeypatch.setattr(halo_fake, "handle", held_open)
    try:
        running = api.post("/customers/import", {}).json()["run_id"]
        deadline = time.monotonic() + 20
        while api.get(f"/runs/{running}").json()["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.get(f"/runs/{running}").json()["status"] == "running"
        response = api.post("/sync", {})
    finally:
        gate.set()
    assert response.status_code == 409, response.text
    answer = response.json()
    assert answer["error"]["code"] == "sync_running" and answer["running_run_id"] == running
    assert running in answer["error"]["hint"]
    skipped = api.get(f"/runs/{answer['run_id']}").json()
    assert skipped["status"] == "skipped" and skipped["kind"] == "sync", skipped
    assert skipped["running_run_id"] == running
    assert skipped["skipped_reason"] == f"Skipped: customers run {running} is still running."
    assert skipped["skipped_reason"] == answer["error"]["message"]
    assert skipped["items"] == [] and skipped["halo_calls"] == 0
    assert api.wait_run(running)["status"] == "succeeded"  # the import was left to finish
    listed = {r["run_id"]: r for r in api.get("/runs").json()["runs"]}
    assert listed[answer["run_id"]]["status"] == "skipped"
    assert listed[answer["run_id"]]["running_run_id"] == running
    assert api.run("/sync", {})["status"] == "succeeded"  # the lock was given back


def test_every_skipped_or_failed_item_says_why_as_a_code(api, halo_fake, dicker_data_fake, monkeypatch):
    """A sync over the sample data; then one more with an unreadable row each side, a duplicated
    SubscriptionId, and Halo refusing a client and a base licence: a caller can switch on every
    skipped or failed item's ``reason_code``."""
    api.post("/mappings/generate")
    runs = [api.run("/sync", {})]
    assert runs[0]["counts"]["skipped"] == 4  # Blue Yonder (no tenant) and the three held names

    dicker_data_fake.tenants.append("not a customer record")
    contoso = next(
        t for t in dicker_data_fake.tenants if isinstance(t, dict) and t["CompanyName"] == "Contoso Pty Ltd"
    )
    dicker_data_fake.add_subscription(
        make_subscription(contoso, "coded-qty", "basic") | {"ConfirmedQuantity": "lots"}
    )
    dicker_data_fake.add_subscription(make_subscription(contoso, "coded-0", "basic"))
    dicker_data_fake.add_subscription(make_subscription(contoso, "coded-0", "basic", quantity=2))

    def refuse(validate, fragment, why):
        def refusing(item, existing):
            return why if existing is None and fragment in str(item.get("name")) else validate(item, existing)

        return refusing

    monkeypatch.setattr(
        halo_fake, "_validate_client", refuse(halo_fake._validate_client, "&", "'&' is not allowed")
    )
    monkeypatch.setattr(
        halo_fake,
        "_validate_licence",
        refuse(halo_fake._validate_licence, "M365 BUSINESS PREMIUM 1YR", "not sold"),
    )
    create_when_similar(api)  # Smith & Jones is sent (and refused); Tailspin's Premium too
    runs.append(api.run("/sync", {}))
    codes: dict[str, set[str]] = {}
    for run in runs:
        items = api.get(f"/runs/{run['run_id']}", limit=1000).json()["items"]
        assert len(items) == sum(run["counts"].values())
        for item in items:
            if item["result"] in ("skipped", "failed"):
                assert isinstance(item["reason_code"], str) and item["reason_code"].strip(), item
                assert item["reason"], item
                codes.setdefault(item["result"], set()).add(item["reason_code"])
            else:
                assert item["reason_code"] is None, item
    assert codes["skipped"] >= {"no_csp_tenant", "similar_client_exists", "ambiguous_name"}, codes
    assert codes["failed"] >= {"unreadable_record", "duplicate_id", "rejected", "base_not_created"}, codes
    assert "unspecified" not in codes["skipped"] | codes["failed"], codes


def test_sync_work_is_split_into_chunks_that_finish_the_run_once(api, halo_fake, monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK_WRITES", 4)
    create_when_similar(api)
    run = api.run("/sync", {})
    assert run["status"] == "succeeded"
    assert run["chunks_total"] == run["chunks_done"] > 4
    assert run["counts"]["failed"] == 0
    halo_state(halo_fake)  # no duplicates


def test_unchanged_second_sync_writes_nothing_and_reads_nothing_from_halo(api, halo_fake):
    first = api.run("/sync", {})
    assert first["verify"] is True  # nothing verified yet: the first sync reads both sides whole
    halo_fake.reset_calls()
    run = api.run("/sync", {})
    assert run["verify"] is False and run["counts"]["created"] == run["counts"]["updated"] == 0
    assert (
        run["counts"]["unchanged"]
        == first["counts"]["created"] + first["counts"]["updated"] + first["counts"]["unchanged"]
    )
    assert halo_fake.writes == 0 and run["halo_calls"] == 0 and sum(halo_fake.calls.values()) == 0
    verify = api.run("/sync", {"verify": True})
    assert verify["verify"] is True and verify["halo_calls"] > 0 and halo_fake.writes == 0


def test_runs_are_listed_newest_first_with_paging(api):
    ids = [api.run("/sync", {"customers": True, "subscriptions": False})["run_id"] for _ in range(3)]
    first = api.get("/runs", limit=2).json()
    rest = api.get("/runs", limit=2, next_token=first["next_token"]).json()
    assert [r["run_id"] for r in first["runs"] + rest["runs"]][:3] == ids[::-1]
    assert api.get("/runs", next_token="garbage!").status_code == 400


def world() -> tuple[DickerDataFake, HaloFake]:
    tenants, subscriptions = sample_dicker_data()
    dd = DickerDataFake(tenants=tenants, subscriptions=subscriptions).start()
    halo = HaloFake().start()
    sample_halo(halo)
    return dd, halo


def synced_state(dd: DickerDataFake, halo: HaloFake, chaos=None) -> tuple[dict, dict]:
    upstreams = UpstreamTargets(
        DickerDataUpstream(dd.base_url, dd.account_code, dd.access_token),
        HaloUpstream(halo.api_url, halo.auth_url, None, halo.client_id, halo.client_secret),
    )
    with LocalApp(port=0, upstreams=upstreams) as app:
        api = Api(app.url)
        api.post("/mappings/generate")
        create_when_similar(api)
        if chaos:
            chaos(app, api)
        response = api.post("/sync", {})
        assert response.status_code == 202
        run = api.wait_run(response.json()["run_id"], timeout=120)
        return halo_state(halo), run


def test_a_sync_with_faults_converges_to_the_clean_state(monkeypatch):
    clean_dd, clean_halo = world()
    try:
        clean, clean_run = synced_state(clean_dd, clean_halo)
    finally:
        clean_dd.stop()
        clean_halo.stop()

    dd, halo = world()
    stop = threading.Event()
    crashed: list[bool] = []

    def chaos(app: LocalApp, api: Api) -> None:
        sqs = app.aws.client("sqs")
        sqs.set_queue_attributes(
            QueueUrl=app.aws.queue_url("WorkQueue"), Attributes={"VisibilityTimeout": "1"}
        )
        monkeypatch.setattr(chunking, "CHUNK_WRITES", 6)
        halo.error_rate_429, halo.error_rate_5xx, dd.error_rate_5xx = 0.15, 0.1, 0.1
        halo.fail_next(2, 429, data_only=True)  # at least these, whichever worker meets them
        real = store_module.Store.put_links

        def crash_once(self, links):
            links = list(links)
            if links and not crashed:  # one worker dies after its Halo writes
                crashed.append(True)
                raise RuntimeError("worker killed")
            real(self, links)

        monkeypatch.setattr(store_module.Store, "put_links", crash_once)

        def expire() -> None:  # credentials expire by age all through the run
            while not stop.wait(0.3):
                halo.expire_tokens(older_than=0.25)
                dd.expire_keys(older_than=0.25)

        threading.Thread(target=expire, daemon=True).start()

    try:
        faulty, faulty_run = synced_state(dd, halo, chaos)
    finally:
        stop.set()
        dd.stop()
        halo.stop()
    # (The run's own throttle count may miss 429s met by the job that was killed: it recorded nothing.)
    assert crashed == [True] and halo.throttled >= 2
    assert clean_run["status"] == faulty_run["status"] == "succeeded"
    assert faulty_run["counts"]["failed"] == 0
    assert faulty == clean
