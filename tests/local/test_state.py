"""`make serve` keeps its state between starts: the table's items and the credentials secret in
a JSON file (mode 0600), saved while running and on stop, loaded before seeding; the test
harness (`LocalApp` without `state_file`) keeps none."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ddhalo.models import Run
from ddhalo.runs.halo_lock import HALO_LOCK, LOCK_TTL
from ddhalo.runs.runner import new_run_id
from ddhalo.store import Store
from local.client import LocalApi
from local.fakes.sample_data import tenant_guid
from local.serve import cli, kept_state
from local.serve.app import LocalApp
from local.serve.kept_state import STOPPED_RUN_ERROR, STOPPED_RUN_HINT
from local.serve.paths import DEFAULT_STATE_FILE, ROOT
from local.serve.state_file import StateFile, StateFileError
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets
from local.state_shape import STATE_VERSION
from tests.local.waits import eventually

CONTOSO = tenant_guid("contoso")
UPSTREAM_VARS = ("DICKER_DATA_", "HALO_")


def _upstreams(dicker_data_fake, halo_fake, *, halo_client_secret: str | None = None) -> UpstreamTargets:
    """The fixtures' fakes as if they were real upstreams: they outlive each `LocalApp`."""
    return UpstreamTargets(
        dicker_data=DickerDataUpstream(
            dicker_data_fake.base_url, dicker_data_fake.account_code, dicker_data_fake.access_token
        ),
        halo=HaloUpstream(
            halo_fake.api_url,
            halo_fake.auth_url,
            None,
            halo_fake.client_id,
            halo_client_secret or halo_fake.client_secret,
        ),
    )


@pytest.fixture
def upstreams(dicker_data_fake, halo_fake) -> UpstreamTargets:
    return _upstreams(dicker_data_fake, halo_fake)


@pytest.fixture
def state(tmp_path) -> Path:
    return tmp_path / "checkout" / ".local-state" / "state.json"


def _halo_id(halo_fake, name: str) -> int:
    return next(c["id"] for c in halo_fake.clients.values() if c["name"] == name)


def _secret(app: LocalApp) -> dict:
    raw = app.aws.client("secretsmanager").get_secret_value(SecretId=os.environ["SECRET_ID"])
    return json.loads(raw["SecretString"])


def _items(path: Path, pk: str) -> list[dict]:
    """The saved items of partition ``pk`` (DynamoDB's typed values)."""
    saved = json.loads(path.read_text())
    return [item for items in saved["tables"].values() for item in items if item["pk"] == {"S": pk}]


# -- a restart ------------------------------------------------------------------------------


def test_settings_mappings_runs_and_credentials_survive_a_restart(upstreams, halo_fake, state, monkeypatch):
    monkeypatch.setattr(kept_state, "SAVE_EVERY_SECONDS", 3600.0)  # only the save on stop can keep them
    coho = _halo_id(halo_fake, "Coho Winery")
    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:
        api = LocalApi(app.url)
        changed = api.json("PUT", "/settings", {"halo_requests_per_minute": 600})
        assert changed["halo_requests_per_minute"] == 600
        mapping = {"dicker_customer_id": CONTOSO, "halo_client_id": coho}
        assert api.post("/mappings", mapping).status_code == 201
        run = api.run("/customers/import", {})
        assert run["status"] == "succeeded"
        items = api.json("GET", f"/runs/{run['run_id']}")["items"]
        assert items
        table = os.environ["TABLE_NAME"]
        # the worker goes on a moment after the run is final (its digest, its chunk's lease)
        assert eventually(lambda: not [i for i in app.aws.scan_items(table) if i["pk"]["S"] == "LOCK"])
        assert app.aws._backend_items(table) == app.aws.scan_items(table)  # the fast copy is exact
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # it holds the credentials in plain text
    assert json.loads(state.read_text())["version"] == STATE_VERSION
    assert [p.name for p in state.parent.iterdir() if p.name.endswith(".tmp")] == []  # renamed into place

    saved = json.loads(state.read_text())
    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:
        api = LocalApi(app.url)
        assert app.kept.restored_items == len(saved["tables"]["Table"])
        assert app.aws.scan_items(os.environ["TABLE_NAME"]) == saved["tables"]["Table"]  # item for item
        assert api.json("GET", "/settings")["halo_requests_per_minute"] == 600
        mappings = {m["dicker_customer_id"]: m for m in api.json("GET", "/mappings")["mappings"]}
        assert mappings[CONTOSO]["halo_client_id"] == coho
        assert mappings[CONTOSO]["source"] == "manual"
        again = api.json("GET", f"/runs/{run['run_id']}")
        assert again["status"] == "succeeded"
        assert again["items"] == items
        # The upstreams did not change, so nothing was seeded: the credentials are the restored ones.
        assert api.json("POST", "/config/test")["ok"] is True
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_a_credential_changed_through_the_api_stays_until_its_variable_changes(
    dicker_data_fake, halo_fake, state
):
    given = _upstreams(dicker_data_fake, halo_fake)
    with LocalApp(port=0, upstreams=given, state_file=state) as app:
        assert _secret(app)["halo_client_secret"] == halo_fake.client_secret  # seeded at first start
        changed = {"halo_client_secret": "set-in-the-api"}
        response = requests.put(f"{app.url}/settings", json=changed, timeout=20)
        assert response.status_code == 200, response.text

    with LocalApp(port=0, upstreams=given, state_file=state) as app:
        assert _secret(app)["halo_client_secret"] == "set-in-the-api"  # same variables: kept

    rotated = _upstreams(dicker_data_fake, halo_fake, halo_client_secret="rotated-upstream")
    with LocalApp(port=0, upstreams=rotated, state_file=state) as app:
        secret = _secret(app)
        assert secret["halo_client_secret"] == "rotated-upstream"  # that variable changed: it wins
        assert secret["halo_client_id"] == halo_fake.client_id


