"""Each handler's cold import, timed in fresh interpreters, by package."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

from local.bench.config import ROOT, function_dirs


@dataclass
class ImportTime:
    function: str
    milliseconds: float
    top: list[tuple[str, float]]  # (top-level package, import self time in ms), largest first


_IMPORT_SNIPPET = """
import importlib.util, sys, time
sys.path[:0] = [{shared!r}, {code!r}]
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {app!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def _lambda_like_env() -> dict[str, str]:
    """What a handler's module needs at import in Lambda, with dummy values (nothing is called).
    AWS_LAMBDA_FUNCTION_NAME makes Powertools' Tracer behave as in Lambda (it patches at import)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "ap-southeast-2",
        "AWS_REGION": "ap-southeast-2",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "POWERTOOLS_SERVICE_NAME": "dicker-data-halo",
        "POWERTOOLS_METRICS_NAMESPACE": "DickerDataHalo",
        "TABLE_NAME": "bench-table",
        "SECRET_ID": "bench-secret",
        "WORK_QUEUE_URL": "https://sqs.ap-southeast-2.amazonaws.com/123456789012/bench",
        "HALO_REQUESTS_PER_MINUTE": "50",
        "HALO_RATE_SHARE": "2",
        "SYNC_RULE_NAME": "bench-sync",
    }


def _top_imports(stderr: str, n: int = 5) -> list[tuple[str, float]]:
    """``-X importtime`` self times summed per top-level package: who the import time belongs to."""
    spent: dict[str, float] = {}
    for line in stderr.splitlines():
        parts = line.split("|")
        head = parts[0].partition(":")[2].strip()
        if not line.startswith("import time:") or len(parts) != 3 or not head.isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        spent[package] = spent.get(package, 0.0) + int(head) / 1000
    return sorted(spent.items(), key=lambda kv: -kv[1])[:n]


def measure_imports(repeats: int = 3) -> list[ImportTime]:
    """Each handler's module import in a fresh interpreter (the cold-start share that is ours)."""
    shared = str(ROOT / "shared")
    results = []
    for code in function_dirs():
        snippet = _IMPORT_SNIPPET.format(shared=shared, code=str(code), app=str(code / "app.py"))
        times = []
        for _ in range(repeats):
            done = subprocess.run(  # noqa: S603 - our interpreter, our snippet
                [sys.executable, "-c", snippet],
                env=_lambda_like_env(),
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            times.append(float(done.stdout.strip().splitlines()[-1]) * 1000)
        profiled = subprocess.run(  # noqa: S603 - our interpreter, our snippet
            [sys.executable, "-X", "importtime", "-c", snippet],
            env=_lambda_like_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        results.append(ImportTime(code.name, statistics.median(times), _top_imports(profiled.stderr)))
    return results
