"""The one client of the local API: used by ``make demo``, the bench and the integration tests."""

from __future__ import annotations

import time
from typing import Any

import requests

from ddhalo.models import FINISHED


class ApiError(RuntimeError):
    """The local API answered an error (the message carries its status and body)."""


class LocalApi:
    def __init__(self, url: str, timeout: float = 60) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        """The raw answer, whatever its status (tests look at error answers)."""
        return self.session.request(
            method, self.url + path, json=body, params=params or None, timeout=self.timeout
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.call("POST", path, body)

    def json(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """The decoded answer; an error answer raises :class:`ApiError` saying what it was."""
        response = self.call(method, path, body, **params)
        if response.status_code >= 400:
            raise ApiError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def wait_run(self, run_id: str, timeout: float = 60, poll: float = 0.05) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.json("GET", f"/runs/{run_id}")
            if run["status"] in FINISHED:
                return run
            time.sleep(poll)
        raise ApiError(f"run {run_id} did not finish within {timeout:.0f} s: {run.get('status')}")

    def run(self, path: str, body: Any = None, timeout: float = 60) -> dict[str, Any]:
        """Start an import or sync and answer the finished run, whichever way the API answered
        (a dry run answers 200 with the run; a real one 202 with its id)."""
        response = self.post(path, body)
        if response.status_code not in (200, 202):
            raise ApiError(f"POST {path} answered {response.status_code}: {response.text[:500]}")
        answer: dict[str, Any] = response.json()
        return answer if response.status_code == 200 else self.wait_run(answer["run_id"], timeout)
