"""The integrator: POST /sync and the EventBridge schedule start the same sync."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from ddhalo.sync import start_sync, stuck_sync
from ddhalo_lambda.entry import http_and_schedule_handler
from ddhalo_lambda.errors import error_body
from ddhalo_lambda.idempotency import idempotent
from ddhalo_lambda.models import SYNC_ANSWERS, SyncRequest
from ddhalo_lambda.observability import logger, metrics
from ddhalo_lambda.resolver import make_resolver, run_response
from ddhalo_lambda.services import services

app = make_resolver()


@app.post("/sync", responses=SYNC_ANSWERS)
def sync_now(body: Annotated[SyncRequest | None, Body()] = None) -> Response[Any]:
    """Exactly what the schedule does, whether or not the schedule is enabled."""
    return idempotent(app, "sync", body or SyncRequest(), start)


def start(request: SyncRequest) -> Response[Any]:
    svc = services()
    started = start_sync(
        svc.runner,
        svc.dispatcher,
        svc.store.get_settings(),
        "api",
        customers=request.customers,
        subscriptions=request.subscriptions,
        verify=request.verify,
    )
    if not started.started:
        logger.info("sync skipped", extra={"run_id": started.run.run_id, "running": started.running_run_id})
        hint = f"Follow GET /runs/{started.running_run_id}; try again when it has finished."
        return Response(
            409,
            content_types.APPLICATION_JSON,
            {
                **error_body("sync_running", started.run.skipped_reason, hint),
                "run_id": started.run.run_id,
                "running_run_id": started.running_run_id,
            },
        )
    logger.info("sync started", extra={"run_id": started.run.run_id})
    return run_response(started.run, svc.runner)


def scheduled() -> dict[str, Any]:
    svc = services()
    settings = svc.store.get_settings()
    stuck = stuck_sync(svc.runner)
    metrics.add_metric(name="sync_stuck", unit=MetricUnit.Count, value=int(stuck is not None))
    if stuck:
        logger.error("a sync is stuck: it has held the lock too long", extra={"run_id": stuck})
    if not settings.integrator.enabled:
        logger.info("integrator disabled: scheduled sync not started")
        return {"started": False, "reason": "integrator disabled"}
    started = start_sync(svc.runner, svc.dispatcher, settings, "schedule")
    logger.info(
        "scheduled sync",
        extra={"run_id": started.run.run_id, "started": started.started, "running": started.running_run_id},
    )
    return {"started": started.started, "run_id": started.run.run_id}


lambda_handler = http_and_schedule_handler(app, scheduled)
