"""Concurrency as deployed: the local runner invokes functions in parallel and runs the worker
at the template's concurrency, as AWS does, so races between requests and runs show here."""

import json
import threading
from collections import Counter

import pytest

from local.fakes.sample_data import tenant_guid

pytestmark = pytest.mark.integration


def together(*calls):
    """Start every call at the same moment (threads released by one barrier); their answers."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def tenants_on_clients(halo_fake) -> Counter[str]:
    return Counter(
        str(t.get("azure_tenant_id")).lower()
        for c in halo_fake.clients.values()
        for t in c.get("azure_tenants") or []
    )


#: Every customer created, held names too (the sample world's Halo holds most of its names).
CREATE_ALL = {"create_when_similar": True}


def test_two_imports_at_once_create_each_client_once(api, halo_fake, dicker_data_fake):
    first, second = together(
        lambda: api.post("/customers/import", CREATE_ALL), lambda: api.post("/customers/import", CREATE_ALL)
    )
    runs = [api.wait_run(r.json()["run_id"], timeout=120) for r in (first, second)]
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"], runs
    importable = [t["TenantId"] for t in dicker_data_fake.tenants if t["TenantId"]]
    counted = tenants_on_clients(halo_fake)
    assert {t: counted[t.lower()] for t in importable} == dict.fromkeys(importable, 1)
    assert sorted(r["counts"]["created"] for r in runs) == [0, len(importable)]


def test_an_import_and_a_sync_at_once_create_nothing_twice(api, halo_fake):
    api.post("/mappings/generate")
    assert api.call("PUT", "/settings", CREATE_ALL).status_code == 200  # the sync's creates too
    answers = together(lambda: api.post("/customers/import", CREATE_ALL), lambda: api.post("/sync", {}))
    runs = [api.wait_run(a.json()["run_id"], timeout=120) for a in answers if a.status_code == 202]
    imported, synced = answers
    if synced.status_code == 409:  # the import's first job took the Halo lock first: skipped, so sync now
        assert synced.json()["running_run_id"] == imported.json()["run_id"], synced.text
        runs.append(api.run("/sync", {}))
    assert len(runs) == 2 and all(r["status"] == "succeeded" for r in runs), runs
    assert set(tenants_on_clients(halo_fake).values()) == {1}
    markers = Counter(
        str(lic.get("notes") or "").splitlines()[0]
        for lic in halo_fake.licences.values()
        if str(lic.get("notes") or "").startswith("Dicker Data subscription: ")
    )
    assert markers and set(markers.values()) == {1}
    assert tenant_guid("contoso").lower() in tenants_on_clients(halo_fake)


def test_ten_settings_changes_at_once_are_all_kept(api, local_app):
    changes = [
        {"region": "NZ"},
        {"environment": "test"},
        {"dicker_data_account_code": "RACE01"},
        {"update_main_site_address": True},
        {"halo_tenant": "race-tenant"},
        {"halo_requests_per_minute": 41},
        {"request_timeout_seconds": 17},
        {"dicker_data_access_token": "race-token"},
        {"halo_client_id": "race-client"},
        {"halo_client_secret": "race-secret"},
    ]
    answers = together(*(lambda c=c: api.call("PUT", "/settings", c) for c in changes))
    assert [a.status_code for a in answers] == [200] * len(changes), [a.text for a in answers]
    settings = api.get("/settings").json()
    for change in changes[:7]:
        ((name, value),) = change.items()
        assert settings[name] == value, name
    secret_id = local_app.aws.function_environment(local_app.template.functions["SettingsFunction"])[
        "SECRET_ID"
    ]
    stored = json.loads(
        local_app.aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    )
    assert stored == {
        "dicker_data_access_token": "race-token",
        "halo_client_id": "race-client",
        "halo_client_secret": "race-secret",
    }
