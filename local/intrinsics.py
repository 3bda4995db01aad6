"""CloudFormation's intrinsic functions, evaluated locally against the names moto gave resources.

A template's values (environment variables, resource properties, policy documents) name other
resources through `Ref`, `Fn::GetAtt`, `Fn::Sub`, ...; :class:`Resolver` answers them as
CloudFormation would once the local stack knows each resource's physical name.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # what `!Ref AWS::NoValue` resolves to: the entry holding it is dropped
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


def cfn_string(value: Any) -> str:
    """How CloudFormation turns a value into a string (environment values are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(cfn_string(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


@dataclass
class Resolver:
    """Evaluates intrinsics against known names: parameters, pseudo parameters, resources.

    `refs` maps a logical id to what `!Ref` answers, `attrs` maps `(id, attribute)` to what
    `!GetAtt` answers. Unknown references are left as `${...}` text (best effort, never raises
    for a reference: local runs should start even when an unused value cannot be resolved).
    """

    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    region: str = "ap-southeast-2"
    account_id: str = "123456789012"
    stack_name: str = "ddhalo-local"

    def pseudo(self) -> dict[str, str]:
        stack_arn = f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/0"
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": stack_arn,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        for table in (self.pseudo(), self.parameters, self.refs):
            if name in table:
                return table[name]
        return f"${{{name}}}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        return self.attrs.get((logical_id, attribute), f"${{{logical_id}.{attribute}}}")

    def resolve(self, value: Any) -> Any:
        """Evaluate intrinsics anywhere inside `value`; `AWS::NoValue` entries are dropped."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions.get(name, False)))

    def sub(self, arg: Any) -> str:
        text, variables = (arg[0], self.resolve(arg[1])) if isinstance(arg, list) else (arg, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return cfn_string(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return cfn_string(self.ref(name))

        return _SUB_VAR.sub(replace, str(text)).replace("${!", "${")


def _get_att(r: Resolver, arg: Any) -> str:
    target = r.resolve(arg)
    lid, attribute = target if isinstance(target, list) else str(target).split(".", 1)
    return r.get_att(str(lid), str(attribute))


def _join(r: Resolver, arg: Any) -> str:
    sep, items = r.resolve(arg)
    return str(sep).join(cfn_string(i) for i in items)


def _if(r: Resolver, arg: Any) -> Any:
    name, yes, no = arg
    return r.resolve(yes if r.condition(str(name)) else no)


def _select(r: Resolver, arg: Any) -> Any:
    index, items = r.resolve(arg)
    return items[int(index)]


def _split(r: Resolver, arg: Any) -> list[str]:
    sep, text = r.resolve(arg)
    return str(text).split(str(sep))


def _equals(r: Resolver, arg: Any) -> bool:
    a, b = r.resolve(arg)
    return cfn_string(a) == cfn_string(b)


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(str(r.resolve(a))),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::Equals": _equals,
    "Fn::Not": lambda r, a: not r.resolve(a)[0],
    "Fn::And": lambda r, a: all(r.resolve(a)),
    "Fn::Or": lambda r, a: any(r.resolve(a)),
    "Condition": lambda r, a: r.condition(str(a)),
    "Fn::ToJsonString": lambda r, a: json.dumps(r.resolve(a), separators=(",", ":")),
    "Fn::Base64": lambda r, a: base64.b64encode(str(r.resolve(a)).encode()).decode(),
}