def test_fresh_discards_the_saved_state(upstreams, halo_fake, state):
    coho = _halo_id(halo_fake, "Coho Winery")
    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:
        api = LocalApi(app.url)
        api.json("PUT", "/settings", {"halo_requests_per_minute": 600})
        mapping = {"dicker_customer_id": CONTOSO, "halo_client_id": coho}
        assert api.post("/mappings", mapping).status_code == 201
    assert _items(state, "MAPPING")

    with LocalApp(port=0, upstreams=upstreams, state_file=state, fresh=True) as app:
        api = LocalApi(app.url)
        assert app.kept.restored_items is None
        assert api.json("GET", "/mappings")["mappings"] == []
        assert api.json("GET", "/settings")["halo_requests_per_minute"] == 50
        assert api.json("POST", "/config/test")["ok"] is True  # seeded again from the upstreams
    assert _items(state, "MAPPING") == []


def test_runs_a_stop_left_unfinished_are_failed_and_free_halo(upstreams, state):
    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:
        api = LocalApi(app.url)
        done = api.run("/customers/import", {})
        store = Store(os.environ["TABLE_NAME"])
        running, queued = (Run(run_id=new_run_id(), kind="customers", options={}) for _ in range(2))
        for run in (running, queued):
            store.create_run(run)
        assert store.set_run_status(running.run_id, "running")
        assert store.acquire_lock(HALO_LOCK, running.run_id, LOCK_TTL) is None  # as a run writing holds it

    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:
        api = LocalApi(app.url)
        assert sorted(app.kept.stopped_runs) == sorted([running.run_id, queued.run_id])
        assert "2 unfinished run(s) marked failed" in app.banner()
        for run in (running, queued):
            view = api.json("GET", f"/runs/{run.run_id}")
            assert view["status"] == "failed"
            assert (view["error"], view["hint"]) == (STOPPED_RUN_ERROR, STOPPED_RUN_HINT)
            assert view["finished_at"]
        assert api.json("GET", f"/runs/{done['run_id']}")["status"] == "succeeded"
        assert Store(os.environ["TABLE_NAME"]).get_lock(HALO_LOCK) is None
        # A new run does not wait half an hour for the lock of a run that is gone.
        assert api.run("/customers/import", {}, timeout=30)["status"] == "succeeded"


def test_the_bundled_halo_fake_keeps_what_an_import_created(state, upstreams, caplog):
    with LocalApp(port=0, upstreams=UpstreamTargets(), state_file=state) as app:
        api = LocalApi(app.url)
        api.json("POST", "/mappings/generate")
        first = api.run("/customers/import", {"create_when_similar": True})
        assert first["counts"]["created"] == 4
        created = {i["halo_id"] for i in first["items"] if i["result"] == "created"}

    with LocalApp(port=0, upstreams=UpstreamTargets(), state_file=state) as app:
        assert created <= set(app.fakes["halo"].clients)  # not the sample data again
        again = LocalApi(app.url).run("/customers/import", {})
        assert again["status"] == "succeeded"
        assert (again["counts"]["created"], again["counts"]["failed"]) == (0, 0)

    caplog.set_level("WARNING", logger="local.serve")
    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:  # now another Halo
        # Its mappings name the bundled fake's clients: set aside, never applied to this Halo.
        assert LocalApi(app.url).json("GET", "/mappings")["mappings"] == []
    assert any("starting fresh" in r.getMessage() for r in caplog.records)
    (aside,) = state.parent.glob("state.*.aside.json")
    assert json.loads(aside.read_text())["upstreams"]["halo"] == "bundled fake"


