"""The core's services, built once per container from the environment the template sets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ddhalo.notify import DigestSender
from ddhalo.queue import Dispatcher, SqsDispatcher
from ddhalo.runs.runner import Runner
from ddhalo.schedule import ScheduleControl
from ddhalo.secrets import SecretStore
from ddhalo.store import Store
from ddhalo_lambda.environment import Environment, environment


@dataclass(frozen=True)
class Services:
    store: Store
    secrets: SecretStore
    runner: Runner
    dispatcher: Dispatcher
    schedule: ScheduleControl | None

    @classmethod
    def build(cls, env: Environment) -> Services:
        store = Store(
            env.table_name,
            run_retention_days=env.run_retention_days,
            initial_settings=env.initial_settings(),
        )
        secrets = SecretStore(env.secret_id)
        return cls(
            store=store,
            secrets=secrets,
            runner=Runner(
                store,
                secrets,
                rate_share=env.halo_rate_share,
                after_finish=DigestSender(store, secrets, topic_arn=env.alarm_topic_arn),
            ),
            dispatcher=SqsDispatcher(env.work_queue_url),
            # No rule name (the local runner): settings only, nothing to switch.
            schedule=ScheduleControl(env.sync_rule_name) if env.sync_rule_name else None,
        )


@cache
def services() -> Services:
    """This container's services (``services.cache_clear()`` makes the next call a cold start)."""
    return Services.build(environment())
