import pytest

from ddhalo.matching import Candidate, ClientIndex, Customer, exact_key, loose_key, match_exact


def index(*names: str) -> ClientIndex:
    return ClientIndex(Candidate(id=i + 1, name=n) for i, n in enumerate(names))


@pytest.mark.parametrize(
    ("a", "b"),
    [("Contoso", "contoso"), ("  Contoso Pty Ltd ", "CONTOSO PTY LTD"), ("Ærø Café", "ærø café")],
)
def test_exact_means_trimmed_and_case_insensitive(a, b):
    assert exact_key(a) == exact_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Contoso Pty Ltd", "Contoso Pty. Ltd."),
        ("Smith & Sons", "Smith and Sons"),
        ("Contoso  Ltd", "Contoso Ltd"),
        ("Contoso-Group", "Contoso Group"),
    ],
)
def test_near_misses_are_not_exact_but_share_a_loose_key(a, b):
    assert exact_key(a) != exact_key(b)
    assert loose_key(a) == loose_key(b)


def test_one_exact_match_is_mapped():
    result = match_exact([Customer("t1", " contoso ")], index("Contoso", "Fabrikam"))
    assert [(c.id, h.id) for c, h in result.matched] == [("t1", 1)]


def test_two_halo_clients_with_the_name_are_ambiguous():
    result = match_exact([Customer("t1", "Contoso")], index("Contoso", "CONTOSO"))
    assert not result.matched
    assert [(c.id, sorted(h.id for h in hs)) for c, hs, _ in result.ambiguous] == [("t1", [1, 2])]


def test_two_customers_claiming_one_client_are_both_ambiguous():
    result = match_exact([Customer("t1", "Contoso"), Customer("t2", "contoso ")], index("Contoso"))
    assert not result.matched
    assert sorted(c.id for c, _, _ in result.ambiguous) == ["t1", "t2"]


def test_near_miss_is_unmatched_with_a_suggestion():
    clients = index("Contoso Pty. Ltd.", "Unrelated Holdings")
    result = match_exact([Customer("t1", "Contoso Pty Ltd")], clients)
    assert not result.matched and [c.id for c, _ in result.unmatched] == ["t1"]
    assert [s.id for s in clients.suggestions("Contoso Pty Ltd")] == [1]


def test_a_client_mapped_elsewhere_is_not_offered_again():
    result = match_exact([Customer("t1", "Contoso")], index("Contoso"), taken_client_ids={1})
    assert not result.matched and "already mapped" in result.unmatched[0][1]


def test_fuzzy_suggestions_find_small_typos_only():
    clients = index("Northwind Traders", "Northwind Tradres", "Southwind Logistics")
    ids = [s.id for s in clients.suggestions("Northwind Traders Pty Ltd")]
    assert ids[0] == 1 and 2 in ids and 3 not in ids


def test_clients_not_kept_are_never_compared_and_never_crowd_out_one_that_is():
    clients = index(*(f"Northwind Traders {n}" for n in range(1, 7)), "Northwind Tradres")
    assert len(clients.suggestions("Northwind Traders")) == 5  # the first five near names
    ids = [s.id for s in clients.suggestions("Northwind Traders", keep=lambda c: not c.name[-1].isdigit())]
    assert ids == [7]


def test_the_cheap_bounds_answer_what_the_ratio_alone_does(monkeypatch):
    """The quick bounds only skip comparisons: the suggestions of every name are the same as
    with the full ratio for every pair sharing a word."""
    import difflib

    from ddhalo import matching

    names = [
        f"{a} {b}"
        for a in ("Acme", "Acne", "Acme Co", "Apex")
        for b in ("Hold", "Holds", "Holdings", "Group")
    ]
    clients = index(*names)
    with_bounds = {n: [c.id for c in clients.suggestions(n)] for n in names}

    class RatioOnly(difflib.SequenceMatcher):
        def real_quick_ratio(self) -> float:
            return 1.0

        quick_ratio = real_quick_ratio

    monkeypatch.setattr(matching, "SequenceMatcher", RatioOnly)
    assert {n: [c.id for c in clients.suggestions(n)] for n in names} == with_bounds
    assert any(with_bounds.values())


def test_blank_names_never_match():
    assert index("").exact("  ") == []
    assert match_exact([Customer("t1", "")], index("")).matched == []
