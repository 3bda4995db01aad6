"""The environment template.yaml gives the functions, typed and read in one place.

Globals give every function TABLE_NAME, SECRET_ID, WORK_QUEUE_URL, RUN_RETENTION_DAYS and
HALO_REQUESTS_PER_MINUTE; the settings function adds SYNC_RULE_NAME, the worker HALO_RATE_SHARE
and ALARM_TOPIC_ARN, the settings and test-config functions ALLOW_LOOPBACK_UPSTREAMS, the console
CONSOLE_AUTH_DOMAIN and CONSOLE_CLIENT_ID. Variables that others read themselves are not here:
POWERTOOLS_* (Powertools) and MALLOC_* (glibc, when the process starts).

Light to import: the console reads its sign-in here too, and loads neither the store (boto3) nor
the settings models; what needs them imports them when it is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

if TYPE_CHECKING:
    from ddhalo.settings.model import Settings


def _store_retention_days() -> int:
    """The store's own default, read only when the variable is absent (never, deployed)."""
    from ddhalo.store import RUN_RETENTION_DAYS

    return RUN_RETENTION_DAYS


class EnvironmentVariableError(RuntimeError):
    """A variable the template sets is missing or unreadable: names it, never echoes its value."""


class Environment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    secret_id: str = Field(alias="SECRET_ID", min_length=1)
    # Empty where nothing is queued (the local runner without a queue): sending then fails readably.
    work_queue_url: str = Field(default="", alias="WORK_QUEUE_URL")
    run_retention_days: int = Field(default_factory=_store_retention_days, alias="RUN_RETENTION_DAYS", ge=1)
    # The worker's share of the Halo pace: WorkerConcurrency workers split it between them.
    halo_rate_share: int = Field(default=1, alias="HALO_RATE_SHARE", ge=1)
    # Only the settings function switches the schedule; without it, settings only.
    sync_rule_name: str | None = Field(default=None, alias="SYNC_RULE_NAME")
    # Only the worker finishes real runs, so only it sends their digests to the alarm topic.
    alarm_topic_arn: str | None = Field(default=None, alias="ALARM_TOPIC_ARN")
    # The stack's HaloRequestsPerMinute: the pace a new deployment starts with, until the first
    # PUT /settings stores the settings (the stored value wins). None: the settings' own default.
    halo_requests_per_minute: int | None = Field(default=None, alias="HALO_REQUESTS_PER_MINUTE", ge=1)
    # Only the console function: its sign-in (a Cognito hosted UI); empty means no sign-in.
    console_auth_domain: str = Field(default="", alias="CONSOLE_AUTH_DOMAIN")
    console_client_id: str = Field(default="", alias="CONSOLE_CLIENT_ID")
    # The settings and test-config functions: whether an upstream or webhook URL may name a
    # loopback host (over http:// too). The template says false; only the local runner, whose
    # fakes listen on 127.0.0.1, says true. The core takes it as a parameter.
    allow_loopback_upstreams: bool = Field(default=False, alias="ALLOW_LOOPBACK_UPSTREAMS")

    @field_validator("sync_rule_name", "alarm_topic_arn")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("console_auth_domain", "console_client_id")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    def initial_settings(self) -> Settings:
        """What ``GET /settings`` answers before anything is stored: the settings' defaults, but
        for what the stack's parameters say."""
        from ddhalo.settings.model import Settings

        if self.halo_requests_per_minute is None:
            return Settings()
        return Settings(halo_requests_per_minute=self.halo_requests_per_minute)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Environment:
        try:
            return cls.model_validate(dict(env))
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                name = ".".join(str(p) for p in err["loc"])
                problems.append(f"{name} is not set" if err["type"] == "missing" else f"{name}: {err['msg']}")
            raise EnvironmentVariableError(
                "The function's environment is incomplete: " + "; ".join(problems) + " (see template.yaml)."
            ) from None


@cache
def environment() -> Environment:
    """This container's environment, read once: the only place the handler side reads os.environ."""
    return Environment.from_env(os.environ)
