"""Credentials in Secrets Manager, read through Powertools Parameters (cached per container)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from ddhalo.errors import ConfigurationError
from ddhalo.redact import remember
from ddhalo.settings.model import Credentials

# Short: a credential changed by PUT /settings in one function reaches the others within this.
CACHE_SECONDS = 30


class SecretStore:
    """One JSON secret holding the write-only credentials (``settings.Credentials``)."""

    def __init__(self, secret_id: str, client: Any = None) -> None:
        self.secret_id = secret_id
        self._client = client
        self._provider: parameters.SecretsProvider | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("secretsmanager")
        return self._client

    @property
    def provider(self) -> parameters.SecretsProvider:
        """Our own Parameters provider (its cache and client), not the module-wide default one."""
        if self._provider is None:
            self._provider = parameters.SecretsProvider(boto3_client=self.client)
        return self._provider

    def load(self, *, fresh: bool = False) -> Credentials:
        """The credentials, from this container's cache unless ``fresh`` (a read-change-write
        must start from what is stored now, not from what another container replaced)."""
        try:
            raw = self.provider.get(
                self.secret_id, max_age=CACHE_SECONDS, transform="json", force_fetch=fresh
            )
        except TransformParameterError as exc:
            raise ConfigurationError(
                "The credentials secret is not a JSON object.",
                "Set the credentials again with PUT /settings.",
            ) from exc
        except GetParameterError as exc:
            if "ResourceNotFound" in str(exc):
                return Credentials()
            raise ConfigurationError(
                "Could not read the credentials secret.",
                "Check that the function may read the secret (secretsmanager:GetSecretValue).",
            ) from exc
        credentials = Credentials.model_validate(raw if isinstance(raw, dict) else {})
        remember(*credentials.plain().values())
        return credentials

    def save(self, update: Credentials, clear: set[str] | frozenset[str] = frozenset()) -> Credentials:
        """Merge the new values into the stored ones; values not sent are kept, those in ``clear``
        removed. Callers that may run at once hold a mutex around it
        (``settings.service.update_settings``)."""
        merged = self.load(fresh=True).merged(update, clear)
        self.client.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps(merged.plain()))
        self.provider.clear_cache()  # type: ignore[no-untyped-call]
        return merged
