"""`python -m local.bench.serve_memory`: how much memory `make serve` holds through repeated syncs.

Starts the HTTP fakes here with N customers x S subscriptions, then ``python -m local.serve``
(what ``make serve`` runs) as a child pointed at them, and runs: a first sync (a verify, on a
fresh Halo), an unchanged plain sync, a verify, and a plain sync again. It samples the resident
memory of the serve process and its children (``/proc``) twice a second and prints the peak
during each sync and what is held after it: the figures docs/PERFORMANCE.md records. The fakes'
own memory is not counted (they live in this process).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from local.client import LocalApi

ROOT = Path(__file__).resolve().parents[2]
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += int((Path("/proc") / str(current) / "statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
        todo += children.get(current, [])
    return total


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, tree_rss(self.pid))

    def take_peak(self) -> int:
        peak, self.peak = max(self.peak, tree_rss(self.pid)), 0
        return peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.bench.serve_memory", description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--subs", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a sync may take")
    args = parser.parse_args(argv)

    from local.fakes import DickerDataFake, HaloFake
    from local.fakes.sample_data import generate_dicker_data

    tenants, subs = generate_dicker_data(args.customers, args.subs, seed=7)
    with DickerDataFake(account_code="MEM01", tenants=tenants, subscriptions=subs) as dd, HaloFake() as halo:
        port = free_port()
        env = {
            **os.environ,
            "DICKER_DATA_BASE_URL": dd.base_url,
            "DICKER_DATA_ACCOUNT_CODE": dd.account_code,
            "DICKER_DATA_ACCESS_TOKEN": dd.access_token,
            "HALO_API_URL": halo.api_url,
            "HALO_AUTH_URL": halo.auth_url,
            "HALO_CLIENT_ID": halo.client_id,
            "HALO_CLIENT_SECRET": halo.client_secret,
        }
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                sys.executable, "-m", "local.serve", "--port", str(port), "--fresh",
                "--state-file", str(Path(tmp) / "state.json"),
            ]  # fmt: skip
            log = open(Path(tmp) / "serve.log", "w")  # noqa: SIM115 - closed below
            serve = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            try:
                return _measure(serve, LocalApi(f"http://127.0.0.1:{port}", timeout=120), args)
            finally:
                serve.terminate()  # it saves its state first: a large table takes a while
                try:
                    serve.wait(timeout=300)
                except subprocess.TimeoutExpired:
                    serve.kill()
                    serve.wait()
                log.close()


def _measure(serve: subprocess.Popen[bytes], api: LocalApi, args: argparse.Namespace) -> int:
    deadline = time.monotonic() + 120
    while True:
        try:
            api.get("/settings")
            break
        except OSError:
            if time.monotonic() > deadline or serve.poll() is not None:
                print("make serve did not start", file=sys.stderr)
                return 1
            time.sleep(0.5)
    api.json("PUT", "/settings", {"halo_requests_per_minute": 6000})
    api.json("POST", "/mappings/generate")
    sampler = Sampler(serve.pid)
    print(
        f"make serve, {args.customers:,} customers x {args.subs} subscriptions: resident memory of its tree"
    )
    print(f"{'sync':<22} {'status':<10} {'verify':<7} {'seconds':>8} {'peak MB':>8} {'after MB':>9}")
    print(f"{'(started)':<22} {'':<10} {'':<7} {'':>8} {sampler.take_peak() / 1e6:>8.0f}")
    failed = False
    for label, body in (
        ("first sync", {}),
        ("unchanged plain sync", {"verify": False}),
        ("verify", {"verify": True}),
        ("plain sync again", {"verify": False}),
    ):
        started = time.monotonic()
        run = api.run("/sync", body, timeout=args.timeout)
        took = time.monotonic() - started
        time.sleep(2)  # the worker's last writes after the run is final
        peak, after = sampler.take_peak(), tree_rss(serve.pid)
        failed |= run["status"] != "succeeded"
        verify = str(run.get("verify")).lower()
        print(
            f"{label:<22} {run['status']:<10} {verify:<7} {took:>8.1f} {peak / 1e6:>8.0f} {after / 1e6:>9.0f}"
        )
    sampler.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
