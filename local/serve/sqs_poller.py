"""Lambda's SQS event source mapping, in-process: pollers that receive up to BatchSize
messages, invoke the function with them and delete what succeeded, so queued work finishes."""

from __future__ import annotations

import logging
import threading
import traceback
from typing import TYPE_CHECKING, Any

from local.credentials import acting_as
from local.events import sqs_event
from local.template import Function, SqsSource

if TYPE_CHECKING:
    from local.serve.app import LocalApp

# Between empty polls: short, so runs start promptly and stop() returns quickly.
IDLE_POLL_SECONDS = 0.05
# Lambda's SQS event source starts with five concurrent batches when no MaximumConcurrency is set.
DEFAULT_SQS_CONCURRENCY = 5

log = logging.getLogger(__name__)


def concurrency(source: SqsSource, function: Function) -> int:
    """Invocations the event source runs at once: its MaximumConcurrency (else Lambda's
    initial five), capped by the function's ReservedConcurrentExecutions."""
    wanted = source.maximum_concurrency or DEFAULT_SQS_CONCURRENCY
    reserved = function.reserved_concurrency
    return max(0, min(wanted, reserved)) if reserved is not None else wanted


def _failed_ids(source: SqsSource, result: Any, ids: list[str]) -> set[str]:
    """Which messages to keep, following Lambda's partial batch response rules."""
    if not source.report_batch_item_failures or not result:
        return set()
    if not isinstance(result, dict):
        return set(ids)
    failures = result.get("batchItemFailures") or []
    try:
        failed = {f["itemIdentifier"] for f in failures}
    except (TypeError, KeyError):
        return set(ids)  # a malformed answer fails the whole batch, as in Lambda
    return failed if failed <= set(ids) and all(failed) else set(ids)


class FailedDeliveries:
    """Messages whose invocation failed: SQS hands them out again after the visibility timeout,
    which a test need not wait for (a crashed job's retry comes back after 16 minutes in AWS)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[tuple[str, str]] = []  # (queue URL, receipt handle)

    def add(self, queue_url: str, receipts: list[str]) -> None:
        with self._lock:
            self._held += [(queue_url, receipt) for receipt in receipts]

    def redeliver(self, sqs: Any) -> int:
        """Make them visible again now (``sqs``: a boto3 SQS client); answers how many."""
        with self._lock:
            failed, self._held = self._held, []
        for queue_url, receipt in failed:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        return len(failed)


class SqsPoller(threading.Thread):
    """One of an event source mapping's concurrent pollers: receive up to BatchSize, invoke,
    delete what succeeded. It receives and deletes with the function's role, as Lambda does."""

    def __init__(self, app: LocalApp, source: SqsSource, index: int = 0) -> None:
        super().__init__(name=f"sqs-{source.function_id}-{source.event_id}-{index}", daemon=True)
        self.app, self.source = app, source
        self.client = app.aws.client("sqs")
        self.queue_url = app.aws.queue_url(source.queue_id)
        self.queue_arn = app.aws.queue_arn(source.queue_id)
        self.credentials = app.aws.function_credentials(source.function_id)
        # The first poller checks often when idle; the others less, as they only add throughput.
        self.idle_seconds = IDLE_POLL_SECONDS * (1 + index)

    def run(self) -> None:
        while not self.app.stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                if self.app.stopping.is_set():
                    return
                log.exception("polling %s failed", self.source.queue_id)
                self.app.stopping.wait(1)

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.source.batch_size:
            with acting_as(self.credentials):
                got = self._receive_some(len(messages))
            messages += got
            if not got or self.app.stopping.is_set():
                break
        return messages

    def _receive_some(self, have: int) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, self.source.batch_size - have),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return got

    def poll_once(self) -> int:
        """One batch; answers how many messages were handled successfully."""
        messages = self._receive()
        if not messages:
            self.app.stopping.wait(self.idle_seconds)
            return 0
        ids = [m["MessageId"] for m in messages]
        try:
            result = self.app.invoke(
                self.source.function_id, sqs_event(messages, self.queue_arn, self.app.aws.region)
            )
        except Exception:
            traceback.print_exc()
            failed = set(ids)
        else:
            failed = _failed_ids(self.source, result, ids)
        to_redeliver = [m["ReceiptHandle"] for m in messages if m["MessageId"] in failed]
        self.app.failed.add(self.queue_url, to_redeliver)
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete_done(done)
        return len(done)

    def _delete_done(self, done: list[dict[str, Any]]) -> None:
        for start in range(0, len(done), 10):
            with acting_as(self.credentials):
                self.client.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
