"""What both apply steps share: creates that look for a lost answer before sending again, patches
read back when their answer was lost. Halo is a scripted in-memory stand-in: each ``save`` call is
answered per record, in the order the test gives, and what it says landed is kept, so a test sees
whether a record was created once or twice."""

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from ddhalo.errors import (
    AuthenticationError,
    IntegrationError,
    RejectedError,
    UnreachableError,
    UpstreamError,
)
from ddhalo.pipeline.reconcile import (
    CREATE_ROUNDS,
    Applied,
    create_reconciled,
    record_id,
    save_patches,
)
from tests.unit.scripted_halo import LANDED, NO_ID, SAVED, ScriptedHalo, lost, rejected, unsent


class Halo(ScriptedHalo):
    """Strict: every ``save`` call is scripted with exactly the keys it sends. Holds the ``clients``
    and ``licences`` given; ``finder`` stands in for ``find_landed``, noting its lookups in the
    events as ``("find", keys)``."""

    def __init__(
        self, *scripts: dict[Any, Any], clients: Sequence[dict] = (), licences: Sequence[dict] = ()
    ) -> None:
        super().__init__(*scripts, held={"Client": clients, "SoftwareLicence": licences}, strict=True)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.held["Client"].values() if r.get("name") == name]

    def finder(self, error: IntegrationError | None = None):
        """``find_landed``: the held clients of those keys (by name)."""

        def find_landed(keys: Sequence[str]) -> Iterator[tuple[Sequence[str], dict[str, dict[str, Any]]]]:
            self.events.append(("find", list(keys)))
            if error is not None:
                raise error
            yield keys, {key: found[0] for key in keys if (found := self.named(key))}

        return find_landed


def records(*names: str) -> dict[str, dict[str, Any]]:
    return {name: {"name": name} for name in names}


def create(
    halo: Halo, names: Sequence[str], unsure: dict[str, float] | None = None, error=None, release=None
):
    return create_reconciled(halo, "Client", records(*names), halo.finder(error), unsure, release)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- creates
def test_all_saved_in_the_first_round_is_one_call_and_no_lookup():
    halo = Halo({"a": SAVED, "b": SAVED})
    outcome = create(halo, ["a", "b"])
    assert outcome.saved == {"a": {"name": "a", "id": 101}, "b": {"name": "b", "id": 102}}
    assert outcome.failed == {} and outcome.unfinished == {}
    assert halo.events == [("save", ["a", "b"])]


def test_a_rejected_record_fails_alone_with_its_reason_and_is_not_sent_again():
    halo = Halo({"a": rejected("name is too long"), "b": SAVED})
    outcome = create(halo, ["a", "b"])
    assert outcome.failed == {"a": "Halo rejected POST /Client: name is too long"}
    assert list(outcome.saved) == ["b"] and outcome.unfinished == {}
    assert halo.events == [("save", ["a", "b"])]


def test_a_rejection_with_a_hint_reads_as_message_then_hint():
    error = RejectedError("Halo rejected it.", "Shorten the name.", status_code=400)
    outcome = create(Halo({"a": error}), ["a"])
    assert outcome.failed == {"a": "Halo rejected it. Shorten the name."}


def test_a_lost_answer_is_looked_for_once_halo_had_time_to_save_it_and_adopted_when_found():
    halo = Halo({"a": LANDED, "b": SAVED})
    outcome = create(halo, ["a", "b"])
    # Never sent a second time, and looked for only after the settle window of the first send.
    assert halo.events == [("save", ["a", "b"]), ("settle", [1.0]), ("find", ["a"])]
    assert outcome.saved["a"] == {"name": "a", "id": 101}
    assert len(halo.named("a")) == 1  # created once, not twice
    assert outcome.failed == {} and outcome.unfinished == {}


