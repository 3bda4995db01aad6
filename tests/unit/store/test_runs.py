import pytest
from botocore.exceptions import ClientError

from ddhalo.errors import InputError, InvalidTokenError
from ddhalo.models import PackedItems, Run, RunItem
from ddhalo.store.table import encode_token
from tests.unit.builders import chunk


def item(i: int, result: str = "created") -> RunItem:
    return RunItem(type="customer", dicker_id=f"t{i}", result=result)


def test_run_items_page_with_a_token(store):
    store.create_run(Run(run_id="r1", kind="customers"))
    store.record_chunk("r1", chunk(0), [item(i) for i in range(25)])
    first, token = store.list_items("r1", limit=10)
    second, token2 = store.list_items("r1", limit=10, next_token=token)
    third, token3 = store.list_items("r1", limit=10, next_token=token2)
    ids = [i.dicker_id for i in first + second + third]
    assert len(ids) == 25 == len(set(ids))
    assert token3 is None or store.list_items("r1", next_token=token3)[0] == []


def test_customers_without_id_do_not_overwrite_each_other(store):
    store.create_run(Run(run_id="r1", kind="customers"))
    items = [
        RunItem(type="customer", dicker_id="", name=name, result="skipped", reason="no tenant")
        for name in ("A", "B")
    ]
    store.record_chunk("r1", chunk(0), items)
    assert len(store.list_items("r1")[0]) == 2


def test_runs_are_listed_newest_first_with_paging(store):
    for i in range(5):
        store.create_run(Run(run_id=f"r{i}", kind="customers", started_at=f"2026-01-0{i + 1}T00:00:00Z"))
    page, token = store.list_runs(limit=3)
    rest, _ = store.list_runs(limit=3, next_token=token)
    assert [r.run_id for r in page + rest] == ["r4", "r3", "r2", "r1", "r0"]


def test_the_last_page_of_runs_has_no_token(store):
    for i in range(2):
        store.create_run(Run(run_id=f"r{i}", kind="customers", started_at=f"2026-01-0{i + 1}T00:00:00Z"))
    runs, token = store.list_runs(limit=5)
    assert ([r.run_id for r in runs], token) == (["r1", "r0"], None)


def test_a_forged_token_is_a_4xx(store):
    with pytest.raises(InputError):
        store.list_runs(next_token="not-base64!")


def test_a_run_reads_back_as_created_and_is_created_once(store):
    run = Run(run_id="r1", kind="sync", trigger="schedule", options={"customers": ["t1"]}, chunks_total=3)
    store.create_run(run)
    assert store.get_run("r1") == run
    with pytest.raises(ClientError) as caught:
        store.create_run(run.model_copy(update={"kind": "customers"}))
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert store.get_run("r1").kind == "sync"
    assert store.get_run("r2") is None


def test_status_moves_only_from_allowed_states(store):
    store.create_run(Run(run_id="r1", kind="customers"))
    assert store.set_run_status("r1", "succeeded", only_if=("running",)) is False
    assert store.set_run_status("r1", "running", only_if=("queued",)) is True
    assert store.set_run_status("r1", "partial", only_if=("running",)) is True
    run = store.get_run("r1")
    assert run.status == "partial" and run.finished_at


def test_a_missing_run_has_no_status_to_move(store):
    assert store.set_run_status("nope", "running") is False
    assert store.get_run("nope") is None


def test_a_finished_run_keeps_why_and_a_queued_one_says_what_it_waits_for(store):
    store.create_run(Run(run_id="r1", kind="sync"))
    store.set_waiting("r1", "another run writes to Halo")
    assert store.get_run("r1").waiting_for == "another run writes to Halo"
    assert store.set_run_status("r1", "queued") is True  # still queued: still waiting
    assert store.get_run("r1").waiting_for == "another run writes to Halo"
    assert store.set_run_status("r1", "running") is True
    running = store.get_run("r1")
    assert (running.status, running.waiting_for, running.finished_at) == ("running", None, None)
    store.set_waiting("r1", "too late")  # only a queued run waits
    assert store.get_run("r1").waiting_for is None
    assert store.set_run_status(
        "r1", "failed", error="Halo said no", hint="Check the URL", skipped_reason="x"
    )
    run = store.get_run("r1")
    assert (run.status, run.error, run.hint, run.skipped_reason) == (
        "failed",
        "Halo said no",
        "Check the URL",
        "x",
    )
    assert run.finished_at is not None


