"""botocore: one credential provider first in the chain of every session, wherever it is made.

The local runner hosts every function in one process, and one boto3 client serves several of them
in turn (the shared code caches its clients), so the identity a request signs with is chosen at
each signing (`local/credentials.py`). The sessions are made out of the runner's sight: boto3's
default one by the handlers' code, others by libraries (Powertools' idempotency layer makes its
own `boto3.session.Session()`). botocore's public ways to change credentials are per session
(`session.get_component("credential_provider").insert_before(...)`, its event hooks) or per
client; none reaches a session the runner does not hold. Every session builds its chain by calling
the module function `botocore.credentials.create_credential_resolver` when it first needs
credentials: wrapping it is the one place all chains pass. tests/local/test_library_shapes.py
fails the day botocore stops building chains there or changes their shape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import botocore.credentials
from botocore.credentials import CredentialProvider

_lock = threading.Lock()
_original: Callable[..., Any] | None = None
_make_first: Callable[[], CredentialProvider] | None = None


def put_first_in_every_chain(make_provider: Callable[[], CredentialProvider]) -> None:
    """Chains built from now on start with `make_provider()` (explicit keys given to a client or a
    session bypass every chain, so those still sign as given). Idempotent; lasts for the process."""
    global _original, _make_first
    with _lock:
        _make_first = make_provider
        if _original is None:
            _original = botocore.credentials.create_credential_resolver
            botocore.credentials.create_credential_resolver = _resolver_with_first


def _resolver_with_first(*args: Any, **kwargs: Any) -> Any:
    assert _original is not None
    resolver = _original(*args, **kwargs)
    if _make_first is not None:
        resolver.providers.insert(0, _make_first())
    return resolver
