"""The template's schedules (Schedule and ScheduleV2 events), fired locally every few seconds
when `make serve` is asked to, or once on demand."""

from __future__ import annotations

import threading
import traceback
from typing import TYPE_CHECKING, Any

from local.aws import ACCOUNT_ID
from local.events import scheduled_event
from local.template import ScheduleSource

if TYPE_CHECKING:
    from local.serve.app import LocalApp


def fire_schedule(app: LocalApp, source: ScheduleSource) -> Any:
    """Invoke a schedule's function once, as its rule or schedule would."""
    name = f"{app.aws.prefix}-{source.function_id}-{source.event_id}"
    service, kind = ("events", "rule") if source.kind == "Schedule" else ("scheduler", "schedule/default")
    arn = f"arn:aws:{service}:{app.aws.region}:{ACCOUNT_ID}:{kind}/{name}"
    return app.invoke(source.function_id, scheduled_event(arn, app.aws.region, ACCOUNT_ID, source.input))


class ScheduleTimer(threading.Thread):
    """Fires one Schedule/ScheduleV2 event every `period` seconds (local stand-in for its cron)."""

    def __init__(self, app: LocalApp, source: ScheduleSource, period: float) -> None:
        super().__init__(name=f"schedule-{source.function_id}-{source.event_id}", daemon=True)
        self.app, self.source, self.period = app, source, period

    def run(self) -> None:
        while not self.app.stopping.wait(self.period):
            try:
                fire_schedule(self.app, self.source)
            except Exception:
                traceback.print_exc()
