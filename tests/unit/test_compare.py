"""How a desired record is compared: with what we last wrote (its digest) and with what Halo
echoes back (``holds``)."""

import pytest

from ddhalo.pipeline.compare import content_hash, holds


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ("2027-01-01", "2027-01-01T00:00:00", True),
        ("2027-01-01", "2027-01-01T00:00", True),
        ("2027-01-01", "2027-01-02T00:00:00", False),
        ("2027-01-01", None, False),
        (3, 3.0, True),
        (3.0, 3, True),
        (3, 4.0, False),
        (True, 1, True),
        (False, 0, True),
        (1, True, True),
        (True, 0, False),
        (True, False, False),
        (None, "", True),
        ("", None, True),
        (None, None, True),
        (None, "x", False),
        ("", 0, False),
        ("Contoso", " Contoso ", True),
        ("Contoso", "contoso", False),
        ("x", None, False),
        ({"line1": "a"}, {"line1": "a", "line2": "theirs", "id": 4}, True),
        ({"line1": "a"}, {"line1": "b"}, False),
        ({"line1": "a"}, None, False),
        ({"outer": {"n": 3}}, {"outer": {"n": 3.0, "more": 1}}, True),
        ({"outer": {"n": 3}}, {"outer": {"n": 4}}, False),
        ([{"tid": "t1"}], [{"tid": "t2"}, {"tid": "t1", "id": 5}], True),
        ([{"tid": "t1"}, {"tid": "t3"}], [{"tid": "t1"}], False),
        ([{"tid": "t1"}], [], False),
        ([], [{"tid": "t1"}], True),
        ([1], "1", False),
    ],
)
def test_holds(ours, theirs, expected):
    assert holds(ours, theirs) is expected


def test_content_hash_is_stable_and_ignores_key_order():
    digest = content_hash({"a": 1, "b": [1, 2]})
    assert digest == content_hash({"b": [1, 2], "a": 1}) and len(digest) == 32
    assert digest != content_hash({"a": 1, "b": [2, 1]})