def test_other_batches_go_on_while_a_lost_one_settles():
    halo = Halo({"a": LANDED}, {"b": SAVED})
    halo.write_batch = 1
    outcome = create(halo, ["a", "b"])
    assert halo.events == [("save", ["a"]), ("save", ["b"]), ("settle", [1.0]), ("find", ["a"])]
    assert set(outcome.saved) == {"a", "b"}


def test_a_lost_answer_not_found_is_sent_again():
    halo = Halo({"a": lost(), "b": SAVED}, {"a": SAVED})
    outcome = create(halo, ["a", "b"])
    assert halo.events == [("save", ["a", "b"]), ("settle", [1.0]), ("find", ["a"]), ("save", ["a"])]
    assert outcome.saved["a"]["name"] == "a" and len(halo.named("a")) == 1
    assert outcome.failed == {}


def test_an_answer_without_a_usable_id_is_looked_for_like_a_lost_one():
    halo = Halo({"a": NO_ID})
    outcome = create(halo, ["a"])
    assert halo.events == [("save", ["a"]), ("settle", [1.0]), ("find", ["a"])]
    assert outcome.saved == {"a": {"name": "a", "id": 101}}


def test_lost_every_round_is_looked_for_once_more_after_the_last_then_failed_with_the_last_error():
    errors = [lost(f"Halo answered HTTP 500, round {n}.") for n in range(1, CREATE_ROUNDS + 1)]
    halo = Halo(*({"a": error} for error in errors))
    outcome = create(halo, ["a"])
    assert halo.events == [
        event
        for n in range(1, CREATE_ROUNDS + 1)
        for event in [("save", ["a"]), ("settle", [float(n)]), ("find", ["a"])]
    ]
    assert outcome.failed == {"a": f"Halo answered HTTP 500, round {CREATE_ROUNDS}. Try again later."}
    assert outcome.saved == {} and outcome.unfinished == {}
    assert halo.held == {"Client": {}, "SoftwareLicence": {}}  # nothing landed


def test_a_create_found_only_by_the_look_after_the_last_round_is_adopted():
    halo = Halo(*([{"a": lost()}] * (CREATE_ROUNDS - 1)), {"a": LANDED})
    outcome = create(halo, ["a"])
    assert halo.events[-1] == ("find", ["a"]) and len(halo.events) == 3 * CREATE_ROUNDS
    assert outcome.saved == {"a": {"name": "a", "id": 101}} and outcome.failed == {}


def test_when_halo_cannot_be_read_a_lost_create_is_unfinished_with_when_it_was_sent_never_failed():
    halo = Halo({"a": LANDED, "b": SAVED})
    outcome = create(halo, ["a", "b"], error=UnreachableError("Halo did not answer."))
    assert outcome.unfinished == {"a": 1.0}  # it may have landed: the follow-up looks, not before 1 + settle
    assert outcome.failed == {} and list(outcome.saved) == ["b"]
    assert halo.events == [("save", ["a", "b"]), ("settle", [1.0]), ("find", ["a"])]


def test_when_the_settle_window_outlasts_the_invocation_a_lost_create_is_unfinished_unread():
    halo = Halo({"a": LANDED, "b": SAVED})
    halo.settle_error = unsent()
    outcome = create(halo, ["a", "b"])
    assert outcome.unfinished == {"a": 1.0} and list(outcome.saved) == ["b"]
    assert halo.events == [("save", ["a", "b"]), ("settle", [1.0])]  # Halo not read too soon


def test_unsure_keys_are_looked_for_after_their_settle_window_while_the_rest_is_sent():
    halo = Halo({"b": SAVED}, clients=[{"name": "a", "id": 7}])
    outcome = create(halo, ["a", "b"], unsure={"a": 0.5, "not-in-this-batch": 0.5})
    assert halo.events == [("save", ["b"]), ("settle", [0.5]), ("find", ["a"])]
    assert outcome.saved == {"a": {"name": "a", "id": 7}, "b": {"name": "b", "id": 101}}


