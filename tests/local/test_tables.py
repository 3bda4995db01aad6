"""The plain-text table printer: long cells wrap at word boundaries, numbers stay right-aligned."""

from local.tables import table, wrap


def test_long_cells_wrap_at_words_and_numbers_stay_right_aligned():
    rows = [["Contoso Pty Ltd", 3, "created with a long reason"], ["Fabrikam", 12, None]]
    assert table(["name", "n", "note"], rows, max_width=10) == "\n".join(
        [
            "name      n   note",
            "--------  --  -------",
            "Contoso    3  created",
            "Pty Ltd       with a",
            "              long",
            "              reason",
            "Fabrikam  12",
        ]
    )


def test_a_word_longer_than_the_width_is_the_only_thing_split():
    assert wrap("see https://example.com/a/very/long/path ok", 12) == [
        "see",
        "https://exam",
        "ple.com/a/ve",
        "ry/long/path",
        "ok",
    ]
    assert wrap("exactly ten", 10) == ["exactly", "ten"]
    assert wrap("", 5) == [""]


def test_headers_wrap_too_and_a_newline_starts_a_line():
    assert table(["changes / reason", "id"], [["one\ntwo", 7]], max_width=8) == "\n".join(
        [
            "changes   id",
            "/ reason",
            "--------  --",
            "one        7",
            "two",
        ]
    )


def test_cells_that_fit_are_shown_as_they_are():
    rows = [["  NORTHWIND Traders ", "1.5x"], ["Coho", "n/a"]]
    expected = "\n".join(
        [
            "customer              ratio",
            "--------------------  -----",
            "  NORTHWIND Traders    1.5x",
            "Coho                    n/a",
        ]
    )
    assert table(["customer", "ratio"], rows) == expected
    assert table(["customer", "ratio"], rows, max_width=40) == expected
