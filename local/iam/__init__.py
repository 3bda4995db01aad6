"""IAM as `sam deploy` creates it, and the check of one AWS call against a role (pure parts).

moto does not enforce IAM the way AWS does (its own check authorizes most services against
resource `*` only), so a function missing a permission worked locally and failed when deployed.
Here the roles come from the *synthesized* template (`synthesis`: SAM policy templates, the
poller policy SAM adds for an SQS event source, managed policies with the documents moto ships),
their intrinsics resolved to the local physical names (`roles`); `access.required_access` says
which action on which ARN a request needs, and `policy.evaluate` answers whether a role's
statements allow it, as IAM does for identity-based policies. `local/gate.py` applies both to
every request moto receives.
"""

from local.iam.access import Access, Target, denial_message, required_access
from local.iam.policy import Decision, Statement, evaluate, statements_of
from local.iam.roles import Role, function_roles
from local.iam.synthesis import REGION, managed_policy_arn, managed_policy_document, synthesize

__all__ = [
    "REGION",
    "Access",
    "Decision",
    "Role",
    "Statement",
    "Target",
    "denial_message",
    "evaluate",
    "function_roles",
    "managed_policy_arn",
    "managed_policy_document",
    "required_access",
    "statements_of",
    "synthesize",
]
