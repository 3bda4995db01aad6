"""``make demo``: the main job end to end on the local API, with a readable summary.

Starts the local API (bundled fakes unless the upstream variables are set, exactly like
``make serve``), then test-config → generate mappings → import customers → import
subscriptions, printing a table for each step (subscriptions per customer). Exits 0 when every
step succeeded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from local.client import ApiError, LocalApi
from local.serve import LocalApp, Upstreams
from local.tables import table


class Demo:
    def __init__(self, url: str) -> None:
        self.api = LocalApi(url, timeout=120)

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
        print("\n1. Test configuration")
        print(
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
        print("\n2. Generate mappings (exact names only)")
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
        print(table(["customer", "outcome", "detail"], rows))
        print(f"already mapped: {generated['already_mapped']}")

        run = self.run("/customers/import", {})
        print(f"\n3. Import customers: run {run['run_id']} {run['status']}")
        print(
            table(
                ["customer", "result", "halo id", "changes / reason"],
                [
                    [i["name"], i["result"], i["halo_id"], ", ".join(i["changes"]) or i["reason"]]
                    for i in run["items"]
                ],
            )
        )
        print("counts: " + ", ".join(f"{k} {v}" for k, v in run["counts"].items()))
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
        print(f"\n4. Import subscriptions: run {subs['run_id']} {subs['status']}")
        results = ("created", "updated", "unchanged", "failed")
        print(
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
        print("counts: " + ", ".join(f"{k} {v}" for k, v in subs["counts"].items()))
        return 0 if subs["status"] == "succeeded" else 1

    def items(self, run_id: str) -> list[dict[str, Any]]:
        """Every item of a run, following next_token."""
        page = self.call("GET", f"/runs/{run_id}")
        items = list(page["items"])
        while page.get("next_token"):
            page = self.call("GET", f"/runs/{run_id}?next_token={page['next_token']}")
            items += page["items"]
        return items


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    with LocalApp(port=0, upstreams=Upstreams.from_env()) as app:
        print(app.banner())
        return Demo(app.url).main()


if __name__ == "__main__":
    sys.exit(main())
