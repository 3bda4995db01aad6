"""Decoding in pieces answers exactly what json.loads does, at every piece boundary."""

import json
import tracemalloc

import pytest

from ddhalo import jsonpieces

DOCUMENTS = [
    {
        "Out": [
            {"SubscriptionId": f"s{i}", "Quantity": i, "Name": "Café ☕ 🚀", "Price": 12.5e3}
            for i in range(40)
        ],
        "Status": "OK",
        "Nested": {"a": [1, [2, 3], {"b": None}]},
    },
    [
        {"id": i, "flag": i % 2 == 0, "none": None, "deep": [[i], {"x": 'é "quoted" \\ back'}]}
        for i in range(30)
    ],
    {"Status": "OK", "Out": [], "Message": "", "Count": 123456789012345678901234567890},
    {"Out": [1, -2.5, 3e10, "x", True, False, None, [], {}]},
    "just a string that is long enough " * 10,
]


def padded(document, indent=None) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=indent).encode()


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("indent", [None, 3])
def test_every_piece_size_answers_what_json_loads_does(document, indent):
    body = padded(document, indent)
    expected = json.loads(body)
    for piece in (1, 2, 3, 7, 64, len(body) - 1):
        assert jsonpieces.loads(body, piece_bytes=piece) == expected, piece


def test_the_pairs_hook_sees_every_object_as_json_loads_gives_it():
    body = padded(DOCUMENTS[0])
    hook = lambda pairs: ("row", tuple(k for k, _ in pairs))  # noqa: E731
    assert jsonpieces.loads(body, hook, piece_bytes=5) == json.loads(body, object_pairs_hook=hook)


@pytest.mark.parametrize(
    "body",
    [
        b'{"Out": [1, 2',
        b'{"Out": [1 2]}',
        b"[1, 2] 3",
        b'{"a" 1}',
        b"{1: 2}",
        b'[{"a": tru}]',
        b"",
        b"<html>",
        b'{"Out": [1,]}',
    ],
)
def test_what_json_loads_refuses_is_refused(body):
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    with pytest.raises(json.JSONDecodeError):
        jsonpieces.loads(body + b" " * 4, piece_bytes=2)


def test_a_wide_character_does_not_widen_the_whole_answer():
    """50,000 rows with one emoji: the text held at once stays near one piece, not the body x 4."""
    rows = [
        {"SubscriptionId": f"sub-{i:06}", "CompanyName": "Contoso Pty Ltd", "Quantity": i}
        for i in range(50_000)
    ]
    rows[-1]["CompanyName"] = "Contoso 🚀"
    body = padded({"Out": rows})

    def peak(decode) -> int:
        """The decoder's own peak: each row is kept as its field count (records are small)."""
        tracemalloc.start()
        decoded = decode(body, object_pairs_hook=len)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert decoded == 1 and len(body) > 4_000_000
        return top

    whole, pieces = peak(json.loads), peak(jsonpieces.loads)
    assert whole > 3 * len(body)  # json.loads held the whole answer, four bytes per character
    assert pieces < 2 * jsonpieces.PIECE_BYTES * 4
