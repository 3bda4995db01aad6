"""`make demo` end to end: the whole main job on the local API with the bundled fakes, run as
`make demo` runs it (its own process), so what reaches its stdout is exactly what a user sees."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TABLE_WIDTH = 120


def _is_json_line(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_demo_prints_only_its_tables_and_keeps_the_logs_in_a_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DICKER_DATA_", "HALO_"))}
    log = tmp_path / "logs" / "demo.log"
    done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "local.demo", "--log-file", str(log)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "1. Test configuration" in out and "4. Import subscriptions" in out
    # Customers: three mapped by generate, Wide World Importers created, and the three whose name
    # Halo already holds (nearly, or twice) held for a mapping by hand, not created.
    assert "counts: created 1, updated 3, unchanged 0, skipped 4, failed 0" in out
    for name in ("Tailspin Toys Pty Ltd", "Smith & Jones Accounting", "Adventure Works"):
        (row,) = [line for line in out.splitlines() if line.startswith(name) and " skipped " in line]
        assert "Not created" in row, row
    # Subscriptions of the four customers in Halo: Contoso 5, Fabrikam 4, Northwind 3, Wide World 3.
    assert "counts: created 15, updated 0, unchanged 0, skipped 0, failed 0" in out
    assert out.rstrip().endswith(f"Logs (handlers, local runner): {log}")

    lines = out.splitlines()
    assert [line for line in lines if _is_json_line(line)] == []  # no Powertools log or metric line
    assert not any('"POST /' in line for line in (*lines, *done.stderr.splitlines()))  # no access log
    tables = lines[lines.index("1. Test configuration") :]
    assert max(len(line) for line in tables) <= TABLE_WIDTH
    # A long reason is wrapped, not cut: its end is on a continuation line.
    assert sum("so it cannot be imported." in line for line in tables) == 2

    logged = log.read_text().splitlines()
    assert any(_is_json_line(line) and json.loads(line).get("level") == "INFO" for line in logged)
    assert any(_is_json_line(line) and "_aws" in json.loads(line) for line in logged)  # the metrics
