"""`with thing:` for what the local runner starts and stops (the AWS stack, the whole app)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Started:
    """Started on entering the block, stopped on leaving it, however it is left."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
