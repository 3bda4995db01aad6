"""moto on loopback standing in for the template's DynamoDB tables, secrets, queues and topics.

Every boto3 client in the process (handlers, Powertools Parameters, the runner) reaches moto
through `AWS_ENDPOINT_URL`, so handler code runs unchanged. Resources are created from the
template's own Properties (`resources`), and the functions' environment variables are resolved
against the names moto gave them, the way CloudFormation would (`environment`).

IAM is as deployed: each function's role is created from the synthesized template and assumed
(`identities`), and every request moto receives is checked against the role that signed it
(`server`, `local/gate.py`); the runner itself, and tests, sign with the stack's admin key
(`local/credentials.py`).

`LocalAws.snapshot()` and `restore()` carry the tables' items and the secrets' values from one
start to the next (`state`); `writes` counts the requests that may have changed them, so a saver
knows when there is something new to save.
"""

from local.aws.environment import UNROUTED_KEY
from local.aws.resources import ACCOUNT_ID, PREFIX
from local.aws.stack import LocalAws

__all__ = ["ACCOUNT_ID", "PREFIX", "UNROUTED_KEY", "LocalAws"]
