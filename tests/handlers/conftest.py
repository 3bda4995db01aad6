"""The handlers as deployed, called with the events the local runner builds (`local.events`) and
checked against template.yaml; they share the unit tests' moto, table, secret and context."""

from tests.unit.conftest import aws, lambda_context, secrets, store

__all__ = ["aws", "lambda_context", "secrets", "store"]
