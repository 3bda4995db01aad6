"""Worker: executes queued jobs (a run, or one chunk of one) from SQS, one message at a time."""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ddhalo.jobs.start import execute
from ddhalo.models import FINISHED
from ddhalo.runs.metrics import run_metrics
from ddhalo_lambda.entry import sqs_handler, time_left
from ddhalo_lambda.observability import logger, metrics
from ddhalo_lambda.services import services


def handle(record: SQSRecord, lambda_context: LambdaContext) -> None:
    message = json.loads(record.body)
    # The run id is the correlation id of everything a run logs, across functions and chunks.
    logger.set_correlation_id(message.get("run_id"))
    logger.append_keys(run_id=message.get("run_id"), phase=message.get("phase"), chunk=message.get("chunk"))
    svc = services()
    run = execute(svc.runner, svc.dispatcher, message, deadline=time_left(lambda_context))
    if run is None:
        logger.warning("job for an unknown run dropped")
        return
    logger.info("job done", extra={"status": run.status, "counts": run.counts.model_dump()})
    if run.status in FINISHED:
        logger.info("run finished", extra={"status": run.status, "kind": run.kind})
        for name, value in run_metrics(run).items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


lambda_handler = sqs_handler(handle)
