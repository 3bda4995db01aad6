"""Secrets never reach the logs: lines are written through the real Powertools Logger and searched."""

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from ddhalo import redact
from ddhalo.redact import RedactingFormatter, remember, scrub


@pytest.fixture
def log():
    stream = io.StringIO()
    logger = Logger(
        service=f"redact-test-{id(stream)}",
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    return logger, stream.getvalue


def test_remembered_values_are_masked_everywhere(log):
    logger, read = log
    remember("tok-SECRET-1234")
    logger.info("calling with tok-SECRET-1234", extra={"detail": {"nested": ["x tok-SECRET-1234 y"]}})
    try:
        raise RuntimeError("failed for tok-SECRET-1234")
    except RuntimeError:
        logger.exception("boom")
    out = read()
    assert "tok-SECRET-1234" not in out
    assert out.count(redact.MASK) >= 3
    assert all(json.loads(line) for line in out.splitlines())  # still valid JSON lines


def test_secret_fields_are_masked_even_when_never_seen(log):
    logger, read = log
    body = json.dumps({"halo_client_secret": "brand-new-value", "region": "AU"})
    logger.info(
        "event", extra={"body": body, "form": "grant_type=client_credentials&client_secret=abc123xyz&x=1"}
    )
    logger.info(
        {"dicker_data_access_token": "another-new-one", "headers": {"Authorization": "Bearer eyJhbGciOi"}}
    )
    out = read()
    for secret in ("brand-new-value", "abc123xyz", "another-new-one", "eyJhbGciOi"):
        assert secret not in out
    assert '"region": "AU"' in out or '\\"region\\": \\"AU\\"' in out  # ordinary fields stay readable


def test_flags_and_short_strings_are_left_alone():
    text = '{"halo_client_id_set": true, "message": "ok"}'
    remember("ok")  # too short to be a secret: never masks ordinary words
    assert scrub(text) == text
