"""The worker's allocator setting: template.yaml gives it glibc's MALLOC_MMAP_THRESHOLD_, and
glibc, reading it when the process starts, gives freed large buffers back to the system.

The behaviour is checked in fresh interpreters started with and without the template's value
(the variable is read once, at start, for the whole process).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.template.conftest import TEMPLATE

VARIABLE = "MALLOC_MMAP_THRESHOLD_"
THRESHOLD = 128 * 1024  # glibc's own starting value, kept from growing

# A freed 16 MB block (a sync's answer), then 1 MB buffers between small objects that outlive
# them (a job's parsing): what the process still holds once the buffers are freed.
SCENARIO = """
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
big = bytearray(16 * 2**20)
del big
before = rss_mb()
kept, buffers = [], []
for _ in range(64):
    buffers.append(bytearray(2**20))
    kept.append(bytearray(2000))
del buffers
print(rss_mb() - before)
"""


def worker_environment(sam_template) -> dict:
    return sam_template["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]


def held_after(threshold: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    if threshold is not None:
        env[VARIABLE] = threshold
    out = subprocess.run(  # noqa: S603 - our interpreter, our snippet
        [sys.executable, "-c", SCENARIO], capture_output=True, text=True, check=True, env=env
    )
    return float(out.stdout)


def test_the_worker_starts_with_the_mmap_threshold_fixed(sam_template):
    assert worker_environment(sam_template)[VARIABLE] == str(THRESHOLD)
    assert "the largest block freed" in TEMPLATE.read_text()  # and says why, beside it


def test_with_the_templates_threshold_freed_buffers_go_back_to_the_system(sam_template):
    assert held_after(worker_environment(sam_template)[VARIABLE]) < 8


def test_without_it_glibc_keeps_them_which_is_why_the_worker_sets_it():
    assert held_after(None) > 48  # 64 MB of freed buffers, still resident
