from decimal import Decimal

import pytest

from ddhalo.errors import InputError
from ddhalo.store import RUN_RETENTION_DAYS, Store
from ddhalo.store.table import decode_token, encode_token, from_dynamo, to_dynamo


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


def test_a_page_token_round_trips_its_key():
    key = {"pk": "RUN#r1", "sk": "ITEM#customer#t1", "n": Decimal("4")}
    token = encode_token(key)
    assert decode_token(token) == {"pk": "RUN#r1", "sk": "ITEM#customer#t1", "n": 4}
    assert (encode_token(None), encode_token({}), decode_token(None), decode_token("")) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize("token", ["not-base64!", "WzEsIDJd", "eyJwayI6IHsiYSI6IDF9fQ=="])
def test_a_token_that_is_not_a_key_is_refused(token):
    # the last two are base64 of `[1, 2]` and of `{"pk": {"a": 1}}`
    with pytest.raises(InputError, match="next_token is not valid"):
        decode_token(token)


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
