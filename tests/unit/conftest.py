"""Core unit tests run against moto's in-process mock, with the table defined by template.yaml."""

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ddhalo.secrets import SecretStore
from ddhalo.store import Store
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
