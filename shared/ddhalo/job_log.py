"""What a job tells the logs: that it started, the end of each of its steps, and that it finished,
with its upstream calls and waits. One JSON line each (Powertools), so an operator can ask
CloudWatch Logs Insights where a slow sync spent its time::

    filter job_event = "finished" | stats max(seconds), sum(halo_calls) by phase

The bench reads the same lines (a logging handler, ``local/bench/workers.py``): it measures what
production shows. The current job rides in a context variable, so a step deep in the pipeline says
which job it belongs to without every function taking it as an argument.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from aws_lambda_powertools import Logger

# A child of the handlers' Logger: same service, handler and redaction.
logger = Logger(child=True)


class JobLog:
    """``with JobLog(phase, chunk) as log:`` a job's lines; set ``log.stats`` before it ends."""

    def __init__(self, phase: str, chunk: str) -> None:
        self.phase = phase
        self.chunk = chunk
        self.stats: dict[str, float] = {}
        self._started = 0.0
        self._token: Token[JobLog | None] | None = None

    def __enter__(self) -> JobLog:
        self._started = time.perf_counter()
        self._token = _CURRENT.set(self)
        self._line("started")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._line("finished", **self.stats, outcome="raised" if kind else "returned")
        if self._token is not None:
            _CURRENT.reset(self._token)

    def _line(self, event: str, **fields: Any) -> None:
        seconds = round(time.perf_counter() - self._started, 3)
        extra = {"job_event": event, "phase": self.phase, "chunk": self.chunk, "seconds": seconds}
        logger.info(f"job {event}", extra={**extra, **fields})


_CURRENT: ContextVar[JobLog | None] = ContextVar("job_log", default=None)


def step(name: str) -> None:
    """Say that step ``name`` of the current job just ended (nothing outside a job)."""
    job = _CURRENT.get()
    if job is not None:
        job._line("step", step=name)
