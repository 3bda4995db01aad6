"""Which credentials a boto3 call in this process signs with: the running function's role.

All functions share one process, and their clients are made once and cached (`functools.cache`
factories, Powertools providers), often while another function was running. So the identity is
chosen per request, not per client: every botocore session's credential chain starts with
:class:`RoutedProvider` (`local/patches/botocore.py` puts it there), whose credentials are, at
each signing, those of the function the current thread (context) is executing (`acting_as`),
else the local stack's admin. Local runner only.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials

from local.patches.botocore import put_first_in_every_chain


@dataclass(frozen=True)
class AwsCredentials:
    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def frozen(self) -> ReadOnlyCredentials:
        return ReadOnlyCredentials(self.access_key, self.secret_key, self.token)

    def environment(self) -> dict[str, str]:
        """As `AWS_*` variables, for a child process acting as this identity."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.token:
            env["AWS_SESSION_TOKEN"] = self.token
        return env


_current: ContextVar[AwsCredentials | None] = ContextVar("local_aws_credentials", default=None)
_admin: AwsCredentials | None = None
_install_lock = threading.Lock()


def current() -> AwsCredentials | None:
    """What a request made now would sign with (None: no local stack, the usual chain)."""
    return _current.get() or _admin


@contextlib.contextmanager
def acting_as(credentials: AwsCredentials | None) -> Iterator[None]:
    """AWS calls in this context sign as `credentials` (None: leave the identity as it is)."""
    if credentials is None:
        yield
        return
    token = _current.set(credentials)
    try:
        yield
    finally:
        _current.reset(token)


class RoutedCredentials(Credentials):  # type: ignore[misc]
    """Credentials that are looked up at every signing, never frozen into a client."""

    def __init__(self) -> None:  # no super().__init__: the keys are properties here
        self.method = RoutedProvider.METHOD

    def _resolved(self) -> AwsCredentials:
        found = current()
        if found is None:
            raise RuntimeError("No local AWS identity: the local stack this client was made for has stopped")
        return found

    @property
    def access_key(self) -> str:
        return self._resolved().access_key

    @property
    def secret_key(self) -> str:
        return self._resolved().secret_key

    @property
    def token(self) -> str | None:
        return self._resolved().token

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._resolved().frozen()


class RoutedProvider(CredentialProvider):  # type: ignore[misc]
    """First in every session's chain once a local stack has run; it finds nothing while none runs."""

    METHOD = "local-function-role"
    CANONICAL_NAME = "LocalFunctionRole"

    def load(self) -> Credentials | None:
        return RoutedCredentials() if _admin is not None else None


def install(admin: AwsCredentials) -> None:
    """From now on, sessions sign through :class:`RoutedCredentials`; outside a function as `admin`."""
    global _admin
    with _install_lock:
        put_first_in_every_chain(RoutedProvider)
        _admin = admin


def uninstall() -> None:
    """Sessions made from now on use the usual chain again (clients already made keep routing)."""
    global _admin
    with _install_lock:
        _admin = None