def test_saved_while_running_only_when_something_changed(upstreams, state, monkeypatch):
    monkeypatch.setattr(kept_state, "SAVE_EVERY_SECONDS", 0.2)
    with LocalApp(port=0, upstreams=upstreams, state_file=state) as app:
        assert eventually(state.exists)  # the restored and seeded state, soon after start
        written = state.stat().st_ino
        time.sleep(1.0)
        assert state.stat().st_ino == written  # nothing changed: not rewritten
        requests.put(f"{app.url}/settings", json={"halo_requests_per_minute": 321}, timeout=20)

        def saved() -> bool:
            settings = _items(state, "SETTINGS")
            return bool(settings) and "321" in json.dumps(settings)

        assert eventually(saved, timeout=5)  # before any stop: a crash loses at most a moment


def test_the_harness_keeps_no_state_by_default(upstreams, monkeypatch):
    monkeypatch.setattr(kept_state, "SAVE_EVERY_SECONDS", 0.1)

    def default_files() -> list[tuple[str, int | None]]:
        paths = (DEFAULT_STATE_FILE, DEFAULT_STATE_FILE.with_name(DEFAULT_STATE_FILE.name + ".lock"))
        return [(p.name, p.stat().st_mtime_ns if p.exists() else None) for p in paths]

    before = default_files()
    app = LocalApp(port=0, upstreams=upstreams)
    assert app.kept.file is None
    with app:
        requests.put(f"{app.url}/settings", json={"halo_requests_per_minute": 77}, timeout=20)
        time.sleep(0.5)
        assert app.kept.save() is False
        assert "State" not in app.banner()
    assert default_files() == before


# -- the file -------------------------------------------------------------------------------


def test_state_file_is_written_atomically_with_mode_0600(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{}")
    path.chmod(0o644)
    old = os.umask(0)
    try:
        StateFile(path).save({"version": STATE_VERSION, "secrets": {"S": {"SecretString": "x"}}})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert StateFile(path).load() == {"version": STATE_VERSION, "secrets": {"S": {"SecretString": "x"}}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_state_file_that_cannot_be_read_is_refused_and_left_alone(tmp_path):
    assert StateFile(tmp_path / "none.json").load() is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "tables": ')
    with pytest.raises(StateFileError, match="--fresh"):
        StateFile(broken).load()
    assert broken.read_text() == '{"version": 1, "tables": '
    other = tmp_path / "other.json"
    other.write_text('{"version": 99}')
    with pytest.raises(StateFileError, match="version"):
        StateFile(other).load()


def test_one_runner_at_a_time_uses_a_state_file(tmp_path):
    first, second = StateFile(tmp_path / "state.json"), StateFile(tmp_path / "state.json")
    first.lock()
    try:
        with pytest.raises(StateFileError, match="Another local runner"):
            second.lock()
    finally:
        first.unlock()
    second.lock()
    second.unlock()


# -- the command line -----------------------------------------------------------------------


def test_serve_command_keeps_state_and_fresh_starts_over(tmp_path):
    args = cli.parse_args([])
    assert (args.state_file, args.fresh) == (DEFAULT_STATE_FILE, False)
    app = cli.app_from_args(cli.parse_args(["--fresh", "--state-file", str(tmp_path / "s.json")]))
    assert app.kept.fresh is True
    assert app.kept.file is not None and app.kept.file.path == tmp_path / "s.json"
    assert DEFAULT_STATE_FILE.parent.relative_to(ROOT).as_posix() == ".local-state"


def test_make_serve_passes_fresh_only_when_asked():
    def dry_run(*extra: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["make", "-n", "serve", *extra],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return next(line for line in done.stdout.splitlines() if "-m local.serve" in line)

    assert "--fresh" not in dry_run()
    assert "--fresh" not in dry_run("FRESH=")
    assert dry_run("FRESH=1").endswith("--fresh")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(port: int, state: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(UPSTREAM_VARS)}
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "local.serve", "--port", str(port), "--state-file", str(state)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def up() -> bool:
        assert proc.poll() is None, proc.communicate()
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    assert eventually(up, timeout=30)
    return proc


def test_serve_command_survives_kill_9_and_sigterm(state):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(port, state)
    try:
        response = requests.put(f"{url}/settings", json={"halo_requests_per_minute": 432}, timeout=20)
        assert response.status_code == 200, response.text
        assert eventually(lambda: state.exists() and "432" in json.dumps(_items(state, "SETTINGS")))
    finally:
        proc.kill()  # no save on stop: only what was saved while running is there
        proc.communicate(timeout=15)

    proc = _serve(port, state)
    try:
        assert requests.get(f"{url}/settings", timeout=20).json()["halo_requests_per_minute"] == 432
        requests.put(f"{url}/settings", json={"halo_requests_per_minute": 433}, timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "restored" in out and "Stopped." in out
    assert "433" in json.dumps(_items(state, "SETTINGS"))
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
