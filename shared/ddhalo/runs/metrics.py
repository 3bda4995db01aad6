"""What a finished run publishes to CloudWatch: its counts per kind, its upstream calls, and
whether it failed (what the alarms watch)."""

from __future__ import annotations

from ddhalo.models import Run


def run_metrics(run: Run) -> dict[str, int]:
    """What a finished run publishes to CloudWatch (names are per kind, e.g. ``sync_failed``)."""
    metrics = {f"{run.kind}_{name}": value for name, value in run.counts.model_dump().items()}
    metrics.update(
        halo_calls=run.halo_calls, dicker_data_calls=run.dicker_data_calls, throttled=run.throttled
    )
    metrics[f"{run.kind}_runs_failed"] = int(run.status in ("failed", "partial"))
    return metrics
