"""GET /runs (newest first, paged) and GET /runs/{run_id} (with its items, paged)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ddhalo.errors import NotFoundError
from ddhalo.runs.view import run_view
from ddhalo_lambda.entry import http_handler
from ddhalo_lambda.models import RunList, RunView, responses
from ddhalo_lambda.resolver import make_resolver
from ddhalo_lambda.services import services

app = make_resolver()

RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Token = Annotated[str | None, Query(max_length=2048)]


@app.get("/runs", responses=responses({200: (RunList, "Runs, newest first")}))
def list_runs(limit: Annotated[int, Query(ge=1, le=100)] = 20, next_token: Token = None) -> dict[str, Any]:
    runs, token = services().store.list_runs(limit=limit, next_token=next_token)
    return {"runs": [run.model_dump(mode="json") for run in runs], "next_token": token}


@app.get("/runs/<run_id>", responses=responses({200: (RunView, "The run and a page of its items")}))
def get_run(
    run_id: RunId, limit: Annotated[int, Query(ge=1, le=1000)] = 1000, next_token: Token = None
) -> dict[str, Any]:
    svc = services()
    run = svc.store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"No run with id {run_id}.", "Run ids are listed by GET /runs.")
    return run_view(svc.runner.store, run, limit=limit, next_token=next_token)


lambda_handler = http_handler(app)
