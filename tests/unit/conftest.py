"""Core unit tests run against moto's in-process mock, with the table template.yaml defines."""

import time
from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws

from ddhalo.secrets import SecretStore
from ddhalo.store import Store

# The table's keys and index as template.yaml defines them (tests/handlers/test_unit_table.py
# holds this copy to the template, so the unit tests need nothing of the local runner).
TABLE = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "gsi1",
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
}


@dataclass
class LambdaContext:
    """What handlers and Powertools read from Lambda's context object (29 s left)."""

    function_name: str = "unit-function"
    invoked_function_arn: str = "arn:aws:lambda:ap-southeast-2:123456789012:function:unit-function"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    deadline: float = field(default_factory=lambda: time.monotonic() + 29)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def store(aws):
    boto3.client("dynamodb").create_table(TableName="unit", BillingMode="PAY_PER_REQUEST", **TABLE)
    return Store("unit")


@pytest.fixture
def secrets(aws):
    arn = boto3.client("secretsmanager").create_secret(Name="creds", SecretString="{}")["ARN"]
    return SecretStore(arn)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
