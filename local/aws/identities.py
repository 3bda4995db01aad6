"""Who signs the requests moto receives: the stack's admin, and each function as its role.

Each function's role is created in moto as `sam deploy` creates it and assumed as Lambda assumes
it; its session's access key is what the gate knows the function by (a `Principal`, with the
role's statements). The admin key is the runner's and the tests' own, and passes unchecked.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from local.credentials import AwsCredentials
from local.gate import Principal
from local.iam import Role

MAX_SESSION_NAME = 64


def admin_credentials() -> AwsCredentials:
    """A fresh admin key, shaped like AWS's (20 upper-case letters and digits)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    access_key = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    return AwsCredentials(access_key, secrets.token_urlsafe(30))


def function_identities(
    iam: Any, sts: Any, roles: Mapping[str, Role], session_name: Callable[[str], str]
) -> dict[str, tuple[AwsCredentials, Principal]]:
    """By function id: the credentials of its assumed role, and what the gate knows it as.

    One request at a time: moto's IAM backend is not thread-safe (a put_role_policy looking its
    role up while another thread creates one fails with "dictionary changed size during
    iteration"), and threads saved no time on this in-process server anyway.
    """
    by_name = {role.name: role for role in roles.values()}
    arns = {name: _create_role(iam, role) for name, role in by_name.items()}
    identities: dict[str, tuple[AwsCredentials, Principal]] = {}
    for fid, role in roles.items():
        assumed = sts.assume_role(
            RoleArn=arns[role.name], RoleSessionName=session_name(fid)[:MAX_SESSION_NAME]
        )
        keys = assumed["Credentials"]
        credentials = AwsCredentials(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])
        principal = Principal(fid, assumed["AssumedRoleUser"]["Arn"], tuple(role.statements))
        identities[fid] = (credentials, principal)
    return identities


def _create_role(iam: Any, role: Role) -> str:
    created = iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(role.trust_policy))
    arn: str = created["Role"]["Arn"]
    for name, document in role.inline.items():
        # IAM takes a document without a Version (2008-10-17); moto insists on one.
        versioned = {"Version": "2012-10-17", **document}
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(versioned))
    # moto loads no AWS managed policies to attach: the gate reads their documents from its data.
    return arn