def test_unsure_keys_not_found_are_sent():
    halo = Halo({"a": SAVED})
    outcome = create(halo, ["a"], unsure={"a": 0.5})
    assert halo.events == [("settle", [0.5]), ("find", ["a"]), ("save", ["a"])]
    assert outcome.saved == {"a": {"name": "a", "id": 101}}


def test_halo_unreadable_for_an_unsure_key_leaves_it_unfinished_with_its_time():
    halo = Halo({"b": SAVED})
    outcome = create(halo, ["a", "b"], unsure={"a": 0.5}, error=UnreachableError("Halo did not answer."))
    assert outcome.unfinished == {"a": 0.5}  # only a may already be in Halo
    assert list(outcome.saved) == ["b"] and outcome.failed == {}


def test_unsent_for_lack_of_time_is_unfinished_and_not_sent_again():
    halo = Halo({"a": unsent(), "b": SAVED})
    outcome = create(halo, ["a", "b"])
    assert outcome.unfinished == {"a": None}  # never sent: nothing to look for
    assert list(outcome.saved) == ["b"] and outcome.failed == {}
    assert halo.events == [("save", ["a", "b"])]


def test_a_retry_that_runs_out_of_time_is_unfinished_after_it_was_looked_for():
    halo = Halo({"a": lost()}, {"a": unsent()})
    outcome = create(halo, ["a"])
    assert halo.events == [("save", ["a"]), ("settle", [1.0]), ("find", ["a"]), ("save", ["a"])]
    assert outcome.unfinished == {"a": None} and outcome.failed == {}


def test_refused_credentials_stop_the_creates_and_say_so():
    refused = AuthenticationError("Halo rejected the API credentials.", "Check them.", system="Halo")
    halo = Halo({"a": SAVED}, {"b": refused})
    halo.write_batch = 1
    outcome = create(halo, ["a", "b", "c"])
    assert outcome.stopped is refused and refused.code == "halo_auth_failed"
    assert list(outcome.saved) == ["a"] and outcome.unfinished == {"b": None, "c": None}
    assert halo.events == [("save", ["a"]), ("save", ["b"])]  # nothing more is tried


def test_a_saved_record_releases_what_waited_for_it_into_the_next_batch():
    halo = Halo({"base": SAVED, "other": SAVED}, {"addon": SAVED})
    halo.write_batch = 2

    def release(key, record):
        return {"addon": {"name": "addon", "parent": record["id"]}} if key == "base" else {}

    outcome = create(halo, ["base", "other"], release=release)
    assert halo.events == [("save", ["base", "other"]), ("save", ["addon"])]
    assert outcome.saved["addon"]["parent"] == 101


def test_nothing_to_create_sends_nothing():
    halo = Halo()
    outcome = create(halo, [])
    assert (outcome.saved, outcome.failed, outcome.unfinished, halo.events) == ({}, {}, {}, [])


# ---------------------------------------------------------------------------------- patches
def test_a_saved_patch_is_done_and_not_read_back():
    halo = Halo({9: SAVED}, clients=[{"id": 9, "name": "x"}])
    outcome = save_patches(halo, "Client", {"t1": {"id": 9, "name": "y"}})  # type: ignore[arg-type]
    assert outcome.failed == {} and outcome.unsent == []
    assert halo.events == [("save", [9])]


def test_a_patch_whose_answer_was_lost_but_which_halo_holds_counts_as_done():
    """It landed before the answer was lost; Halo echoes it normalised, with more fields."""
    licence = {"id": 9, "count": 3.0, "end_date": "2027-01-01T00:00:00", "extra": "theirs"}
    halo = Halo({9: lost()}, licences=[licence])
    patch = {"id": 9, "count": 3, "end_date": "2027-01-01"}
    outcome = save_patches(halo, "SoftwareLicence", {"k": patch})  # type: ignore[arg-type]
    assert outcome.failed == {} and outcome.unsent == []
    assert halo.events == [("save", [9]), ("get", [9])]


