"""The worker's allocator setting, checked in fresh interpreters (it is process-wide)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"

# A freed 16 MB block (a sync's answer), then 1 MB buffers between small objects that outlive
# them (a job's parsing): what the process still holds once the buffers are freed.
SCENARIO = """
import sys
sys.path.insert(0, {shared!r})
from ddhalo_lambda.memory import fix_mmap_threshold
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
took = fix_mmap_threshold() if {fix} else None
big = bytearray(16 * 2**20)
del big
before = rss_mb()
kept, buffers = [], []
for _ in range(64):
    buffers.append(bytearray(2**20))
    kept.append(bytearray(2000))
del buffers
print(took, rss_mb() - before)
"""


def held_after(fix: bool) -> tuple[str, float]:
    code = SCENARIO.format(shared=str(SHARED), fix=fix)
    out = subprocess.run(  # noqa: S603 - our interpreter, our snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    took, held = out.stdout.split()
    return took, float(held)


def test_with_the_threshold_fixed_freed_buffers_go_back_to_the_system():
    took, held = held_after(fix=True)
    assert took == "True"
    assert held < 8


def test_without_it_glibc_keeps_them_which_is_why_the_worker_sets_it():
    took, held = held_after(fix=False)
    assert took == "None"
    assert held > 48  # 64 MB of freed buffers, still resident
