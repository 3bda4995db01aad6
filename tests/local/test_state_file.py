"""A state file `make serve` cannot use is refused through the real command: one sentence on
stderr naming the file and what is wrong, exit status 1, no traceback, and the file exactly as
it was (not saved over, set aside or discarded), so nothing in it is lost."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.serve.app import LocalApp
from local.serve.paths import ROOT
from local.serve.upstreams import FAKE, UpstreamTargets

UPSTREAM_VARS = ("DICKER_DATA_", "HALO_")
# The template's table and secret (template.yaml), as a saved state names them.
TABLE, SECRET = "Table", "CredentialsSecret"
CREDENTIALS = "a-stored-credential-never-shown"

GOOD: dict[str, Any] = {
    "version": 1,
    "saved_at": "2026-01-01T00:00:00+00:00",
    "note": "make serve's local state; it holds the credentials in plain text.",
    "tables": {
        TABLE: [
            {"pk": {"S": "SETTINGS"}, "sk": {"S": "CURRENT"}, "settings": {"M": {"region": {"S": "AU"}}}},
            {"pk": {"S": "MAPPING"}, "sk": {"S": "c1"}, "n": {"N": "3"}, "tags": {"L": [{"BOOL": True}]}},
        ]
    },
    "secrets": {SECRET: {"SecretString": json.dumps({"halo_client_secret": CREDENTIALS})}},
    "seeded": {"halo_client_id": "sha256:00"},
    "upstreams": {"dicker_data": FAKE, "halo": FAKE},
    "fakes": {"halo": {"clients": {"1": {"id": 1, "name": "Contoso", "inactive": False}}}},
}


def _good() -> dict[str, Any]:
    return copy.deepcopy(GOOD)


def _with(change: Callable[[dict[str, Any]], object]) -> bytes:
    """GOOD with one thing changed, as the bytes of a file."""
    state = _good()
    change(state)
    return json.dumps(state, indent=1).encode()


def _files(folder: Path) -> dict[str, bytes | None]:
    """What the folder holds (a directory as None); the runner's lock file does not count."""
    kept = (p for p in folder.iterdir() if not p.name.endswith(".lock"))
    return {p.name: None if p.is_dir() else p.read_bytes() for p in kept}


def _refused(path: Path, *extra: str) -> str:
    """Start `python -m local.serve` on ``path``; answers the one line it printed when it
    refused, after checking it exited 1 with no traceback and left the folder as it was."""
    before = _files(path.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(UPSTREAM_VARS)}
    command = [sys.executable, "-m", "local.serve", "--port", "0", "--state-file", str(path), *extra]
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"it started instead of refusing the file:\n{out}\n{err}")
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err, err
    assert out == "", out
    assert len(err.strip().splitlines()) == 1, err
    line = err.strip()
    assert line.startswith(f"Cannot start: {path}"), line
    assert "port" not in line, line
    assert _files(path.parent) == before  # not saved over, set aside, discarded or renamed
    return line


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# -- the shape of the file ----------------------------------------------------------------------

