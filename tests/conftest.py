"""Test-wide environment: no real AWS, no tracing daemon, fakes available as fixtures."""

import os

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

pytest_plugins = ["tests.fixtures.fakes"]
