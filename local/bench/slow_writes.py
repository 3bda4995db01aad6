"""`python -m local.bench.slow_writes`: the slow-write case of issue 25 at size.

A Halo that answers every third call late (31 s by default, past a read's 30 s timeout) and saves
a write only then, as a busy hosted tenant does, against a clean Halo: N new customers with S
subscriptions each, a first sync (a verify, as the first sync is) and a verify after it. Both
runs go through the local runner with the deployed defaults (write timeout, settle window, pace);
the Halo fake here paces nothing itself. It prints each sync's wall time, Halo calls and what
landed, and exits non-zero if any customer or subscription is in Halo other than once: the
figures docs/PERFORMANCE.md records. The handlers' logs go to ``.local-state/slow_writes.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from local.bench.world import marker_of
from local.client import LocalApi
from local.demo import handler_logs_to
from local.fakes import DickerDataFake, HaloFake
from local.fakes.sample_data import generate_dicker_data
from local.serve.app import LocalApp
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets

LOG_FILE = Path(__file__).resolve().parents[2] / ".local-state" / "slow_writes.log"


@dataclass
class Outcome:
    """One sync of one world: how long, how many Halo calls, and what Halo holds after it."""

    label: str
    wall_s: float
    halo_calls: int
    status: str
    counts: dict[str, int]
    clients_twice: int
    licences_twice: int
    missing: int


def measure(label: str, api: LocalApi, halo: HaloFake, dd: DickerDataFake, body: dict[str, bool]) -> Outcome:
    halo.reset_calls()
    started = time.monotonic()
    run = api.wait_run(api.post("/sync", body).json()["run_id"], timeout=3 * 3600, poll=1.0)
    wall = time.monotonic() - started
    halo.wait_idle(120)  # a save still pending lands before Halo is counted
    tenants = Counter(
        t.get("azure_tenant_id") for c in halo.clients.values() for t in c.get("azure_tenants") or []
    )
    licences = Counter(m for r in halo.licences.values() if (m := marker_of(r)))
    wanted_tenants = [t["TenantId"] for t in dd.tenants]
    wanted_subs = [s["SubscriptionId"] for s in dd.subscriptions]
    return Outcome(
        label,
        wall,
        sum(halo.calls.values()) - halo.calls["POST /auth/token"],
        run["status"],
        run["counts"],
        sum(1 for t in wanted_tenants if tenants[t] > 1),
        sum(1 for s in wanted_subs if licences[s] > 1),
        sum(1 for t in wanted_tenants if not tenants[t]) + sum(1 for s in wanted_subs if not licences[s]),
    )


def world_run(customers: int, subs: int, slow_every: int, slow_seconds: float, log: IO[str]) -> list[Outcome]:
    tenants, subscriptions = generate_dicker_data(customers, subs, seed=25)
    out = sys.stdout
    with DickerDataFake(tenants=tenants, subscriptions=subscriptions) as dd, HaloFake() as halo:
        upstreams = UpstreamTargets(
            dicker_data=DickerDataUpstream(dd.base_url, dd.account_code, dd.access_token),
            halo=HaloUpstream(halo.api_url, halo.auth_url, None, halo.client_id, halo.client_secret),
        )
        with (
            contextlib.redirect_stdout(log),  # Powertools Metrics prints its EMF lines
            contextlib.redirect_stderr(log),
            LocalApp(port=0, upstreams=upstreams, access_log=False) as app,
            handler_logs_to(log, after=out),
        ):
            api = LocalApi(app.url)
            if slow_every:
                halo.slow_every(slow_every, slow_seconds, paths=["/api"])
            kind = f"1 call in {slow_every} {slow_seconds:.0f} s late" if slow_every else "clean"
            first = measure(f"{kind}: first sync", api, halo, dd, {})
            verify = measure(f"{kind}: verify", api, halo, dd, {"verify": True})
            halo.slow_every(0, 0)
            return [first, verify]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--subscriptions", type=int, default=3, help="per customer")
    parser.add_argument("--every", type=int, default=3, help="every k-th Halo call is slow")
    parser.add_argument("--seconds", type=float, default=31.0, help="how late, and when it is saved")
    parser.add_argument("--no-clean", action="store_true", help="skip the clean run")
    args = parser.parse_args(argv)
    LOG_FILE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with LOG_FILE.open("w", encoding="utf-8") as log:
        outcomes = [] if args.no_clean else world_run(args.customers, args.subscriptions, 0, 0, log)
        outcomes += world_run(args.customers, args.subscriptions, args.every, args.seconds, log)
    print(f"{args.customers} customers x {args.subscriptions} subscriptions")
    print(f"{'sync':<42} {'wall':>8} {'calls':>6} {'status':<10} {'twice':>6} {'missing':>8}  counts")
    for o in outcomes:
        twice = o.clients_twice + o.licences_twice
        row = f"{o.label:<42} {o.wall_s:>7.0f}s {o.halo_calls:>6} {o.status:<10} {twice:>6} {o.missing:>8}"
        print(f"{row}  {o.counts}")
    bad = [o for o in outcomes if o.clients_twice or o.licences_twice or o.missing or o.status != "succeeded"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
