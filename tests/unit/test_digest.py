"""What a finished run's digest names, and when it names nothing (pure: ``ddhalo.digest.compose``)."""

from datetime import date
from typing import Any

from ddhalo.digest import MAX_LINES, compose
from ddhalo.models import Run, RunItem, Suggestion
from ddhalo.settings.model import Notifications

TODAY = date(2026, 12, 2)


def run(**extra: Any) -> Run:
    return Run.model_validate({"run_id": "r1", "kind": "sync", "status": "succeeded"} | extra)


def held(tid: str = "t1", name: str = "Adventure Works") -> RunItem:
    return RunItem(
        type="customer",
        dicker_id=tid,
        name=name,
        result="skipped",
        reason_code="ambiguous_name",
        reason="Halo has 2 clients named Adventure Works (#4, #9).",
        suggestions=[Suggestion(halo_client_id=4, halo_client_name="Adventure Works")],
    )


def item(result: str, **extra: Any) -> RunItem:
    fields: dict[str, Any] = {
        "type": "subscription",
        "dicker_id": "s1",
        "customer_id": "t1",
        "result": result,
    }
    return RunItem.model_validate(fields | extra)


def digest(items: list[RunItem], the_run: Run | None = None, **kw: Any):
    kw.setdefault("customers_step", True)
    settings = kw.pop("settings", Notifications())
    return compose(the_run or run(), items, settings, today=TODAY, **kw)


def titles(d) -> list[str]:
    return [s.title.split(":")[0] for s in d.sections]


def test_a_clean_run_names_nothing():
    d = digest([item("created"), item("unchanged", dicker_id="s2")])
    assert d is not None and d.empty and d.issues == 0


def test_excluded_items_are_not_something_to_do():
    d = digest(
        [item("skipped", reason_code="excluded"), held().model_copy(update={"reason_code": "excluded"})]
    )
    assert d.empty


def test_a_held_customer_is_named_with_its_suggestions():
    d = digest([held()])
    assert titles(d) == ["Held, not created"]
    (line,) = d.sections[0].lines
    assert line == (
        "customer Adventure Works (t1): Halo has 2 clients named Adventure Works (#4, #9).; "
        "suggested: Adventure Works (#4)"
    )
    assert d.seen == ["customer#t1"]
    assert "Adventure Works" in d.text() and "GET /runs/r1" in d.text()


def test_a_held_customer_is_named_once_not_every_run():
    assert digest([held()], seen=["customer#t1"]).empty


def test_a_customer_no_longer_held_is_forgotten_by_a_customers_step_and_named_when_held_again():
    after_mapping = digest([], seen=["customer#t1"])
    assert after_mapping.seen == []
    assert titles(digest([held()], seen=after_mapping.seen)) == ["Held, not created"]


def test_a_run_without_a_customers_step_remembers_what_it_did_not_see():
    assert digest([], seen=["customer#t1"], customers_step=False).seen == ["customer#t1"]


def test_other_unmapped_customers_are_their_own_section():
    no_name = RunItem(
        type="customer", dicker_id="t2", result="skipped", reason_code="no_name", reason="No name."
    )
    d = digest([no_name, held()])
    assert titles(d) == ["Held, not created", "New customers without a Halo client"]


def test_a_name_two_dicker_data_customers_share_is_not_told_to_create_when_similar():
    """create_when_similar does not create those (one name, one Halo client): not that heading."""
    shared = held().model_copy(update={"shares_name_with": ["t2"], "suggestions": []})
    assert titles(digest([shared])) == ["New customers without a Halo client"]


def test_failed_items_are_named_every_run():
    failed = item("failed", reason_code="halo_rejected", reason="Halo refused it.", name="Office 365 E3")
    d = digest([failed], seen=["customer#t1"])
    assert titles(d) == ["Failed"]
    assert d.sections[0].lines == ["subscription Office 365 E3 (s1) of customer t1: Halo refused it."]
    assert digest([failed], seen=d.seen).issues == 1


def test_a_failed_run_names_its_error_and_hint():
    the_run = run(
        status="failed", error="Halo did not answer.", hint="Try again later.", error_code="unreachable"
    )
    d = digest([], the_run)
    assert d.sections[0].lines == ["The run failed: Halo did not answer. Try again later."]


def test_refused_credentials_are_named_as_credentials():
    the_run = run(status="failed", error="Halo refused the client secret.", error_code="halo_auth_failed")
    assert titles(digest([], the_run)) == ["Credentials that stopped working or soon will"]


def test_a_credential_near_its_declared_expiry_is_named_once_a_day():
    settings = Notifications(dicker_data_token_expires=date(2026, 12, 9), warn_days=14)
    d = digest([], settings=settings)
    assert d.sections[0].lines == [
        "The Dicker Data access token stops working on 2026-12-09 (in 7 days): set the new one with "
        'PUT /settings {"dicker_data_access_token": ...}, then its date in '
        "notifications.dicker_data_token_expires."
    ]
    assert digest([], settings=settings, seen=d.seen).empty
    tomorrow = compose(run(), [], settings, seen=d.seen, today=date(2026, 12, 3), customers_step=True)
    assert tomorrow.issues == 1


def test_an_expiry_beyond_the_warning_days_or_already_past_reads_as_it_is():
    far = Notifications(halo_client_secret_expires=date(2027, 6, 1))
    assert digest([], settings=far).empty
    past = Notifications(halo_client_secret_expires=date(2026, 11, 30))
    assert "The Halo client secret stopped working on 2026-11-30" in digest([], settings=past).text()


def test_dry_runs_and_skipped_syncs_have_no_digest():
    assert digest([held()], run(dry_run=True)) is None
    assert digest([held()], run(status="skipped")) is None


def test_a_long_section_counts_what_it_leaves_out():
    many = [held(f"t{i}", f"Name {i}") for i in range(MAX_LINES + 5)]
    d = digest(many)
    assert len(d.sections[0].lines) == MAX_LINES and d.sections[0].more == 5 and d.issues == MAX_LINES + 5
    assert d.text().endswith("- and 5 more\n\nEvery item of the run: GET /runs/r1")
    assert len(d.subject) <= 100


def twins(ids: list[int], **extra: Any) -> RunItem:
    return item(
        "skipped",
        reason_code="duplicate_in_halo",
        reason=f"Halo holds {len(ids)} licences for this subscription.",
        duplicate_ids=ids,
        **extra,
    )


def test_records_halo_holds_twice_are_named_once_per_group():
    first = digest([twins([50, 61])], the_run=run(verify=True))
    (section,) = first.sections
    assert section.title.startswith("In Halo more than once") and section.count == 1
    assert "subscription (s1) of customer t1: Halo holds 2 licences" in section.lines[0]
    again = digest([twins([50, 61])], the_run=run(verify=True), seen=first.seen)
    assert again.empty
    grown = digest([twins([50, 61, 70])], the_run=run(verify=True), seen=again.seen)
    assert grown.issues == 1  # the group changed: named again


def test_twins_no_longer_found_by_a_whole_read_may_be_named_again_later():
    first = digest([twins([50, 61])], the_run=run(verify=True))
    plain = digest([], the_run=run(), seen=first.seen)  # a plain sync reads no licence
    assert any(k.startswith("twins#") for k in plain.seen)
    resolved = digest([], the_run=run(verify=True), seen=plain.seen, read_whole=True)
    assert not any(k.startswith("twins#") for k in resolved.seen)
    assert digest([twins([50, 61])], the_run=run(verify=True), seen=resolved.seen).issues == 1
