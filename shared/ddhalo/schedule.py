"""Keep the EventBridge rule of the recurring sync in step with the integrator settings.

The rule itself is declared in template.yaml (disabled by default); ``PUT /settings`` switches it
on or off and sets its expression, so the schedule runs only while the integrator is enabled.
``GET /settings`` reads the rule back (``schedule_view``): its state, its expression, and a note
when it is not what the settings say (a redeploy applies the template's parameters again) or
cannot be read.
"""

from __future__ import annotations

from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ddhalo.errors import InputError, IntegrationError
from ddhalo.settings.model import IntegratorSettings

ScheduleState = Literal["ENABLED", "DISABLED", "unknown"]
UNKNOWN: ScheduleState = "unknown"
NO_RULE_NOTE = (
    "No EventBridge rule is configured here (the settings function has no SYNC_RULE_NAME), so "
    "nothing runs the sync on a schedule; POST /sync runs it now."
)


def _view(state: ScheduleState, rule: str | None, expression: str | None, note: str | None) -> dict[str, Any]:
    return {
        "schedule_state": state,
        "schedule_rule": rule,
        "schedule_expression": expression,
        "schedule_note": note,
    }


def _wanted(integrator: IntegratorSettings) -> ScheduleState:
    return "ENABLED" if integrator.enabled else "DISABLED"


class ScheduleControl:
    def __init__(self, rule_name: str, client: Any = None) -> None:
        self.rule_name = rule_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("events")
        return self._client

    def apply(self, integrator: IntegratorSettings) -> ScheduleState:
        """Set the rule's expression and state; answers the state now in force."""
        state = _wanted(integrator)
        try:
            current = self.client.describe_rule(Name=self.rule_name)
            self.client.put_rule(
                Name=self.rule_name,
                ScheduleExpression=integrator.schedule,
                State=state,
                Description=current.get("Description", "Dicker Data to Halo recurring sync"),
            )
        except self.client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] == "ValidationException":
                raise InputError(
                    f'EventBridge refused the schedule "{integrator.schedule}".',
                    "Use rate(1 hour), rate(30 minutes) or a six-field cron(...) expression.",
                ) from exc
            raise IntegrationError(
                f"Could not update the sync schedule rule {self.rule_name}: {exc.response['Error']['Code']}.",
                "Check that the schedule expression is valid (e.g. rate(1 hour) or cron(0 2 * * ? *)).",
            ) from exc
        return state

    def applied(self, integrator: IntegratorSettings) -> dict[str, Any]:
        """Switch the rule (``apply``) and answer its view: now what the settings say."""
        return _view(self.apply(integrator), self.rule_name, integrator.schedule, None)

    def view(self, integrator: IntegratorSettings) -> dict[str, Any]:
        """The rule as EventBridge has it. Never raises: a rule that cannot be read is
        ``"unknown"``, and the note says why (settings stay readable whatever EventBridge does)."""
        try:
            rule = self.client.describe_rule(Name=self.rule_name)
        except (ClientError, BotoCoreError) as exc:
            return _view(UNKNOWN, self.rule_name, None, self._unreadable(exc))
        raw = str(rule.get("State") or "")
        # EventBridge also has ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS: enabled all the same.
        state: ScheduleState = (
            "ENABLED" if raw.startswith("ENABLED") else "DISABLED" if raw == "DISABLED" else UNKNOWN
        )
        expression = rule.get("ScheduleExpression")
        wanted = _wanted(integrator)
        note: str | None = None
        if (state, expression) != (wanted, integrator.schedule):
            note = (
                f"The rule is {state} with {expression}, but the settings say {wanted} with "
                f"{integrator.schedule} (a redeploy applies the template's SyncSchedule and "
                'SyncScheduleState again); PUT /settings with "integrator" puts the settings on the rule.'
            )
        return _view(state, self.rule_name, expression, note)

    def _unreadable(self, exc: ClientError | BotoCoreError) -> str:
        if not isinstance(exc, ClientError):
            return f"Could not reach EventBridge to read the schedule rule {self.rule_name}."
        code = exc.response.get("Error", {}).get("Code", "error")
        if code == "ResourceNotFoundException":
            return f"The schedule rule {self.rule_name} does not exist; redeploy the stack to create it."
        return f"Could not read the schedule rule {self.rule_name} ({code}), so its state is unknown."


def schedule_view(control: ScheduleControl | None, integrator: IntegratorSettings) -> dict[str, Any]:
    """What ``GET /settings`` says about the schedule; without a rule (no SYNC_RULE_NAME) says so."""
    if control is None:
        return _view(UNKNOWN, None, None, NO_RULE_NOTE)
    return control.view(integrator)
