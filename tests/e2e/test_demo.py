"""`make demo` end to end: the whole main job on the local API with the bundled fakes."""

import re

import pytest

from local import demo

pytestmark = pytest.mark.e2e


def test_demo_runs_the_main_job_and_succeeds(capsys, monkeypatch):
    for name in ("DICKER_DATA_BASE_URL", "HALO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert "1. Test configuration" in out and "4. Import subscriptions" in out
    # Customers: three mapped by generate, Wide World Importers created, and the three whose name
    # Halo already holds (nearly, or twice) held for a mapping by hand, not created.
    assert "counts: created 1, updated 3, unchanged 0, skipped 4, failed 0" in out
    held = {
        "Tailspin Toys Pty Ltd": 'Not created: Halo already has "Tailspin Toys Pty. Ltd." (#',
        "Smith & Jones Accounting": 'Not created: Halo already has "Smith and Jones Accounting" (#',
        "Adventure Works": 'Not created: Halo clients "Adventure Works" (#',
    }
    for name, reason in held.items():
        (line,) = [row for row in out.splitlines() if row.startswith(name) and "Not created" in row]
        assert re.match(rf"{re.escape(name)}\s+skipped\s+{re.escape(reason)}", line), line
    assert "all have this name" in out and '"create_when_similar": true' in out
    # Subscriptions of the four customers in Halo: Contoso 5, Fabrikam 4, Northwind 3, Wide World 3.
    assert "counts: created 15, updated 0, unchanged 0, skipped 0, failed 0" in out
    assert not re.search(r"^(Tailspin|Smith|Adventure).*\d+\s+\d+\s+\d+\s+\d+\s*$", out, re.M)