SHAPES = {
    "tables is a string": (
        _with(lambda s: s.update(tables="oops")),
        ['"tables" must be an object of table name -> list of items, not a string'],
    ),
    "a table is an object": (
        _with(lambda s: s["tables"].update({TABLE: {}})),
        [f'"tables.{TABLE}" must be a list of items, not an object'],
    ),
    "an item is not an object": (
        _with(lambda s: s["tables"][TABLE].append(5)),
        [f'"tables.{TABLE}[2]" must be an object of attribute name -> typed value, not 5'],
    ),
    "an attribute is untyped": (
        _with(lambda s: s["tables"][TABLE][0].update(pk="SETTINGS")),
        [f'"tables.{TABLE}[0].pk" must be a DynamoDB typed value such as {{"S": "text"}}, not a string'],
    ),
    "a typed value of the wrong type": (
        _with(lambda s: s["tables"][TABLE][1].update(n={"N": 3})),
        [f'"tables.{TABLE}[1].n.N" must be text, not 3'],
    ),
    "a nested typed value of no known type": (
        _with(lambda s: s["tables"][TABLE][0]["settings"]["M"].update(region={"Q": "AU"})),
        [f'"tables.{TABLE}[0].settings.M.region" has an unknown key "Q"'],
    ),
    "a number that is not one": (
        _with(lambda s: s["tables"][TABLE][1].update(n={"N": "three"})),
        [f'"tables.{TABLE}[1].n.N" must be a number written as text, such as "3"'],
    ),
    "a secret is a number": (
        _with(lambda s: s.update(secrets={"X": 5})),
        ['"secrets.X" must be an object {"SecretString": text} or {"SecretBinary": base64 text}, not 5'],
    ),
    "a secret with a misspelt key": (
        _with(lambda s: s["secrets"].update({SECRET: {"SecretStrin": CREDENTIALS}})),
        [f'"secrets.{SECRET}" has an unknown key "SecretStrin"'],
    ),
    "a secret with no value": (
        _with(lambda s: s["secrets"].update({SECRET: {}})),
        [f'"secrets.{SECRET}" must hold exactly one of "SecretString" or "SecretBinary"'],
    ),
    "a seeded fingerprint is a number": (
        _with(lambda s: s["seeded"].update(halo_client_secret=5)),
        ['"seeded.halo_client_secret" must be text, not 5'],
    ),
    "upstreams is a list": (
        _with(lambda s: s.update(upstreams=["bundled fake"])),
        ['"upstreams" must be an object of upstream -> URL or "bundled fake", not a list'],
    ),
    "a fake record is not an object": (
        _with(lambda s: s["fakes"]["halo"]["clients"].update({"2": "Fabrikam"})),
        ['"fakes.halo.clients.2" must be a Halo record (an object with an "id" and a "name"), not a string'],
    ),
    "a fake record's id is text": (
        _with(lambda s: s["fakes"]["halo"]["clients"]["1"].update(id="1")),
        ['"fakes.halo.clients.1.id" must be a whole number, not a string'],
    ),
    "a fake record under another id": (
        _with(lambda s: s["fakes"]["halo"]["clients"].update({"7": {"id": 8, "name": "Fabrikam"}})),
        ['"fakes.halo.clients" keeps the record with the "id" 8 under "7"', "kept under its own id"],
    ),
    "a fake table of no known name": (
        _with(lambda s: s["fakes"]["halo"].update(tickets={})),
        ['"fakes.halo" has an unknown key "tickets"'],
    ),
    "an unknown top-level key": (
        _with(lambda s: s.update(secret=s.pop("secrets"))),
        ['the top level has an unknown key "secret"'],
    ),
    "another version": (_with(lambda s: s.update(version=2)), ["is not a version 1 state file"]),
    "a list, not an object": (b"[1, 2]", ["is not a version 1 state file"]),
}


@pytest.mark.parametrize(("content", "expected"), SHAPES.values(), ids=SHAPES.keys())
def test_a_state_file_of_the_wrong_shape_is_refused_in_one_sentence(state, content, expected):
    line = _refused(_write(state, content))
    for part in expected:
        assert part in line
    assert line.endswith("Fix or move the file, or start with FRESH=1 (--fresh) to discard it."), line
    assert CREDENTIALS not in line  # what a value holds is never shown


# -- what the template has ------------------------------------------------------------------------

