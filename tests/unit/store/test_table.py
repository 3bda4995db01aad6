import base64
from decimal import Decimal

import pytest

from ddhalo.errors import InvalidTokenError
from ddhalo.store import RUN_RETENTION_DAYS, Store
from ddhalo.store.table import decode_token, encode_token, exactly, from_dynamo, prefixed, to_dynamo


def test_numbers_come_back_as_ints_and_floats():
    value = from_dynamo({"a": Decimal("3"), "b": [Decimal("2.5"), "x"], "c": {"d": Decimal("1.0")}})
    assert value == {"a": 3, "b": [2.5, "x"], "c": {"d": 1}}
    assert type(value["a"]) is int and type(value["b"][0]) is float and type(value["c"]["d"]) is int


def test_floats_go_in_as_decimals_and_nones_are_left_out():
    assert to_dynamo({"a": 2.5, "b": None, "c": [1.5, None], "d": {"e": None, "f": 1}}) == {
        "a": Decimal("2.5"),
        "c": [Decimal("1.5"), None],
        "d": {"f": 1},
    }


SHAPE = {"pk": exactly("RUN#r1"), "sk": prefixed("ITEM"), "n": int}


def test_a_page_token_round_trips_its_key():
    key = {"pk": "RUN#r1", "sk": "ITEM#customer#t1", "n": Decimal("4")}
    token = encode_token(key)
    assert decode_token(token, SHAPE) == {"pk": "RUN#r1", "sk": "ITEM#customer#t1", "n": 4}
    assert (encode_token(None), encode_token({}), decode_token(None, SHAPE), decode_token("", SHAPE)) == (
        None,
        None,
        None,
        None,
    )


def test_a_token_may_have_any_of_the_listing_s_shapes():
    other = {"pk": exactly("RUN#r1"), "pack": prefixed("ITEMS#")}
    token = encode_token({"pk": "RUN#r1", "pack": "ITEMS#1"})
    assert decode_token(token, SHAPE, other) == {"pk": "RUN#r1", "pack": "ITEMS#1"}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-base64!", id="not-base64"),
        pytest.param(b64("[1, 2]"), id="not-an-object"),
        pytest.param(b64("{"), id="not-json"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not-utf-8"),
        pytest.param(b64("[" * 5000), id="nested-past-the-recursion-limit"),
        pytest.param(b64('{"a": 1}'), id="another-shape"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM#a"}'), id="an-attribute-missing"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM#a", "n": 1, "x": 1}'), id="an-attribute-more"),
        pytest.param(b64('{"pk": "RUN#r2", "sk": "ITEM#a", "n": 1}'), id="another-partition"),
        pytest.param(b64('{"pk": "RUN#r1x", "sk": "ITEM#a", "n": 1}'), id="a-partition-it-begins"),
        pytest.param(b64('{"pk": "SETTINGS", "sk": "CURRENT", "n": 1}'), id="the-settings-item"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "RUN", "n": 1}'), id="another-sort-key-prefix"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": {"S": "ITEM"}, "n": 1}'), id="a-key-that-is-an-object"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM#a", "n": "1"}'), id="a-count-that-is-text"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM#a", "n": true}'), id="a-count-that-is-a-boolean"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM#a", "n": -1}'), id="a-negative-count"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM#a", "n": 1.5}'), id="a-fraction"),
        pytest.param(b64('{"pk": "RUN#r1", "sk": "ITEM' + "é" * 511 + '", "n": 1}'), id="over-1024-bytes"),
    ],
)
def test_a_token_that_is_not_a_key_of_the_listing_is_refused(token):
    with pytest.raises(InvalidTokenError) as raised:
        decode_token(token, SHAPE)
    assert raised.value.code == "invalid_next_token"
    assert raised.value.status == 400
    assert raised.value.message == "next_token is not one this listing gave."


def test_the_table_is_opened_once_and_only_when_used():
    opened: list[str] = []

    class Resource:
        def Table(self, name):
            opened.append(name)
            return object()

    store = Store("t", resource=Resource())
    assert opened == [] and store.run_retention_days == RUN_RETENTION_DAYS == 90
    assert store.table is store.table
    assert opened == ["t"]
