"""The environment model: every variable the functions are given, read and typed; a missing or
unreadable one is named (never its value). That these are the variables template.yaml gives is
tests/handlers/test_environment_in_template.py."""

import pytest

from ddhalo.settings.model import DEFAULT_HALO_REQUESTS_PER_MINUTE
from ddhalo_lambda.environment import Environment, EnvironmentVariableError, environment
from ddhalo_lambda.services import Services, services

DEPLOYED = {
    "TABLE_NAME": "stack-Table-1ABC",
    "SECRET_ID": "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:creds-AbCdEf",
    "WORK_QUEUE_URL": "https://sqs.ap-southeast-2.amazonaws.com/123456789012/stack-WorkQueue",
    "RUN_RETENTION_DAYS": "30",
    "HALO_RATE_SHARE": "4",
    "SYNC_RULE_NAME": "stack-sync",
    "HALO_REQUESTS_PER_MINUTE": "120",
    "ALARM_TOPIC_ARN": "arn:aws:sns:ap-southeast-2:123456789012:stack-AlarmTopic-1ABC",
    "CONSOLE_AUTH_DOMAIN": "auth.example.com",
    "CONSOLE_CLIENT_ID": "abc123",
    "ALLOW_LOOPBACK_UPSTREAMS": "false",
    "POWERTOOLS_SERVICE_NAME": "dicker-data-halo",  # Powertools' own: ignored here
    "PATH": "/usr/bin",
}


def test_every_variable_is_read():
    env = Environment.from_env(DEPLOYED)
    assert env.model_dump() == {
        "table_name": "stack-Table-1ABC",
        "secret_id": "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:creds-AbCdEf",
        "work_queue_url": "https://sqs.ap-southeast-2.amazonaws.com/123456789012/stack-WorkQueue",
        "run_retention_days": 30,
        "halo_rate_share": 4,
        "sync_rule_name": "stack-sync",
        "halo_requests_per_minute": 120,
        "alarm_topic_arn": "arn:aws:sns:ap-southeast-2:123456789012:stack-AlarmTopic-1ABC",
        "console_auth_domain": "auth.example.com",
        "console_client_id": "abc123",
        "allow_loopback_upstreams": False,
    }


def test_what_only_some_functions_get_has_defaults():
    env = Environment.from_env({"TABLE_NAME": "t", "SECRET_ID": "s", "SYNC_RULE_NAME": ""})
    assert env.work_queue_url == ""
    assert env.run_retention_days == 90
    assert env.halo_rate_share == 1
    assert env.sync_rule_name is None
    assert env.halo_requests_per_minute is None
    assert env.allow_loopback_upstreams is False  # strict unless told otherwise


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (["TABLE_NAME"], "TABLE_NAME is not set"),
        (["SECRET_ID"], "SECRET_ID is not set"),
        (["TABLE_NAME", "SECRET_ID"], "TABLE_NAME is not set; SECRET_ID is not set"),
    ],
)
def test_a_missing_variable_is_named(missing, message):
    env = {k: v for k, v in DEPLOYED.items() if k not in missing}
    with pytest.raises(EnvironmentVariableError) as raised:
        Environment.from_env(env)
    assert str(raised.value) == f"The function's environment is incomplete: {message} (see template.yaml)."


def test_an_unreadable_variable_is_named_without_its_value():
    with pytest.raises(EnvironmentVariableError) as raised:
        Environment.from_env({**DEPLOYED, "RUN_RETENTION_DAYS": "ninety", "HALO_RATE_SHARE": "0"})
    assert str(raised.value) == (
        "The function's environment is incomplete: RUN_RETENTION_DAYS: Input should be a valid integer, "
        "unable to parse string as an integer; HALO_RATE_SHARE: Input should be greater than or equal "
        "to 1 (see template.yaml)."
    )


def test_an_empty_table_name_is_refused():
    with pytest.raises(EnvironmentVariableError) as raised:
        Environment.from_env({**DEPLOYED, "TABLE_NAME": ""})
    assert "TABLE_NAME: String should have at least 1 character" in str(raised.value)


def test_services_are_built_from_the_environment():
    svc = Services.build(Environment.from_env(DEPLOYED))
    assert svc.store.table_name == "stack-Table-1ABC"
    assert svc.store.run_retention_days == 30
    assert svc.secrets.secret_id == DEPLOYED["SECRET_ID"]
    assert svc.runner.rate_share == 4
    assert svc.runner.store is svc.store and svc.runner.secrets is svc.secrets
    assert svc.dispatcher.queue_url == DEPLOYED["WORK_QUEUE_URL"]
    assert svc.schedule is not None and svc.schedule.rule_name == "stack-sync"
    # Without a rule name (every function but settings, and the local runner): nothing to switch.
    assert Services.build(Environment.from_env({"TABLE_NAME": "t", "SECRET_ID": "s"})).schedule is None


def test_services_are_read_once_per_container_until_cleared(monkeypatch):
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    environment.cache_clear()
    services.cache_clear()
    try:
        first = services()
        monkeypatch.setenv("TABLE_NAME", "another-table")
        assert services() is first and first.store.table_name == "stack-Table-1ABC"
        environment.cache_clear()
        services.cache_clear()  # a cold start, as local/invoke.py's forget_cached_clients makes
        assert services().store.table_name == "another-table"
    finally:
        environment.cache_clear()
        services.cache_clear()


def test_without_the_parameter_a_new_deployment_has_the_settings_default():
    env = Environment.from_env({"TABLE_NAME": "t", "SECRET_ID": "s"})
    assert env.initial_settings().halo_requests_per_minute == DEFAULT_HALO_REQUESTS_PER_MINUTE
    assert Environment.from_env(DEPLOYED).initial_settings().halo_requests_per_minute == 120
