"""Where a digest goes: the alarm topic (its email subscribers) and a Teams or Slack webhook.

:class:`DigestSender` runs when a run finishes (``Runner.after_finish``): once per run (the
``DIGEST`` marker), it composes the digest (``ddhalo.digest``), sends it when it names something,
remembers what it named, and records on the run what became of it (``run.digest``). A channel
that fails is recorded there and logged; it never changes the run's own status.

Webhook bodies (assumed from Microsoft's and Slack's documents, not tried against either here):
Slack's incoming webhooks take ``{"text": ...}``; Teams (Workflows "When a Teams webhook request
is received", and the older connectors) take a message whose attachment is an Adaptive Card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import requests
from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ddhalo.digest import Digest, compose
from ddhalo.models import DigestRecord, Run
from ddhalo.pipeline.options import SyncOptions, options_of
from ddhalo.redact import scrub
from ddhalo.secrets import SecretStore
from ddhalo.settings.model import WebhookFormat
from ddhalo.store import Store

logger = Logger(child=True)
WEBHOOK_TIMEOUT = 10.0
# Hosts of Microsoft's webhooks (Teams connectors, Workflows / Power Automate).
TEAMS_HOSTS = (
    "webhook.office.com",
    "outlook.office.com",
    "logic.azure.com",
    "powerplatform.com",
    "powerautomate.com",
)


class DeliveryError(Exception):
    """A channel could not take the digest; the text names the channel, never its URL."""


class Channel(Protocol):
    name: str

    def send(self, digest: Digest) -> None: ...


@dataclass
class TopicChannel:
    """The stack's alarm topic: whoever subscribed (the AlarmEmail parameter) gets an email."""

    topic_arn: str
    client: Any = None
    name: str = "email"

    def send(self, digest: Digest) -> None:
        client = self.client or boto3.client("sns")
        subject = digest.subject.encode("ascii", "replace").decode()
        try:
            client.publish(TopicArn=self.topic_arn, Subject=subject, Message=scrub(digest.text()))
        except (ClientError, BotoCoreError) as exc:
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
            raise DeliveryError(f"The alarm topic refused the digest ({code}).") from None


@dataclass
class WebhookChannel:
    url: str
    format: WebhookFormat = "auto"
    session: requests.Session | None = None
    name: str = "webhook"

    def send(self, digest: Digest) -> None:
        body = webhook_body(digest, self.kind())
        post = (self.session or requests).post
        try:
            response = post(self.url, json=body, timeout=WEBHOOK_TIMEOUT)
        except requests.RequestException as exc:  # its text holds the URL: a secret
            raise DeliveryError(f"The webhook did not answer ({type(exc).__name__}).") from None
        if response.status_code >= 300:
            raise DeliveryError(f"The webhook answered HTTP {response.status_code}.")

    def kind(self) -> str:
        if self.format != "auto":
            return self.format
        host = (urlsplit(self.url).hostname or "").lower()
        return "teams" if any(host == h or host.endswith("." + h) for h in TEAMS_HOSTS) else "slack"


def webhook_body(digest: Digest, kind: str) -> dict[str, Any]:
    if kind == "slack":
        return {"text": scrub(f"*{digest.subject}*\n{digest.text()}")}
    blocks: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": scrub(digest.subject),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    for section in digest.sections:
        blocks.append(
            {
                "type": "TextBlock",
                "text": f"{section.title} ({section.count})",
                "weight": "Bolder",
                "wrap": True,
            }
        )
        lines = [*section.lines, *([f"and {section.more} more"] if section.more else [])]
        blocks.append(
            {"type": "TextBlock", "text": scrub("\n".join(f"- {line}" for line in lines)), "wrap": True}
        )
    blocks.append(
        {
            "type": "TextBlock",
            "text": f"Every item of the run: GET /runs/{digest.run_id}",
            "isSubtle": True,
            "wrap": True,
        }
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": blocks,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass
class DigestSender:
    """Sends each finished run's digest. ``topic_arn``: the alarm topic (None: the functions that
    never finish a real run, and tests); ``channels``: given by tests instead of the real ones."""

    store: Store
    secrets: SecretStore
    topic_arn: str | None = None
    sns_client: Any = None
    session: requests.Session | None = None
    today: Callable[[], date] = _today
    channels: list[Channel] | None = field(default=None, repr=False)

    def __call__(self, run: Run) -> DigestRecord | None:
        if run.dry_run or run.status == "skipped":
            return None
        settings = self.store.get_settings().notifications
        if not self.store.claim_digest(run.run_id):
            return None
        if not settings.digest:
            record = DigestRecord(note="Digests are turned off (notifications.digest).")
            self.store.set_run_digest(run.run_id, record)
            return record
        # A run's counts say whether it has any: most hourly syncs have none, and need not read its packs.
        issues = run.counts.skipped + run.counts.failed
        items = list(self.store.iter_items(run.run_id, ("skipped", "failed"))) if issues else []
        digest = compose(
            run,
            items,
            settings,
            seen=self.store.digest_seen(),
            today=self.today(),
            customers_step=_has_customers_step(run),
            read_whole=run.verify or run.kind != "sync",
        )
        if digest is None:
            return None
        self.store.put_digest_seen(digest.seen)
        if digest.empty:
            record = DigestRecord(note="Nothing was left for a person: no digest was sent.")
        else:
            record = self._send(digest, settings.webhook_format)
        self.store.set_run_digest(run.run_id, record)
        return record

    def _send(self, digest: Digest, webhook_format: WebhookFormat) -> DigestRecord:
        channels = self.channels if self.channels is not None else self._channels(webhook_format)
        record = DigestRecord(issues=digest.issues)
        if not channels:
            record.note = "No alarm topic or webhook is set: the digest went nowhere."
        for channel in channels:
            try:
                channel.send(digest)
            except DeliveryError as exc:
                logger.warning("digest not delivered", extra={"channel": channel.name, "error": str(exc)})
                record.errors.append(f"{channel.name}: {exc}")
            else:
                record.channels.append(channel.name)
        record.sent = bool(record.channels)
        logger.info(
            "digest", extra={"issues": digest.issues, "channels": record.channels, "errors": record.errors}
        )
        return record

    def _channels(self, webhook_format: WebhookFormat) -> list[Channel]:
        channels: list[Channel] = []
        if self.topic_arn:
            channels.append(TopicChannel(self.topic_arn, self.sns_client))
        webhook = self.secrets.load().webhook_url
        if webhook is not None:
            channels.append(WebhookChannel(webhook.get_secret_value(), webhook_format, self.session))
        return channels


def _has_customers_step(run: Run) -> bool:
    options = options_of(run)
    return run.kind == "customers" or (isinstance(options, SyncOptions) and options.customers)
