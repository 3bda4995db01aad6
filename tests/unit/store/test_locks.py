import time

import pytest

from ddhalo.errors import ConflictError


def test_a_lock_is_one_owners_until_it_expires(store):
    assert store.acquire_lock("HALO", "run-a", 60, now=1000, kind="sync") is None
    first = store.get_lock("HALO")
    assert store.acquire_lock("HALO", "run-b", 60, now=1030) == "run-a"
    assert store.acquire_lock("HALO", "run-a", 60, now=1050) is None  # extended by its owner
    extended = store.get_lock("HALO")
    assert extended["expires_at"] == 1110 and extended["acquired_at"] == first["acquired_at"]
    assert store.acquire_lock("HALO", "run-b", 60, now=1100) == "run-a"
    assert store.acquire_lock("HALO", "run-b", 60, now=1111) is None  # its holder died
    store.release_lock("HALO", "run-a")  # not the holder any more: nothing happens
    assert store.get_lock("HALO")["owner"] == "run-b"
    store.release_lock("HALO", "run-b")
    assert store.get_lock("HALO") is None


def test_a_lock_keeps_what_its_taker_said_and_only_its_owner_releases_it(store):
    now = time.time()
    assert store.acquire_lock("HALO", "run-a", 60, now=now, kind="sync", run_id="r1") is None
    held = store.get_lock("HALO")
    assert {k: v for k, v in held.items() if k != "acquired_at"} == {
        "pk": "LOCK",
        "sk": "HALO",
        "owner": "run-a",
        "kind": "sync",
        "run_id": "r1",
        "expires_at": int(now + 60),
    }
    store.release_lock("HALO", "run-b")
    assert store.get_lock("HALO") == held
    assert store.get_lock("SETTINGS") is None  # locks are apart by name
    assert store.acquire_lock("SETTINGS", "run-b", 60, now=now) is None


def test_a_mutex_waits_for_its_holder_then_gives_up_readably(store):
    slept: list[float] = []
    with (
        store.mutex("SETTINGS"),
        pytest.raises(ConflictError) as caught,
        store.mutex("SETTINGS", wait_seconds=0.05, sleep=slept.append),
    ):
        pass
    assert slept and "Try again" in (caught.value.hint or "")
    assert all(0.02 <= s <= 0.1 for s in slept)
    assert str(caught.value).startswith("Another request is changing the settings (held by ")
    with store.mutex("SETTINGS", wait_seconds=0):  # released on the way out
        assert store.get_lock("SETTINGS") is not None
    assert store.get_lock("SETTINGS") is None


def test_a_mutex_is_released_when_its_body_fails(store):
    held: list[dict] = []

    def change_settings():
        with store.mutex("SETTINGS", ttl_seconds=45):
            held.append(store.get_lock("SETTINGS"))
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        change_settings()
    assert abs(held[0]["expires_at"] - (time.time() + 45)) < 5
    assert store.get_lock("SETTINGS") is None
