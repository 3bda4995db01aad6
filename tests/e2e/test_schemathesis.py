"""schemathesis against the local API from docs/openapi.json: no 5xx, answers match the document.

Bounded (a few examples per operation) and derandomized (the same examples every run) so CI stays
fast and a failure repeats. Authorization is API Gateway's (checked on
the synthesized template), not the handlers'. Generated settings may name any host (or fall back to
Dicker Data's real ones); tests/conftest.py refuses every lookup but loopback, so nothing leaves
this machine and such checks simply report the host unreachable.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from local.openapi import DOC
from local.serve.app import LocalApp
from local.serve.upstreams import UpstreamTargets

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_path(str(DOC))


@pytest.fixture(scope="module")
def app():
    with LocalApp(port=0, upstreams=UpstreamTargets()) as local:
        yield local


@schema.exclude(method="PUT", path="/settings").exclude(path_regex="^/runs").parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_answers_every_input_without_5xx_and_as_documented(case, app):
    response = case.call(base_url=app.url, timeout=30)
    case.validate_response(response)
    assert "Traceback" not in response.text


@schema.include(path_regex="^/runs").parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_run_history_answers_as_documented(case, app):
    """A forged ``next_token`` is schema-valid (an opaque string) but names no page: it is a 400
    by design, so "every valid input is accepted" cannot hold here; everything else is checked."""
    response = case.call(base_url=app.url, timeout=30)
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    assert "Traceback" not in response.text


@schema.include(method="PUT", path="/settings").parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_settings_accept_or_refuse_cleanly(case, app):
    response = case.call(base_url=app.url, timeout=30)
    case.validate_response(response)
    assert response.status_code < 500 and "Traceback" not in response.text