def test_a_patch_whose_answer_was_lost_and_which_halo_does_not_hold_fails():
    halo = Halo({9: lost("Halo answered HTTP 502.")}, licences=[{"id": 9, "count": 1}])
    outcome = save_patches(halo, "SoftwareLicence", {"k": {"id": 9, "count": 3}})  # type: ignore[arg-type]
    assert outcome.failed == {"k": "Halo answered HTTP 502. Try again later."}
    assert halo.events == [("save", [9]), ("get", [9])]


def test_a_lost_patch_of_a_record_halo_no_longer_has_fails():
    halo = Halo({9: lost()})
    outcome = save_patches(halo, "SoftwareLicence", {"k": {"id": 9, "count": 3}})  # type: ignore[arg-type]
    assert list(outcome.failed) == ["k"]


def test_a_lost_patch_that_cannot_be_read_back_fails():
    halo = Halo({9: LANDED}, licences=[{"id": 9}])
    halo.get_error = UnreachableError("Halo did not answer.")
    outcome = save_patches(halo, "SoftwareLicence", {"k": {"id": 9, "count": 3}})  # type: ignore[arg-type]
    assert outcome.failed == {"k": "Halo answered HTTP 500 for POST /Client: boom Try again later."}


def test_a_patch_without_an_answer_at_all_is_read_back_too():
    """A timeout has no status code: the write may have been applied."""
    halo = Halo({9: UnreachableError("Halo timed out.")}, licences=[{"id": 9, "count": 3}])
    outcome = save_patches(halo, "SoftwareLicence", {"k": {"id": 9, "count": 3}})  # type: ignore[arg-type]
    assert outcome.failed == {} and halo.events[-1] == ("get", [9])


@pytest.mark.parametrize(
    "error",
    [rejected("count must be positive"), UpstreamError("Halo answered 404.", status_code=404)],
    ids=["rejected", "404"],
)
def test_a_patch_refused_outright_fails_without_a_read_back(error):
    halo = Halo({9: error}, licences=[{"id": 9, "count": 3}])  # even though Halo holds it
    outcome = save_patches(halo, "SoftwareLicence", {"k": {"id": 9, "count": 3}})  # type: ignore[arg-type]
    assert outcome.failed == {"k": error.message}
    assert halo.events == [("save", [9])]


def test_an_unsent_patch_is_handed_on_not_failed():
    halo = Halo({9: unsent(), 10: SAVED}, licences=[{"id": 9}, {"id": 10}])
    patches = {"a": {"id": 9, "count": 1}, "b": {"id": 10, "count": 2}}
    outcome = save_patches(halo, "SoftwareLicence", patches)  # type: ignore[arg-type]
    assert outcome.unsent == ["a"] and outcome.failed == {}


# ---------------------------------------------------------------------------------- small parts
@pytest.mark.parametrize(
    ("record", "expected"),
    [({"id": 5}, 5), ({"id": "5"}, 5), ({"id": 0}, None), ({"id": "abc"}, None), ({}, None)],
)
def test_record_id_takes_only_a_usable_id(record, expected):
    assert record_id(record) == expected


def test_applied_starts_empty_and_unshared():
    first, second = Applied[str](), Applied[str]()
    first.remaining.append("t1")
    assert second.remaining == [] and second.items == []


def test_what_one_read_of_a_lookup_found_is_kept_when_time_runs_out_before_the_next():
    """A lookup larger than one invocation must still make progress: a follow-up gets only the
    keys the reads so far did not settle."""
    halo = Halo({"a": LANDED, "b": LANDED, "c": LANDED})

    def find_landed(keys):  # a read per key, and time for two reads
        for n, key in enumerate(sorted(keys)):
            if n == 2:
                raise unsent()  # the invocation's time is up
            found = halo.named(key)
            yield [key], ({key: found[0]} if found else {})

    outcome = create_reconciled(halo, "Client", records("a", "b", "c"), find_landed)  # type: ignore[arg-type]
    assert set(outcome.saved) == {"a", "b"} and outcome.unfinished == {"c": 1.0}
