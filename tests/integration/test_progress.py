"""A running run answers where it stands: phase, done of total, what it waits for, an ETA."""

import threading
import time

import pytest

pytestmark = pytest.mark.integration


def test_a_run_shows_it_waits_for_halos_rate_limit_and_ends_done(api, halo_fake):
    assert api.call("PUT", "/settings", {"halo_rate_window_seconds": 3}).status_code == 200
    api.post("/mappings/generate")
    seen: list[dict] = []
    stop = threading.Event()
    answer = api.post("/subscriptions/import", {})
    run_id = answer.json()["run_id"]

    def watch() -> None:
        while not stop.is_set():
            seen.append(api.get(f"/runs/{run_id}", limit=1).json()["progress"])
            time.sleep(0.02)

    halo_fake.saturate(1.5)  # another integration fills Halo's window while we write
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run = api.wait_run(run_id, timeout=60)
    stop.set()
    watcher.join()
    assert run["status"] == "succeeded"
    assert {"phase", "done", "total", "waiting_for", "eta_s"} <= set(run["progress"])
    assert run["progress"]["phase"] == "done" and run["progress"]["waiting_for"] is None
    assert any(p["waiting_for"] == "halo_rate_limit" for p in seen), seen[-5:]
    phases = [p["phase"] for p in seen]
    assert "writing subscriptions" in phases or "reading subscriptions" in phases


def test_progress_moves_per_written_batch_not_per_chunk(api, halo_fake, dicker_data_fake):
    """The writing phase's done grows as each batch of 100 lands."""
    from local.fakes.sample_data import make_subscription

    api.post("/mappings/generate")
    mapped = api.get("/mappings").json()["mappings"][0]["dicker_customer_id"]
    (tenant,) = [t for t in dicker_data_fake.tenants if t["TenantId"] == mapped]
    for n in range(250):
        dicker_data_fake.add_subscription(make_subscription(tenant, f"extra-{n:03d}", "basic"))
    halo_fake.latency = 0.05
    answer = api.post("/subscriptions/import", {"customer_ids": [mapped]})
    run_id = answer.json()["run_id"]
    dones: list[int] = []
    created: list[int] = []
    while True:
        run = api.get(f"/runs/{run_id}", limit=1).json()
        if run["progress"]["phase"] == "writing subscriptions" and run["status"] == "running":
            dones.append(run["progress"]["done"])
            created.append(run["counts"]["created"])
        if run["status"] in ("succeeded", "partial", "failed"):
            break
        time.sleep(0.01)
    assert run["status"] == "succeeded" and run["counts"]["created"] >= 250
    assert run["chunks_total"] == 2  # the plan and one write chunk: its counts moved inside it
    assert len(set(dones)) >= 2, dones  # it moved within the one chunk, batch by batch
    # and so did its counts: 100 created (then 200) before the chunk recorded its items
    assert any(0 < c < run["counts"]["created"] for c in created), created
    assert created == sorted(created)  # never counted twice, never back
    items = api.get(f"/runs/{run_id}").json()["items"]
    assert sum(1 for i in items if i["result"] == "created") == run["counts"]["created"]
