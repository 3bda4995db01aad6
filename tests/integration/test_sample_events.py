"""The sample events in events/ (for `sam local invoke`) reach a real handler and are answered."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))


def test_there_is_a_sample_event_for_every_route(local_app):
    route_keys = {json.loads(p.read_text()).get("routeKey") for p in EVENTS}
    assert {r.route_key for r in local_app.template.routes} <= route_keys


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_sample_event_is_handled(local_app, path):
    event = json.loads(path.read_text())
    if "routeKey" in event:
        (route,) = [r for r in local_app.template.routes if r.route_key == event["routeKey"]]
        answer = local_app.invoke(route.function_id, event)
        assert 200 <= answer["statusCode"] < 500 and answer["statusCode"] != 403, answer
        if answer["headers"]["Content-Type"].startswith("application/json"):
            assert json.loads(answer["body"]) is not None
        else:  # the console's page and assets
            assert answer["statusCode"] == 200 and answer["body"]
    elif "Records" in event:
        (source,) = list(local_app.template.sqs_sources)
        answer = local_app.invoke(source.function_id, event)
        assert answer == {"batchItemFailures": []}
    else:
        (schedule,) = list(local_app.template.schedules)
        answer = local_app.invoke(schedule.function_id, event)
        assert answer == {"started": False, "reason": "integrator disabled"}
