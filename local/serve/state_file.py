"""The file `make serve` keeps its state in between starts: read only when it has the expected
shape, written atomically and privately (it holds credentials), and locked to one runner."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from local.serve.paths import shown_path
from local.state_shape import shape_problem, version_problem

# How a refusal of the state file ends: what the person can do about it.
STATE_FILE_FIX = "Fix or move the file, or start with FRESH=1 (--fresh) to discard it."


class StateFileError(RuntimeError):
    """The state file cannot be used; it is left as it is."""


class StateFile:
    """`make serve`'s state between starts, one JSON document:

    ``{"version": 1, "saved_at": ..., "tables": {logical id: [items]}, "secrets": {logical id:
    {"SecretString": ...}}, "seeded": {setting: fingerprint}, "upstreams": {system: URL or
    "bundled fake"}, "fakes": {"halo": {table: {id: record}}}}`` (`local.state_shape` says
    exactly). One that cannot be read or does not have that shape is refused, left as it is.

    Written atomically (a temporary file in the same directory, then a rename), mode 0600: it
    holds the credentials in plain text. A lock file next to it keeps a second runner from
    using the same state while one runs.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock: IO[str] | None = None

    def __str__(self) -> str:
        return str(self.path)

    def refuse(self, problem: str) -> StateFileError:
        """The error for ``problem``, a clause naming a place in the file (see `local.state_shape`)."""
        return StateFileError(f"{shown_path(self.path)}: {problem}. {STATE_FILE_FIX}")

    def _refuse_whole(self, problem: str) -> StateFileError:
        """The error for ``problem``, what the whole file "is" (not JSON, empty...)."""
        return StateFileError(f"{shown_path(self.path)} {problem}. {STATE_FILE_FIX}")

    def lock(self) -> None:
        """Hold the path for this runner; a path that cannot hold a state file is refused first,
        so that it is named as such (not met later as an OSError)."""
        shown = shown_path(self.path)
        if self.path.is_dir():
            raise StateFileError(
                f"{shown} is a directory, not a state file: move it, or give --state-file the path of a file."
            )
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115 (held until unlock)
        except OSError as exc:
            raise StateFileError(
                f"{shown} cannot be kept there ({exc.strerror}): give --state-file another path."
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise StateFileError(
                f"Another local runner is using {self.path}; stop it first (or give --state-file)."
            ) from None
        self._lock = handle

    def set_aside(self) -> Path:
        """Keep the file under another name (the next save starts a new one)."""
        aside = self.path.with_name(f"{self.path.stem}.{int(time.time())}.aside{self.path.suffix}")
        self.path.rename(aside)
        return aside

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing releases the lock
            self._lock = None

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none; refused unless it has the file's shape."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(
                f"{shown_path(self.path)} cannot be read ({exc.strerror}). {STATE_FILE_FIX}"
            ) from None
        state = self._parse(data)
        if problem := version_problem(state):
            raise self._refuse_whole(problem)
        if problem := shape_problem(state):
            raise self.refuse(problem)
        loaded: dict[str, Any] = state
        return loaded

    def _parse(self, data: bytes) -> Any:
        """The file's JSON, or one sentence on why it cannot be read as JSON."""
        if not data.strip():
            raise self._refuse_whole("is empty")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._refuse_whole(f"is not UTF-8 text (at byte {exc.start})") from None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise self._refuse_whole(f"is not valid JSON ({exc})") from None
        except RecursionError:
            raise self._refuse_whole("is nested too deeply to read") from None

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
