"""The one Powertools Logger (every line redacted), Tracer and Metrics of the app's handlers."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from ddhalo.redact import RedactingFormatter

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
metrics = Metrics()
