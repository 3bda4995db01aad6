"""Keep the EventBridge rule of the recurring sync in step with the integrator settings.

The rule itself is declared in template.yaml (disabled by default); ``PUT /settings`` switches it
on or off and sets its expression, so the schedule runs only while the integrator is enabled.
"""

from __future__ import annotations

from typing import Any

import boto3

from ddhalo.errors import InputError, IntegrationError
from ddhalo.settings import IntegratorSettings


class ScheduleControl:
    def __init__(self, rule_name: str, client: Any = None) -> None:
        self.rule_name = rule_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("events")
        return self._client

    def apply(self, integrator: IntegratorSettings) -> str:
        """Set the rule's expression and state; answers the state now in force."""
        state = "ENABLED" if integrator.enabled else "DISABLED"
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
                    f"EventBridge refused the schedule {integrator.schedule!r}.",
                    "Use rate(1 hour), rate(30 minutes) or a six-field cron(...) expression.",
                ) from exc
            raise IntegrationError(
                f"Could not update the sync schedule rule {self.rule_name}: {exc.response['Error']['Code']}.",
                "Check that the schedule expression is valid (e.g. rate(1 hour) or cron(0 2 * * ? *)).",
            ) from exc
        return state
