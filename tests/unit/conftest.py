"""Core unit tests run against moto's in-process mock, with the table defined by template.yaml."""

import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ddhalo.secrets import SecretStore
from ddhalo.store import Store
from local.invoke import LambdaContext
from local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TABLE_KEYS = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def store(aws):
    (table,) = load_template(TEMPLATE).tables
    props = {k: table.properties[k] for k in TABLE_KEYS}
    boto3.client("dynamodb").create_table(TableName="unit", BillingMode="PAY_PER_REQUEST", **props)
    return Store("unit")


@pytest.fixture
def secrets(aws):
    arn = boto3.client("secretsmanager").create_secret(Name="creds", SecretString="{}")["ARN"]
    return SecretStore(arn)


@pytest.fixture
def lambda_context() -> LambdaContext:
    """Lambda's context object as Powertools reads it (the local runner's, 29 s left)."""
    return LambdaContext(
        function_name="unit-function",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:ap-southeast-2:123456789012:function:unit-function",
        memory_limit_in_mb=512,
        aws_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678",
        log_group_name="/aws/lambda/unit-function",
        log_stream_name="2026/01/01/[$LATEST]0123456789abcdef",
        deadline=time.monotonic() + 29,
    )
