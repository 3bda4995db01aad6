"""The one entry-point factory of every function: the same Powertools decorators around an HTTP
resolver, the SQS worker's batch, the sync function's routes and schedule, or an AWS event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ddhalo.deadline import Deadline
from ddhalo_lambda.observability import logger, metrics, tracer

Event = dict[str, Any]
Handler = Callable[[Event, LambdaContext], Any]
RecordHandler = Callable[[SQSRecord, LambdaContext], None]


def _entry(handle: Handler, correlation_id_path: str | None = None) -> Handler:
    """``handle`` with the request id (or the path's) as correlation id, tracing and metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: Event, context: LambdaContext) -> Any:
        return handle(event, context)

    return lambda_handler


def http_handler(app: APIGatewayHttpResolver) -> Handler:
    """The Lambda entry point of an HTTP function."""
    return _entry(app.resolve, correlation_paths.API_GATEWAY_HTTP)


def static_http_handler(handle: Callable[[Event], Any]) -> Handler:
    """An HTTP function that answers without a JSON resolver (the console's files)."""

    def route(event: Event, context: LambdaContext) -> Any:
        return handle(event)

    return _entry(route, correlation_paths.API_GATEWAY_HTTP)


def http_and_schedule_handler(app: APIGatewayHttpResolver, scheduled: Callable[[], Event]) -> Handler:
    """HTTP routes, and ``scheduled`` for anything else (EventBridge's scheduled event)."""

    def route(event: Event, context: LambdaContext) -> Any:
        if "routeKey" in event or "requestContext" in event:
            return app.resolve(event, context)
        return scheduled()

    return _entry(route, correlation_paths.API_GATEWAY_HTTP)


def sqs_handler(record_handler: RecordHandler) -> Handler:
    """An SQS function: each record through ``record_handler``; the ones that raise are reported
    as the batch's failures (ReportBatchItemFailures), so only they are delivered again."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def batch(event: Event, context: LambdaContext) -> Any:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    # The correlation id is each record's own (the record handler sets it), not the invocation's.
    return _entry(batch)


def event_handler(handle: Handler) -> Handler:
    """A function AWS itself invokes with an event of its own (a Cognito trigger, a
    CloudFormation custom resource): the same decorators, no routing."""
    return _entry(handle)


def time_left(context: LambdaContext) -> Deadline:
    """The invocation's own end (Lambda's remaining time), as the core's deadline."""
    return Deadline.within(context.get_remaining_time_in_millis() / 1000)
