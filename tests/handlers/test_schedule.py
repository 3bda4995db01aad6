"""The schedule rule as GET /settings reports it, and one default schedule everywhere."""

import re
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from ddhalo.schedule import NO_RULE_NOTE, ScheduleControl, schedule_view
from ddhalo.settings.model import DEFAULT_SCHEDULE, IntegratorSettings, Settings
from ddhalo.settings.service import load_connection, settings_view, update_settings
from ddhalo.settings.update import SettingsUpdate
from local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
RULE = "stack-sync"


@pytest.fixture
def rule(aws):
    """The rule as a fresh deployment has it: the template's defaults."""
    defaults = load_template(ROOT / "template.yaml").parameter_defaults()
    boto3.client("events").put_rule(
        Name=RULE,
        ScheduleExpression=defaults["SyncSchedule"],
        State=defaults["SyncScheduleState"],
        Description="Dicker Data to Halo recurring sync",
    )
    return ScheduleControl(RULE)


def test_the_default_schedule_is_the_same_in_template_settings_and_readme():
    template = load_template(ROOT / "template.yaml").parameter_defaults()
    readme = (ROOT / "README.md").read_text()
    (documented,) = re.findall(r"`SyncSchedule` \(default `([^`]+)`\)", readme)
    (settings_default,) = re.findall(r"The schedule defaults to `([^`]+)`", readme)
    assert template["SyncSchedule"] == Settings().integrator.schedule == DEFAULT_SCHEDULE
    assert documented == settings_default == DEFAULT_SCHEDULE
    # ... and the rule is deployed off, as a new deployment's integrator is.
    assert template["SyncScheduleState"] == "DISABLED" and Settings().integrator.enabled is False


def test_a_fresh_deployment_reads_as_in_step(rule):
    assert rule.view(Settings().integrator) == {
        "schedule_state": "DISABLED",
        "schedule_rule": RULE,
        "schedule_expression": DEFAULT_SCHEDULE,
        "schedule_note": None,
    }


def test_a_rule_that_differs_from_the_settings_says_so(rule):
    """After a redeploy the template's parameters are on the rule again, whatever was PUT."""
    view = rule.view(IntegratorSettings(enabled=True, schedule="rate(30 minutes)"))
    assert view["schedule_state"] == "DISABLED" and view["schedule_expression"] == "rate(1 hour)"
    assert view["schedule_note"] == (
        "The rule is DISABLED with rate(1 hour), but the settings say ENABLED with rate(30 minutes) "
        "(a redeploy applies the template's SyncSchedule and SyncScheduleState again); PUT /settings "
        'with "integrator" puts the settings on the rule.'
    )


def test_switching_the_rule_reads_back_as_switched(rule):
    integrator = IntegratorSettings(enabled=True, schedule="cron(0 2 * * ? *)")
    assert rule.applied(integrator)["schedule_state"] == "ENABLED"
    view = rule.view(integrator)
    assert (view["schedule_state"], view["schedule_expression"], view["schedule_note"]) == (
        "ENABLED",
        "cron(0 2 * * ? *)",
        None,
    )


def test_a_missing_rule_is_unknown_not_an_error(aws):
    view = ScheduleControl("no-such-rule").view(Settings().integrator)
    assert view["schedule_state"] == "unknown" and view["schedule_expression"] is None
    assert (
        view["schedule_note"]
        == "The schedule rule no-such-rule does not exist; redeploy the stack to create it."
    )


def test_an_unreachable_eventbridge_is_unknown_not_an_error():
    class Unreachable:
        def describe_rule(self, **_):
            raise EndpointConnectionError(endpoint_url="https://events.example")

    view = ScheduleControl(RULE, client=Unreachable()).view(Settings().integrator)
    assert view["schedule_state"] == "unknown"
    assert view["schedule_note"] == f"Could not reach EventBridge to read the schedule rule {RULE}."


def test_without_a_rule_the_view_says_there_is_none():
    assert schedule_view(None, Settings().integrator) == {
        "schedule_state": "unknown",
        "schedule_rule": None,
        "schedule_expression": None,
        "schedule_note": NO_RULE_NOTE,
    }


def test_settings_view_carries_the_schedule_and_an_update_answers_it_too(store, secrets, rule):
    assert settings_view(load_connection(store, secrets), rule)["schedule_state"] == "DISABLED"
    view = update_settings(store, secrets, SettingsUpdate.model_validate({"region": "nz"}), rule)
    assert view["region"] == "NZ" and view["schedule_state"] == "DISABLED"  # read, not switched
    view = update_settings(
        store, secrets, SettingsUpdate.model_validate({"integrator": {"enabled": True}}), rule
    )
    assert (view["schedule_state"], view["schedule_expression"], view["schedule_note"]) == (
        "ENABLED",
        DEFAULT_SCHEDULE,
        None,
    )
    assert settings_view(load_connection(store, secrets), rule)["schedule_state"] == "ENABLED"
