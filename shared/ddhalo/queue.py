"""Queued work: one SQS message per job (a run, or a chunk of one)."""

from __future__ import annotations

import json
from typing import Any, Protocol

import boto3

# SQS holds a message back at most 15 minutes.
MAX_DELAY_SECONDS = 900


class Dispatcher(Protocol):
    """Where queued work goes: SQS in AWS and under the local runner; a list in unit tests.
    ``delay_seconds`` holds a job back (a run waiting for another to finish)."""

    def send(self, job: dict[str, Any], delay_seconds: int = 0) -> None: ...


class SqsDispatcher:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

    def send(self, job: dict[str, Any], delay_seconds: int = 0) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(job, sort_keys=True),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
        )


class ListDispatcher:
    """Keeps jobs in memory: for unit tests that run the worker by hand."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []
        self.delays: list[int] = []

    def send(self, job: dict[str, Any], delay_seconds: int = 0) -> None:
        self.jobs.append(job)
        self.delays.append(delay_seconds)
