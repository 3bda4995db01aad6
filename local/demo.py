"""``make demo``: the main job end to end on the local API, with a readable summary.

Starts the local API (bundled fakes unless the upstream variables are set, exactly like
``make serve``), then test-config → generate mappings → import customers → import
subscriptions, printing a table for each step (subscriptions per customer). Exits 0 when every
step succeeded.

Only the tables go to stdout: the handlers' JSON log and metric lines, the local runner's
warnings and any traceback go to a log file (``.local-state/demo.log`` unless ``--log-file``),
named at the end. The demo keeps no state between runs (it never reads or writes ``make
serve``'s state file).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

from local.client import ApiError, LocalApi
from local.serve.app import LocalApp
from local.serve.paths import ROOT
from local.serve.upstreams import UpstreamTargets
from local.tables import table as plain_table

DEFAULT_LOG_FILE = ROOT / ".local-state" / "demo.log"
# Cells wider than this wrap: the demo's tables (two free-text columns at most) fit 100-120 columns.
CELL_WIDTH = 48
table = partial(plain_table, max_width=CELL_WIDTH)


class Demo:
    def __init__(self, url: str, out: IO[str] | None = None) -> None:
        self.api = LocalApi(url, timeout=120)
        self.out = out or sys.stdout

    def print(self, *values: object) -> None:
        print(*values, file=self.out, flush=True)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self.api.json(method, path, body)
        except ApiError as exc:
            raise SystemExit(str(exc)) from None

    def run(self, path: str, body: Any = None) -> dict[str, Any]:
        try:
            return self.api.run(path, body, timeout=900)
        except ApiError as exc:
            raise SystemExit(str(exc)) from None

    def main(self) -> int:
        check = self.call("POST", "/config/test")
        self.print("\n1. Test configuration")
        self.print(
            table(
                ["system", "ok", "message", "hint"],
                [
                    [name, check[key]["ok"], check[key]["message"], check[key]["hint"]]
                    for name, key in (("Dicker Data", "dicker_data"), ("Halo", "halo"))
                ],
            )
        )
        if not check["ok"]:
            return 1

        generated = self.call("POST", "/mappings/generate")
        self.print("\n2. Generate mappings (exact names only)")
        rows = [
            [m["dicker_customer_name"], "mapped", f"Halo #{m['halo_client_id']} {m['halo_client_name']}"]
            for m in generated["created"]
        ]
        rows += [
            [
                u["dicker_customer_name"],
                "unmatched",
                "suggest: " + ", ".join(s["halo_client_name"] for s in u["suggestions"])
                if u["suggestions"]
                else "",
            ]
            for u in generated["unmatched"]
        ]
        rows += [
            [a["dicker_customer_name"], "ambiguous", f"Halo ids {a['halo_client_ids']}"]
            for a in generated["ambiguous"]
        ]
        rows += [
            [u["dicker_customer_name"], "not importable", u["reason"]] for u in generated["not_importable"]
        ]
        self.print(table(["customer", "outcome", "detail"], rows))
        self.print(f"already mapped: {generated['already_mapped']}")

        run = self.run("/customers/import", {})
        self.print(f"\n3. Import customers: run {run['run_id']} {run['status']}")
        self.print(
            table(
                ["customer", "result", "halo id", "changes / reason"],
                [
                    [i["name"], i["result"], i["halo_id"], ", ".join(i["changes"]) or i["reason"]]
                    for i in run["items"]
                ],
            )
        )
        self.print("counts: " + ", ".join(f"{k} {v}" for k, v in run["counts"].items()))
        if run["status"] != "succeeded":
            return 1

        subs = self.run("/subscriptions/import", {})
        names = {
            m["dicker_customer_id"]: m["dicker_customer_name"]
            for m in self.call("GET", "/mappings")["mappings"]
        }
        per_customer: dict[str, dict[str, int]] = {}
        for item in self.items(subs["run_id"]):
            counts = per_customer.setdefault(item.get("customer_id") or "", {})
            counts[item["result"]] = counts.get(item["result"], 0) + 1
        self.print(f"\n4. Import subscriptions: run {subs['run_id']} {subs['status']}")
        results = ("created", "updated", "unchanged", "failed")
        self.print(
            table(
                ["customer", *results],
                [
                    [names.get(cid, cid), *(counts.get(r, 0) for r in results)]
                    for cid, counts in sorted(
                        per_customer.items(), key=lambda kv: names.get(kv[0], kv[0]).casefold()
                    )
                ],
            )
        )
        self.print("counts: " + ", ".join(f"{k} {v}" for k, v in subs["counts"].items()))
        return 0 if subs["status"] == "succeeded" else 1

    def items(self, run_id: str) -> list[dict[str, Any]]:
        """Every item of a run, following next_token."""
        page = self.call("GET", f"/runs/{run_id}")
        items = list(page["items"])
        while page.get("next_token"):
            page = self.call("GET", f"/runs/{run_id}?next_token={page['next_token']}")
            items += page["items"]
        return items


@contextlib.contextmanager
def handler_logs_to(stream: IO[str], after: IO[str]) -> Iterator[None]:
    """The handlers' Powertools logger writes to ``stream`` meanwhile, then to what it wrote to
    before, or to ``after`` if that was ``stream`` (its handler is made on first import, which
    may have been while stdout went to ``stream``). Entered once the app has started: the
    logger's module reads the functions' environment when first imported."""
    from ddhalo_lambda.observability import logger

    handler: Any = logger.registered_handler
    previous = handler.setStream(stream)
    try:
        yield
    finally:
        handler.setStream(after if previous is stream else previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--log-file",
        type=Path,
        default=DEFAULT_LOG_FILE,
        metavar="PATH",
        help=f"where the logs go (default: {DEFAULT_LOG_FILE.relative_to(ROOT)} in the checkout)",
    )
    args = parser.parse_args(argv)
    args.log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = sys.stdout  # the tables'; everything else that prints goes to the log file
    with args.log_file.open("w", encoding="utf-8") as log:
        try:
            with (
                contextlib.redirect_stdout(log),  # Powertools Metrics prints its EMF lines
                contextlib.redirect_stderr(log),  # the runner's warnings and tracebacks
                LocalApp(port=0, upstreams=UpstreamTargets.from_env(), access_log=False) as app,
                handler_logs_to(log, after=out),
            ):
                demo = Demo(app.url, out)
                demo.print(app.banner(brief=True))
                return demo.main()
        finally:
            print(f"\nLogs (handlers, local runner): {args.log_file}", file=out, flush=True)


if __name__ == "__main__":
    sys.exit(main())
