"""Worker: executes queued runs from SQS, reporting failed messages one by one."""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ddhalo import jobs
from ddhalo.api.app import logger, metrics, services, tracer

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def handle(record: SQSRecord) -> None:
    message = json.loads(record.body)
    logger.append_keys(run_id=message.get("run_id"))
    run = jobs.execute(services().runner, message)
    if run is None:
        logger.warning("job for an unknown run dropped")
        return
    logger.info("run executed", extra={"status": run.status, "counts": run.counts.model_dump()})
    for name, value in run.counts.model_dump().items():
        metrics.add_metric(
            name=f"customers_{name}" if run.kind == "customers" else name, unit=MetricUnit.Count, value=value
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
