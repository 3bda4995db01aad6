"""Each function's execution role as `sam deploy` creates it, read from the synthesized template
with its intrinsics resolved to the local stack's physical names."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local.iam.policy import Statement, statements_of
from local.iam.synthesis import managed_policy_document
from local.intrinsics import Resolver
from local.template import logical_id_of

log = logging.getLogger(__name__)

LAMBDA_TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}
    ],
}
MAX_ROLE_NAME = 64


@dataclass(frozen=True)
class Role:
    """A function's execution role: what IAM would hold, intrinsics resolved."""

    logical_id: str
    name: str
    trust_policy: dict[str, Any]
    inline: dict[str, dict[str, Any]]  # policy name → document
    managed: tuple[str, ...]  # policy ARNs
    managed_documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # those known

    @property
    def statements(self) -> list[Statement]:
        found = [s for name, doc in self.inline.items() for s in statements_of(doc, name)]
        for arn in self.managed:
            if (doc := self.managed_documents.get(arn)) is not None:
                found += statements_of(doc, arn)
        return found


@dataclass
class _Attached:
    """Standalone policies (`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`) naming one role."""

    inline: dict[str, dict[str, Any]] = field(default_factory=dict)  # policy name → document
    managed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (local ARN, document)


def function_roles(synthesized: Mapping[str, Any], resolver: Resolver, prefix: str) -> dict[str, Role]:
    """Each `AWS::Lambda::Function`'s role, by function logical id (SAM keeps the ids)."""
    resources: Mapping[str, Any] = synthesized.get("Resources") or {}
    attached = _standalone_policies(resources, resolver)
    roles: dict[str, Role] = {}
    for fid, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        role_ref = (res.get("Properties") or {}).get("Role")
        role_id = logical_id_of(role_ref)
        role_res = resources.get(role_id) if role_id else None
        if role_id is None or role_res is None or role_res.get("Type") != "AWS::IAM::Role":
            log.warning(
                "%s: its role %s is not in the template, so it may call nothing locally", fid, role_ref
            )
            roles[fid] = Role(f"{fid}Role", _role_name(prefix, f"{fid}Role"), LAMBDA_TRUST_POLICY, {}, ())
            continue
        props = role_res.get("Properties") or {}
        roles[fid] = _role(role_id, props, resources, resolver, prefix, attached.get(role_id, _Attached()))
    for role in roles.values():
        _warn_unresolved(role)
    return roles


def _standalone_policies(resources: Mapping[str, Any], resolver: Resolver) -> dict[str, _Attached]:
    """By role logical id: the standalone policies that name it in their `Roles`."""
    attached: dict[str, _Attached] = {}
    for lid, res in resources.items():
        kind, props = res.get("Type"), res.get("Properties") or {}
        if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        document = resolver.resolve(props.get("PolicyDocument") or {})
        for role_ref in props.get("Roles") or []:
            role_id = logical_id_of(role_ref)
            if role_id is None:
                continue
            if kind == "AWS::IAM::Policy":
                attached.setdefault(role_id, _Attached()).inline[str(props.get("PolicyName", lid))] = document
            else:
                attached.setdefault(role_id, _Attached()).managed.append((f"local:{lid}", document))
    return attached


def _role_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{logical_id}"[:MAX_ROLE_NAME]


def _role(
    role_id: str,
    props: Mapping[str, Any],
    resources: Mapping[str, Any],
    resolver: Resolver,
    prefix: str,
    attached: _Attached,
) -> Role:
    inline = {
        str(p.get("PolicyName", f"{role_id}Policy{i}")): resolver.resolve(p.get("PolicyDocument") or {})
        for i, p in enumerate(props.get("Policies") or [])
    }
    inline.update(attached.inline)
    managed, documents = _managed_policies(role_id, props, resources, resolver)
    for arn, document in attached.managed:
        managed.append(arn)
        documents[arn] = document
    name = resolver.resolve(props.get("RoleName"))
    return Role(
        logical_id=role_id,
        name=name if isinstance(name, str) else _role_name(prefix, role_id),
        trust_policy=resolver.resolve(props.get("AssumeRolePolicyDocument") or LAMBDA_TRUST_POLICY),
        inline=inline,
        managed=tuple(managed),
        managed_documents=documents,
    )


def _managed_policies(
    role_id: str, props: Mapping[str, Any], resources: Mapping[str, Any], resolver: Resolver
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The role's `ManagedPolicyArns` and the documents of those known locally: the template's
    own managed policies (`local:<id>`) and AWS's that moto ships."""
    managed: list[str] = []
    documents: dict[str, dict[str, Any]] = {}
    for raw in props.get("ManagedPolicyArns") or []:
        ref = logical_id_of(raw)
        target = resources.get(ref) if ref else None
        if target is not None and target.get("Type") == "AWS::IAM::ManagedPolicy":
            arn = f"local:{ref}"
            documents[arn] = resolver.resolve((target.get("Properties") or {}).get("PolicyDocument") or {})
        else:
            arn = str(resolver.resolve(raw))
            document = managed_policy_document(arn)
            if document is None:
                log.warning(
                    "%s: managed policy %s is unknown locally, so it grants nothing here", role_id, arn
                )
            else:
                documents[arn] = document
        managed.append(arn)
    return managed, documents


def _warn_unresolved(role: Role) -> None:
    for statement in role.statements:
        for resource in (*(statement.resources or ()), *(statement.not_resources or ())):
            if "${" in resource:
                log.warning(
                    "%s: %s cannot be resolved locally, so it matches nothing", role.logical_id, resource
                )
