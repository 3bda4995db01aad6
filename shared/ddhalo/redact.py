"""Keep secrets out of logs: every log line is scrubbed as the last step of formatting.

Two nets: the values themselves (each credential, access key and token is remembered when it is
loaded or received) and secret-looking fields by name (``"halo_client_secret": "..."``,
``client_secret=...``, ``Bearer ...``), which also catches a secret we have not seen yet, such as
one in a request body.
"""

from __future__ import annotations

import logging
import re
import threading

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

MASK = "***"
MIN_SECRET = 4  # shorter values are too likely to be ordinary text
SENSITIVE_FIELDS = (
    "dicker_data_access_token|halo_client_secret|halo_client_id|client_secret|client_id|access_token"
    "|webhook_url"
    "|AccessToken|AccessKey|password|authorization|x-api-key"
)
_QUOTED = re.compile(rf'(\\?"(?:{SENSITIVE_FIELDS})\\?"\s*:\s*\\?")((?:[^"\\]|\\.)*?)(\\?")', re.IGNORECASE)
_FORM = re.compile(rf"\b((?:{SENSITIVE_FIELDS})=)([^&\s\"']+)", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)

_known: set[str] = set()
_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Mark values as secret wherever they show up later."""
    with _lock:
        _known.update(v for v in values if v and len(v) >= MIN_SECRET)


def scrub(text: str) -> str:
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    text = _QUOTED.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    text = _FORM.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, scrubbed after everything (message, extras, traceback) is in."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))
