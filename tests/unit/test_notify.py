"""The digest's channels: the webhook's format by host, its failures worded without its URL."""

import socket

import pytest

from ddhalo.digest import Digest, Section
from ddhalo.notify import DeliveryError, WebhookChannel, webhook_body
from local.fakes.webhook import WebhookReceiver

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
