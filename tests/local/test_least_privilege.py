"""Least privilege, enforced locally: each function's AWS calls are checked against its role from
the synthesized template, so a permission missing from template.yaml fails here as in AWS."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import requests
import yaml
from botocore.exceptions import ClientError

from local.client import LocalApi
from local.credentials import acting_as
from local.serve.app import LocalApp
from local.serve.upstreams import UpstreamTargets
from local.template import load_yaml
from tests.local.waits import eventually

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="class")
def real_app():
    with LocalApp(port=0, upstreams=UpstreamTargets()) as app:
        yield app


def _table(app: LocalApp) -> str:
    return app.aws.resolver.refs["Table"]


def _role_arn(function_id: str) -> str:
    return f"arn:aws:sts::123456789012:assumed-role/ddhalo-local-{function_id}Role/ddhalo-local-{function_id}"


class TestRealTemplate:
    """One stack of the real template for these (a process runs one stack at a time)."""

    def test_a_client_signs_as_the_function_running_when_it_is_used(self, real_app):
        dynamodb = real_app.aws.client("dynamodb")  # made outside any function, used inside several
        key = {"pk": {"S": "probe"}, "sk": {"S": "probe"}}
        dynamodb.put_item(TableName=_table(real_app), Item=key)  # the runner itself: admin
        with acting_as(real_app.aws.function_credentials("RunsFunction")):
            assert dynamodb.get_item(TableName=_table(real_app), Key=key)["Item"] == key
            with pytest.raises(ClientError) as refused:
                dynamodb.delete_item(TableName=_table(real_app), Key=key)
        table_arn = f"arn:aws:dynamodb:ap-southeast-2:123456789012:table/{_table(real_app)}"
        assert refused.value.response["Error"] == {
            "Code": "AccessDeniedException",
            "Message": f"User: {_role_arn('RunsFunction')} is not authorized to perform: "
            f"dynamodb:DeleteItem on resource: {table_arn} "
            "because no identity-based policy allows the dynamodb:DeleteItem action",
        }
        with acting_as(real_app.aws.function_credentials("SettingsFunction")):
            dynamodb.delete_item(TableName=_table(real_app), Key=key)

    def test_each_role_reaches_only_what_its_policies_name(self, real_app):
        secrets = real_app.aws.client("secretsmanager")
        secret = real_app.aws.resolver.refs["CredentialsSecret"]
        name = secret.split(":")[-1].rsplit("-", 1)[0]
        with acting_as(real_app.aws.function_credentials("TestConfigFunction")):
            secrets.get_secret_value(SecretId=name)  # by name: checked against the full ARN
            with pytest.raises(ClientError, match="secretsmanager:PutSecretValue") as refused:
                secrets.put_secret_value(SecretId=secret, SecretString="{}")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        with acting_as(real_app.aws.function_credentials("SyncFunction")):
            with pytest.raises(ClientError, match="secretsmanager:GetSecretValue"):
                secrets.get_secret_value(SecretId=secret)
            with pytest.raises(ClientError) as sqs_refused:
                real_app.aws.client("sqs").receive_message(QueueUrl=real_app.aws.queue_url("WorkQueue"))
        assert sqs_refused.value.response["Error"]["Code"] == "AccessDenied"  # what SQS answers
        assert "sqs:receivemessage" in sqs_refused.value.response["Error"]["Message"]

    def test_unsigned_and_unknown_callers_are_refused(self, real_app):
        unsigned = requests.post(
            real_app.aws.endpoint_url,
            headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
            },
            data="{}",
            timeout=10,
        )
        assert unsigned.status_code == 400
        assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
        stranger = boto3.client(
            "dynamodb",
            endpoint_url=real_app.aws.endpoint_url,
            region_name="ap-southeast-2",
            aws_access_key_id="AKIASTRANGER00000000",
            aws_secret_access_key="x",
        )
        with pytest.raises(ClientError) as refused:
            stranger.list_tables()
        assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
        assert requests.get(f"{real_app.aws.endpoint_url}/moto-api/data.json", timeout=10).ok  # moto's own


# -- a template missing one permission --------------------------------------------------------


def _template_copy(tmp_path: Path, edit) -> Path:
    """template.yaml changed by `edit`, written where its code paths still resolve (absolute)."""
    doc = load_yaml(ROOT / "template.yaml")
    for resource in doc["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = str(ROOT / props[key])
    edit(doc["Resources"])
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _without_put_secret_value(resources: dict) -> None:
    for policy in resources["SettingsFunction"]["Properties"]["Policies"]:
        if isinstance(policy, dict) and "Statement" in policy:
            before = len(policy["Statement"])
            policy["Statement"] = [
                s for s in policy["Statement"] if s["Action"] != "secretsmanager:PutSecretValue"
            ]
            assert len(policy["Statement"]) == before - 1


def _without_runs_read_policy(resources: dict) -> None:
    del resources["RunsFunction"]["Properties"]["Policies"]


NEW_SECRET = {"halo_client_secret": "local-halo-secret"}  # the fake's own secret: it still connects


def test_without_put_secret_value_put_settings_fails_with_access_denied(tmp_path, log_lines):
    with LocalApp(port=0, upstreams=UpstreamTargets()) as real:
        assert requests.put(f"{real.url}/settings", json=NEW_SECRET, timeout=20).status_code == 200
        assert not real.aws.gate.denials
    with LocalApp(
        port=0, template=_template_copy(tmp_path, _without_put_secret_value), upstreams=UpstreamTargets()
    ) as app:
        response = requests.put(f"{app.url}/settings", json=NEW_SECRET, timeout=20)
        assert response.status_code == 500, response.text
        assert response.json()["error"]["code"] == "internal_error"
        secret = app.aws.resolver.refs["CredentialsSecret"]
        assert [(d.function_id, d.access.action, d.access.resource) for d in app.aws.gate.denials] == [
            ("SettingsFunction", "secretsmanager:PutSecretValue", secret)
        ]
        # the rest of the route still works: only the write of the secret lost its permission
        assert requests.put(f"{app.url}/settings", json={"halo_requests_per_minute": 60}, timeout=20).ok
    logged = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.startswith("{")]
    errors = [line for line in logged if line.get("message") == "unexpected error"]
    assert len(errors) == 1, logged
    assert "AccessDeniedException" in errors[0]["exception"]
    assert (
        f"{_role_arn('SettingsFunction')} is not authorized to perform: secretsmanager:PutSecretValue"
        in (errors[0]["exception"])
    )


def test_without_its_read_policy_the_runs_route_fails(tmp_path):
    with LocalApp(port=0, upstreams=UpstreamTargets()) as real:
        assert requests.get(f"{real.url}/runs", timeout=20).status_code == 200
    with LocalApp(
        port=0, template=_template_copy(tmp_path, _without_runs_read_policy), upstreams=UpstreamTargets()
    ) as app:
        response = requests.get(f"{app.url}/runs", timeout=20)
        assert response.status_code == 500, response.text
        index = f"arn:aws:dynamodb:ap-southeast-2:123456789012:table/{_table(app)}/index/gsi1"
        assert [(d.function_id, d.access.action, d.access.resource) for d in app.aws.gate.denials] == [
            ("RunsFunction", "dynamodb:Query", index)
        ]


def _without_sns_publish(resources: dict) -> None:
    policies = resources["WorkerFunction"]["Properties"]["Policies"]
    kept = [p for p in policies if not (isinstance(p, dict) and "SNSPublishMessagePolicy" in p)]
    assert len(kept) == len(policies) - 1
    resources["WorkerFunction"]["Properties"]["Policies"] = kept


def test_without_sns_publish_the_digest_email_is_refused_and_the_run_is_not(tmp_path):
    """The worker publishes each digest under its own role: the template must grant sns:Publish."""
    with LocalApp(
        port=0, template=_template_copy(tmp_path, _without_sns_publish), upstreams=UpstreamTargets()
    ) as app:
        api = LocalApi(app.url)
        api.post("/mappings/generate")
        run = api.run("/customers/import", {})
        run = eventually(lambda: (r := api.json("GET", f"/runs/{run['run_id']}")).get("digest") and r)
        assert run["status"] == "succeeded" and run["counts"]["skipped"] > 0
        assert run["digest"]["channels"] == [] and run["digest"]["errors"] == [
            "email: The alarm topic refused the digest (AuthorizationError)."
        ]
        topic = app.aws.resolver.refs["AlarmTopic"]
        assert [(d.function_id, d.access.action, d.access.resource) for d in app.aws.gate.denials] == [
            ("WorkerFunction", "sns:Publish", topic)
        ]
        assert app.aws.published("AlarmTopic") == []
