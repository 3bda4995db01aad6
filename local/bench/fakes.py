"""The HTTP fakes of Dicker Data and Halo in a child process, and the parent's handle on them.

Commands: ``start`` (seed a world), ``reset`` (the call counters), ``stats``, ``world`` (what a
first sync must write), ``change`` (Dicker Data's subscriptions changed), ``drift`` (Halo edited
by hand), ``check`` (Halo against Dicker Data), ``stop``; ``local.bench.world`` does the last four.
"""

from __future__ import annotations

import contextlib
import threading
from multiprocessing.connection import Connection
from typing import Any


def _fakes_main(conn: Connection) -> None:
    """Serve commands from the parent: the fakes live here so their memory and CPU are not ours."""
    from local.bench import world
    from local.fakes import DickerDataFake, HaloFake
    from local.fakes.sample_data import generate_dicker_data, generate_halo

    dd: DickerDataFake | None = None
    halo: HaloFake | None = None
    matched = 0
    while True:
        command, args = conn.recv()
        try:
            if command == "start":
                tenants, subs = generate_dicker_data(args["customers"], args["subs"], args["seed"])
                dd = DickerDataFake(account_code="BENCH01", tenants=tenants, subscriptions=subs).start()
                halo = HaloFake(rate_limit=args["halo_limit"], rate_window=args["halo_window"]).start()
                matched = args["matched"]
                names = [t["CompanyName"] for t in tenants[:matched]]
                generate_halo(halo, len(names), names=names)
                dd.latency = halo.latency = args["latency"]
                answer: Any = {
                    "dd": (dd.base_url, dd.account_code, dd.access_token),
                    "halo": (halo.api_url, halo.auth_url, halo.client_id, halo.client_secret),
                }
            elif command == "reset":
                assert dd is not None
                assert halo is not None
                dd.reset_calls()
                halo.reset_calls()
                answer = None
            elif command == "stats":
                assert dd is not None
                assert halo is not None
                with halo.lock, dd.lock:
                    answer = {
                        "halo_calls": sum(halo.calls.values()),
                        "halo_by_endpoint": dict(halo.calls),
                        "halo_writes": halo.writes,
                        "halo_throttled": halo.throttled,
                        "dd_calls": sum(dd.calls.values()),
                        "clients": len(halo.clients),
                        "licences": len(halo.licences),
                        "sites": len(halo.sites),
                    }
            elif command == "world":
                assert dd is not None
                answer = world.world_counts(dd, matched)
            elif command == "change":
                assert dd is not None
                answer = world.change_subscriptions(dd, args["share"], args["seed"])
            elif command == "drift":
                assert dd is not None
                assert halo is not None
                answer = world.hand_drift(
                    halo, dd, args["mapping"], args["per_kind"], args["seed"], bases=args["bases"]
                )
            elif command == "check":
                assert dd is not None
                assert halo is not None
                answer = world.check_halo(halo, dd, args["mapping"])
            elif command == "stop":
                for fake in (dd, halo):
                    if fake is not None:
                        fake.stop()
                conn.send(None)
                return
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as exc:  # answered, so the parent raises it with context
            answer = RuntimeError(f"fakes: {command} failed: {exc!r}")
        conn.send(answer)


class FakesProcess:
    """The parent's handle on the fakes' process."""

    def __init__(self, ctx: Any) -> None:
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_fakes_main, args=(child,), name="bench-fakes", daemon=True)
        self._process.start()
        self._lock = threading.Lock()

    def call(self, command: str, **args: Any) -> Any:
        with self._lock:
            self._conn.send((command, args))
            answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call("stop")
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
