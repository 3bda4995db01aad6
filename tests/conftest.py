"""Test-wide environment: no real AWS, no tracing daemon, fakes available as fixtures."""

import io
import os
import socket

import pytest

# Set before any boto3 client or Powertools object is created; never real credentials.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "ap-southeast-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "dicker-data-halo",
        "POWERTOOLS_METRICS_NAMESPACE": "DickerDataHalo",
    }
)
os.environ.pop("AWS_PROFILE", None)

_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    """No test reaches beyond this machine: a lookup of any other host fails at once."""
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost", "::1") and not str(name).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, f"tests use loopback only, not {name}")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only

pytest_plugins = ["tests.fixtures.fakes"]


@pytest.fixture(autouse=True)
def _cold_container() -> None:
    """Each test starts as a cold container: no Halo budget or token left by an earlier test."""
    from ddhalo.clients import container_limiter, container_tokens

    container_limiter.cache_clear()
    container_tokens.cache_clear()


@pytest.fixture
def log_lines():
    """Everything the handlers' real Logger writes (its own handler and formatter), in memory."""
    from ddhalo_lambda.observability import logger

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    yield stream
    logger.registered_handler.setStream(previous)
