"""Hooks for watching jobs from outside (the bench measures through them; production leaves
them off): the job runner announces each job and each step of the pipeline to an ``Observer``,
its own (``Runner.observer``) or the one a measuring tool installed for the process (``install``).

The current observer is carried in a context variable, so steps deep in the pipeline announce
themselves without every function taking it as an argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Observer:
    """Does nothing; subclass what you want to watch."""

    def job_started(self, phase: str, chunk: str) -> None:
        """A job begins (after it took its locks)."""

    def step(self, name: str) -> None:
        """A step of the job just ended (e.g. ``"licences read"``, ``"planned"``)."""

    def job_finished(self, phase: str, chunk: str, stats: dict[str, float]) -> None:
        """A job ended, however it ended; ``stats``: its upstream calls and waits, when it connected."""


_CURRENT: ContextVar[Observer | None] = ContextVar("observer", default=None)
_INSTALLED = Observer()


def install(observer: Observer) -> None:
    """Watch every job this process runs (a tool that loads the real handlers, as the bench does)."""
    global _INSTALLED
    _INSTALLED = observer


def installed() -> Observer:
    return _INSTALLED


def step(name: str) -> None:
    """Announce that ``name`` just ended to the job's observer (nothing, when none watches)."""
    observer = _CURRENT.get()
    if observer is not None:
        observer.step(name)


@contextmanager
def observing(observer: Observer) -> Iterator[None]:
    token = _CURRENT.set(observer)
    try:
        yield
    finally:
        _CURRENT.reset(token)
