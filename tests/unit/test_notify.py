"""The digest's channels: the webhook's format by host, its failures worded without its URL."""

import socket

import pytest

from ddhalo.digest import Digest, Section
from ddhalo.models import Run, RunItem
from ddhalo.notify import DeliveryError, DigestSender, WebhookChannel, webhook_body
from local.fakes.webhook import WebhookReceiver
from tests.unit.builders import chunk

DIGEST = Digest("r1", "sync", "partial", [Section("Failed", ["subscription s1: Halo refused it."], more=2)])


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://hooks.slack.com/services/T0/B0/x", "slack"),
        ("https://contoso.webhook.office.com/webhookb2/x", "teams"),
        ("https://prod-27.australiasoutheast.logic.azure.com:443/workflows/x", "teams"),
        ("https://default1.environment.api.powerplatform.com/powerautomate/x", "teams"),
        ("https://office.com.evil.example/x", "slack"),
        ("http://127.0.0.1:9/hook", "slack"),
    ],
)
def test_the_format_follows_the_host(url, kind):
    assert WebhookChannel(url).kind() == kind


def test_a_set_format_wins_over_the_host():
    assert WebhookChannel("https://hooks.slack.com/x", "teams").kind() == "teams"


def test_slack_and_teams_receivers_take_their_own_shape_only():
    for kind, other in (("slack", "teams"), ("teams", "slack")):
        with WebhookReceiver(kind) as hook:
            WebhookChannel(hook.url, kind).send(DIGEST)
            with pytest.raises(DeliveryError, match="HTTP 400"):
                WebhookChannel(hook.url, other).send(DIGEST)
            (text,) = hook.texts()
            assert "Failed (3)" in text and "Halo refused it." in text and "and 2 more" in text


def test_the_teams_body_is_an_adaptive_card():
    body = webhook_body(DIGEST, "teams")
    (attachment,) = body["attachments"]
    assert (
        body["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    assert attachment["content"]["type"] == "AdaptiveCard" and attachment["content"]["body"]


def test_a_webhook_that_does_not_answer_is_named_without_its_url():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/very-secret-path"
    with pytest.raises(DeliveryError) as refused:
        WebhookChannel(url).send(DIGEST)
    assert str(refused.value) == "The webhook did not answer (ConnectionError)."
    assert refused.value.__suppress_context__  # a traceback never shows the error that holds the URL
    assert "very-secret-path" not in str(refused.value)


def test_a_hook_path_it_does_not_know_answers_404():
    with WebhookReceiver("slack") as hook:
        with pytest.raises(DeliveryError, match="HTTP 404"):
            WebhookChannel(hook.root_url + "/hooks/other").send(DIGEST)
        assert hook.messages == []


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.sent: list[Digest] = []

    def send(self, digest: Digest) -> None:
        self.sent.append(digest)


def test_a_runs_items_are_read_for_the_digest_only_if_its_counts_show_a_failure(store, secrets, monkeypatch):
    """An hourly sync's 50,000 items are packed: the digest reads them only if there is something to name."""
    for run_id, result in (("clean", "created"), ("broken", "failed")):
        store.create_run(Run(run_id=run_id, kind="sync", chunks_total=1))
        failure = {"reason": "Halo refused it.", "reason_code": "halo_refused"} if result == "failed" else {}
        sub = RunItem(type="subscription", dicker_id="s1", customer_id="c1", result=result, **failure)
        store.record_chunk(run_id, chunk(0), [sub])
        store.set_run_status(run_id, "succeeded" if result == "created" else "partial")
    read: list[str] = []
    iter_items = store.iter_items

    def counted(run_id: str, wanted):
        read.append(run_id)
        return iter_items(run_id, wanted)

    monkeypatch.setattr(store, "iter_items", counted)
    inbox = Inbox()
    sender = DigestSender(store, secrets, channels=[inbox])
    assert sender(store.get_run("clean")).note == "Nothing was left for a person: no digest was sent."
    assert sender(store.get_run("broken")).sent is True
    assert read == ["broken"]
    assert [d.run_id for d in inbox.sent] == ["broken"]
    assert "Halo refused it." in " ".join(line for s in inbox.sent[0].sections for line in s.lines)
