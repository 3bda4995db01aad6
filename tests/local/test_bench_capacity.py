"""The bench's DynamoDB capacity units, SQS requests and secret reads per AWS request."""

from __future__ import annotations

from decimal import Decimal

from local.bench.capacity import capacity, item_size


def test_capacity_follows_dynamodb_on_demand_rules():
    small, big = {"pk": "A", "sk": "B"}, {"pk": "A", "sk": "B", "blob": "x" * 1500}
    assert capacity("dynamodb", "PutItem", {"Item": big}, {})["wru"] == 2
    transaction = {"TransactItems": [{"Put": {"Item": small}}, {"Update": {"Key": small}}]}
    assert capacity("dynamodb", "TransactWriteItems", transaction, {})["wru"] == 4
    page = {"Items": [{"pk": "x" * 1000} for _ in range(10)]}  # ~10 KB
    assert capacity("dynamodb", "Query", {"ConsistentRead": True}, page)["rru"] == 3
    assert capacity("dynamodb", "Query", {}, page)["rru"] == 2
    assert capacity("sqs", "SendMessage", {"MessageBody": "{}"}, {})["sqs"] == 1


def test_item_size_approximates_dynamodb_s_attribute_sizes():
    assert item_size(None) == 1
    assert item_size(True) == 1
    assert item_size("abc") == 3
    assert item_size("é") == 2  # UTF-8 bytes
    assert item_size(b"ab") == 2
    assert item_size(12345) == 4  # 1 + ceil(5 digits / 2)
    assert item_size(Decimal("1.5")) == 3
    assert item_size({"a": "bc"}) == 7  # 3 + name 1 + value 2 + 1
    assert item_size(["a", "b"]) == 7  # 3 + (1 + 1) x 2


def test_a_put_of_a_1_5_kb_item_is_two_write_units_and_1_kb_is_one():
    item = {"pk": "A", "sk": "B", "blob": "x" * 1500}
    assert item_size(item) == 1516
    assert capacity("dynamodb", "PutItem", {"Item": item}, {}) == {"dynamodb:PutItem": 1, "wru": 2}
    exactly_1_kb = {"pk": "x" * 1018}  # 3 + 2 + 1,018 + 1 = 1,024 bytes
    assert item_size(exactly_1_kb) == 1024
    assert capacity("dynamodb", "PutItem", {"Item": exactly_1_kb}, {})["wru"] == 1
    assert capacity("dynamodb", "PutItem", {"Item": {"pk": "x" * 1019}}, {})["wru"] == 2


def test_the_run_record_costs_one_more_write_unit_for_its_index_copy():
    run_key = {"pk": "RUN#r1", "sk": "RUN"}
    assert capacity("dynamodb", "PutItem", {"Item": run_key}, {})["wru"] == 2
    assert capacity("dynamodb", "UpdateItem", {"Key": run_key}, {})["wru"] == 2
    assert capacity("dynamodb", "UpdateItem", {"Key": {"pk": "A", "sk": "B"}}, {})["wru"] == 1
    assert capacity("dynamodb", "PutItem", {"Item": {"pk": "A", "sk": "B", "gsi1pk": "X"}}, {})["wru"] == 2
    assert capacity("dynamodb", "DeleteItem", {"Key": {"pk": "A", "sk": "B"}}, {})["wru"] == 1


def test_a_batch_write_is_one_unit_per_kb_of_each_item_and_no_index_copy():
    requests_ = [
        {"PutRequest": {"Item": {"pk": "A", "sk": "B"}}},
        {"PutRequest": {"Item": {"pk": "A", "sk": "C", "blob": "x" * 1500}}},
        {"DeleteRequest": {"Key": {"pk": "RUN#r1", "sk": "RUN"}}},
    ]
    units = capacity("dynamodb", "BatchWriteItem", {"RequestItems": {"t": requests_}}, {})
    assert units == {"dynamodb:BatchWriteItem": 1, "wru": 4}


def test_reads_are_4_kb_units_halved_when_eventually_consistent():
    big = {"Item": {"pk": "x" * 9000}}  # 9,006 bytes: 3 units of 4 KB
    assert capacity("dynamodb", "GetItem", {"ConsistentRead": True}, big)["rru"] == 3
    assert capacity("dynamodb", "GetItem", {}, big)["rru"] == 2
    assert capacity("dynamodb", "GetItem", {"ConsistentRead": True}, {})["rru"] == 1  # a miss costs one
    assert capacity("dynamodb", "Scan", {}, {"Items": []})["rru"] == 1


def test_sqs_bills_64_kb_chunks_and_secrets_manager_each_call():
    assert capacity("sqs", "SendMessage", {"MessageBody": "x" * (64 * 1024 + 1)}, {})["sqs"] == 2
    assert capacity("sqs", "ReceiveMessage", {}, {}) == {"sqs:ReceiveMessage": 1}
    assert capacity("secretsmanager", "GetSecretValue", {}, {}) == {
        "secretsmanager:GetSecretValue": 1,
        "secrets": 1,
    }