def test_notices_say_why_once_per_code(store):
    from ddhalo.models import Run

    store.create_run(Run(run_id="n1", kind="subscriptions"))
    store.add_notice("n1", "no_mapped_customers", "No customer is mapped.")
    store.add_notice("n1", "no_mapped_customers", "No customer is mapped.")  # a retried job
    store.add_notice("n1", "no_subscriptions", "None answered.")
    assert store.get_run("n1").notices == {
        "no_mapped_customers": "No customer is mapped.",
        "no_subscriptions": "None answered.",
    }


@pytest.mark.parametrize("limit", [1, 7, 999, 1000, 1001, 1503, 5000])
def test_items_page_through_rows_and_packs_alike(store, limit):
    """A page may end inside a pack of unchanged items; the next one goes on from there."""
    store.create_run(Run(run_id="r1", kind="sync"))
    unchanged = [item(i, "unchanged") for i in range(1500)]
    store.record_chunk("r1", chunk(1), unchanged + [item(i) for i in range(2000, 2003)])
    store.record_chunk(
        "r1", chunk(2), [item(i, "unchanged") for i in range(3000, 3004)] + [item(4000, "failed")]
    )
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page, token = store.list_items("r1", limit=limit, next_token=token)
        assert len(page) <= limit
        seen += [i.dicker_id for i in page]
        pages += 1
        if token is None:
            break
    assert len(seen) == 1508 == len(set(seen))
    assert pages in (-(-1508 // limit), -(-1508 // limit) + 1)  # at most one empty last page


def test_items_by_result_are_read_only_from_packs_that_hold_one(store, monkeypatch):
    store.create_run(Run(run_id="r1", kind="sync"))
    store.record_chunk("r1", chunk(1), [item(i, "unchanged") for i in range(1200)] + [item(5000, "failed")])
    store.record_chunk("r1", chunk(2), [item(i, "unchanged") for i in range(2000, 2500)] + [item(6000)])
    sent: list[bytes] = []
    unpack = PackedItems.unpack

    def counted(data: bytes, results=None):
        sent.append(data)
        return unpack(data, results)

    monkeypatch.setattr(PackedItems, "unpack", counted)
    assert [i.dicker_id for i in store.iter_items("r1", ("failed", "skipped"))] == ["t5000"]
    assert len(sent) == 1  # chunk 1's first pack and chunk 2's hold none: not sent back
    assert [i.dicker_id for i in store.iter_items("r1", ("created",))] == ["t6000"]
    assert len(list(store.iter_items("r1", ("unchanged",)))) == 1700
    assert len(list(store.iter_items("r1", ("unchanged", "failed")))) == 1701


def test_a_token_pointing_inside_a_pack_must_point_at_a_pack(store):
    store.create_run(Run(run_id="r1", kind="sync"))
    forged = encode_token({"pack": "RUN", "skip": 3})
    with pytest.raises(InputError, match="next_token"):
        store.list_items("r1", next_token=forged)


def test_a_token_of_one_run_s_items_is_refused_on_another_and_on_the_run_list(store):
    for run_id in ("r1", "r2"):
        store.create_run(Run(run_id=run_id, kind="sync"))
        store.record_chunk(run_id, chunk(1), [item(i, "unchanged") for i in range(5)])
    _, inside = store.list_items("r1", limit=2)
    after = encode_token({"pk": "RUN#r1", "sk": f"ITEMS#{chunk(1)}#0000"})
    assert store.list_items("r1", next_token=after) == ([], None)
    for token in (inside, after):
        with pytest.raises(InvalidTokenError):
            store.list_items("r2", next_token=token)
        with pytest.raises(InvalidTokenError):
            store.list_runs(next_token=token)
    _, runs_token = store.list_runs(limit=1)
    assert runs_token is not None
    with pytest.raises(InvalidTokenError):
        store.list_items("r1", next_token=runs_token)
