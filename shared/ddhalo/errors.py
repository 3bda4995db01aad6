"""Typed errors that a user can read: what happened, plus a hint of what to try.

Every failure that reaches an API answer, a run item or a log line is one of these, so the
message is always one sentence and never carries a secret or a stack trace.
"""

from __future__ import annotations

import re


class IntegrationError(Exception):
    """Base class: ``code`` is stable for machines, ``message``/``hint`` are for people."""

    code = "integration_error"
    status = 502

    def __init__(self, message: str, hint: str | None = None, *, system: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.system = system

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class ConfigurationError(IntegrationError):
    """A setting or credential is missing or malformed; nothing was sent upstream."""

    code = "not_configured"
    status = 409


class UnreachableError(IntegrationError):
    """The host did not answer (DNS, refused connection, TLS, timeout)."""

    code = "unreachable"


class CredentialError(IntegrationError):
    """Our credentials were refused, or lack a permission: every later call would be refused
    too, so the run stops at once (never retried, never taken for throttling). The code names
    the system: ``halo_auth_failed``, ``dicker_data_auth_failed``."""

    kind = "credential_refused"

    def __init__(self, message: str, hint: str | None = None, *, system: str | None = None) -> None:
        super().__init__(message, hint, system=system)
        prefix = re.sub(r"[^a-z]+", "_", system.lower()).strip("_") + "_" if system else ""
        self.code = prefix + self.kind


class AuthenticationError(CredentialError):
    """The upstream rejected our credentials."""

    kind = "auth_failed"


class PermissionDeniedError(CredentialError):
    """Credentials were accepted but lack a permission (e.g. a Halo API scope)."""

    kind = "permission_denied"


class ThrottledError(IntegrationError):
    """Still throttled after every retry."""

    code = "throttled"


class OutOfTimeError(ThrottledError):
    """Waiting any longer (for Halo's rate window, or the pace) would outlast this invocation.

    Not a failure of the records concerned: the job hands them to a follow-up job. Raised only
    where a :class:`ddhalo.http.Deadline` is set (queued jobs), never to an API caller's request.
    """

    code = "out_of_time"


class UpstreamError(IntegrationError):
    """The upstream answered with an error or with something that is not its API."""

    code = "upstream_error"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        system: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, hint, system=system)
        self.status_code = status_code


class RejectedError(UpstreamError):
    """The upstream refused a record we sent (4xx other than auth/throttling)."""

    code = "rejected"


class InputError(IntegrationError):
    """A caller sent something we cannot act on; answered as a 4xx."""

    code = "bad_request"
    status = 400


class InvalidTokenError(InputError):
    """A ``next_token`` that the listing it was sent to did not give (forged, tampered, foreign)."""

    code = "invalid_next_token"


class NotFoundError(InputError):
    code = "not_found"
    status = 404


class ConflictError(InputError):
    code = "conflict"
    status = 409