AGAINST_TEMPLATE = {
    "a secret the template does not have": (
        _with(lambda s: s["secrets"].update(X={"SecretString": "{}"})),
        ['"secrets" has "X", which the template does not have'],
    ),
    "a table the template does not have": (
        _with(lambda s: s["tables"].update(Old=[])),
        ['"tables" has "Old", which the template does not have'],
    ),
    "no value for the template's secret": (
        _with(lambda s: s.update(secrets={})),
        [f'"secrets" has no "{SECRET}", which the template has'],
    ),
    "an item without its key": (
        _with(lambda s: s["tables"][TABLE][1].pop("sk")),
        [f'"tables.{TABLE}[1]" has no "sk", a key attribute of the table'],
    ),
    "a key of the wrong type": (
        _with(lambda s: s["tables"][TABLE][1].update(sk={"N": "1"})),
        [f'"tables.{TABLE}[1].sk" must be of type S (the table defines it so), not N'],
    ),
    "two items with one key": (
        _with(lambda s: s["tables"][TABLE].append(copy.deepcopy(s["tables"][TABLE][1]))),
        [f'"tables.{TABLE}[2]" has the same key as "tables.{TABLE}[1]"'],
    ),
    "an item DynamoDB refuses": (  # what the checks above do not foresee, moto's answer
        _with(lambda s: s["tables"][TABLE][1].update(big={"S": "x" * 500_000})),
        ["moto refused to restore it", "Item size has exceeded the maximum allowed size"],
    ),
}


@pytest.mark.parametrize(("content", "expected"), AGAINST_TEMPLATE.values(), ids=AGAINST_TEMPLATE.keys())
def test_a_state_file_that_does_not_fit_the_template_is_refused(state, content, expected):
    line = _refused(_write(state, content))
    for part in expected:
        assert part in line
    assert line.endswith("Fix or move the file, or start with FRESH=1 (--fresh) to discard it."), line


def test_a_bad_file_made_against_other_upstreams_is_refused_not_set_aside(state):
    content = _with(lambda s: s.update(tables="oops", upstreams={"halo": "https://other.example/api"}))
    line = _refused(_write(state, content))
    assert '"tables" must be an object' in line
    assert [p.name for p in state.parent.glob("*.aside.json")] == []


# -- the file itself ------------------------------------------------------------------------------

UNREADABLE = {
    "invalid JSON": (b'{"version": 1, "tables": ', ["is not valid JSON (Expecting value: line 1 column 26"]),
    "an empty file": (b"", ["is empty"]),
    "not UTF-8": (b'\xff{"version": 1}', ["is not UTF-8 text"]),
    "too deeply nested": (b"[" * 100_000 + b"]" * 100_000, ["is nested too deeply to read"]),
}


@pytest.mark.parametrize(("content", "expected"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_state_file_that_cannot_be_read_as_json_is_refused_in_one_sentence(state, content, expected):
    line = _refused(_write(state, content))
    for part in expected:
        assert part in line
    assert line.endswith("Fix or move the file, or start with FRESH=1 (--fresh) to discard it."), line


@pytest.mark.parametrize("extra", [(), ("--fresh",)], ids=["plain", "fresh"])
def test_a_directory_at_the_state_path_is_named_as_such_not_as_the_port(state, extra):
    state.mkdir()
    (state / "kept.txt").write_text("mine")
    line = _refused(state, *extra)
    assert line == (
        f"Cannot start: {state} is a directory, not a state file: move it, or give --state-file "
        "the path of a file."
    )
    assert (state / "kept.txt").read_text() == "mine"


def test_fresh_still_starts_over_from_a_file_it_would_refuse(state):
    state.write_bytes(_with(lambda s: s.update(tables="oops")))
    with LocalApp(port=0, upstreams=UpstreamTargets(), state_file=state, fresh=True) as app:
        assert app.kept.restored_items is None
    assert isinstance(json.loads(state.read_text())["tables"], dict)  # saved anew on stop


def test_the_good_file_of_these_tests_is_restored(state):
    """The cases above each break one thing of a file that is otherwise used as it is."""
    state.write_bytes(json.dumps(GOOD).encode())
    with LocalApp(port=0, upstreams=UpstreamTargets(), state_file=state) as app:
        assert app.kept.restored_items == 2
        assert app.fakes["halo"].clients[1]["name"] == "Contoso"
