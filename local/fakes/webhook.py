"""A loopback incoming-webhook receiver, as Slack's and Teams' take messages.

As documented by each (not tried against either here): Slack answers 200 ``ok`` to a JSON body
with a ``text`` and 400 ``no_text`` / ``invalid_payload`` otherwise; a Teams Workflows webhook
answers 202 to a message whose attachments hold an Adaptive Card, and 400 otherwise. Only a POST
to the hook's own secret path is taken (404 elsewhere), like the real ones. ``messages`` keeps
every accepted body; the base's ``fail_next`` scripts faults.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from local.fakes._server import FakeServer
from local.fakes.http_messages import Request, Response, text_response

Kind = Literal["slack", "teams"]
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


class WebhookReceiver(FakeServer):
    def __init__(self, kind: Kind = "slack", *, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__(port=port, host=host)
        self.kind = kind
        self.path = f"/hooks/{secrets.token_urlsafe(16)}"
        self.messages: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"{self.root_url}{self.path}"

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != self.path:
            return text_response(404, "no such hook")
        body = request.json
        if not isinstance(body, dict):
            return text_response(400, "invalid_payload")
        problem = _slack_problem(body) if self.kind == "slack" else _teams_problem(body)
        if problem:
            return text_response(400, problem)
        self.messages.append(body)
        return text_response(200, "ok") if self.kind == "slack" else Response(202, b"")

    def texts(self) -> list[str]:
        """Each message's words, whatever its shape (Slack's text, the card's text blocks)."""
        out = []
        for body in self.messages:
            if self.kind == "slack":
                out.append(str(body["text"]))
            else:
                blocks = body["attachments"][0]["content"]["body"]
                out.append("\n".join(str(b.get("text", "")) for b in blocks))
        return out


def _slack_problem(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("text"), str) or not body["text"].strip():
        return "no_text"
    return None


def _teams_problem(body: dict[str, Any]) -> str | None:
    attachments = body.get("attachments")
    if body.get("type") != "message" or not isinstance(attachments, list) or not attachments:
        return "The message must be of type message with attachments."
    for attachment in attachments:
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if attachment.get("contentType") != ADAPTIVE_CARD or not isinstance(content, dict):
            return "An attachment must be an Adaptive Card."
        if content.get("type") != "AdaptiveCard" or not isinstance(content.get("body"), list):
            return "The card must be an AdaptiveCard with a body."
    return None
