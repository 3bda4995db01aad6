"""`make demo` end to end: the whole main job on the local API with the bundled fakes."""

import pytest

from local import demo

pytestmark = pytest.mark.e2e


def test_demo_runs_the_main_job_and_succeeds(capsys, monkeypatch):
    for name in ("DICKER_DATA_BASE_URL", "HALO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert "1. Test configuration" in out and "4. Import subscriptions" in out
    assert "counts: created 25, updated 0, unchanged 0, skipped 0, failed 0" in out
