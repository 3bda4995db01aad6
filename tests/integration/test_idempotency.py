"""A retried POST with the same Idempotency-Key does the work once and answers the same run."""

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "body"),
    [("/customers/import", {}), ("/subscriptions/import", {}), ("/sync", {"subscriptions": False})],
)
def test_same_key_twice_runs_once(api, path, body):
    first = api.session.post(api.url + path, json=body, headers={"Idempotency-Key": "retry-me-1"})
    second = api.session.post(api.url + path, json=body, headers={"Idempotency-Key": "retry-me-1"})
    assert first.status_code == second.status_code == 202
    assert first.json()["run_id"] == second.json()["run_id"]
    api.wait_run(first.json()["run_id"])
    assert len(api.get("/runs").json()["runs"]) == 1
    third = api.session.post(api.url + path, json=body, headers={"Idempotency-Key": "another-key"})
    assert third.json()["run_id"] != first.json()["run_id"]


def test_same_key_with_another_body_is_refused(api):
    api.session.post(api.url + "/customers/import", json={"dry_run": True}, headers={"Idempotency-Key": "k1"})
    again = api.session.post(api.url + "/customers/import", json={}, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 409 and "different request body" in again.json()["error"]["message"]


def test_without_a_key_every_call_runs(api):
    ids = {api.post("/customers/import", {"dry_run": True}).json()["run_id"] for _ in range(2)}
    assert len(ids) == 2


def test_a_key_of_200_characters_is_kept_one_longer_is_a_400(api):
    def post(key: str):
        return api.session.post(api.url + "/sync", json={}, headers={"Idempotency-Key": key})

    assert post("k" * 201).status_code == 400
    first, again = post("k" * 200), post("k" * 200)
    assert first.status_code == again.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"]
