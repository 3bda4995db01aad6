"""Read `template.yaml` into typed pieces the local runner needs (no SAM CLI, no Docker).

Only what running locally needs is modelled: functions, their HttpApi routes, SQS and schedule
event sources, and resources by type. Everything is read generically from the template so new
functions, routes and queues work without touching the runner.

CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`, ...) become the long-form intrinsic dicts
(`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`), which :class:`Resolver` evaluates once the physical
names of resources are known.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# SAM's own defaults when neither the function nor Globals set a value.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY_SIZE = 128
DEFAULT_SQS_BATCH_SIZE = 10
FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
DEFAULT_ROUTE = "$default"

# -- YAML -------------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation short tags."""


def _intrinsic(name: str) -> Callable[[CfnLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":  # `!GetAtt Res.Attr` is `[Res, Attr]` in long form
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _tag in (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "GetAtt", "If", "ImportValue",
    "Join", "Not", "Or", "Select", "Split", "Sub", "Transform", "Length", "ToJsonString",
):  # fmt: skip
    CfnLoader.add_constructor(f"!{_tag}", _intrinsic(f"Fn::{_tag}"))
CfnLoader.add_constructor("!Ref", _intrinsic("Ref"))
CfnLoader.add_constructor("!Condition", _intrinsic("Condition"))


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


# -- model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Function:
    """A function with Globals applied; `environment` values may still hold intrinsics."""

    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory_size: int
    environment: dict[str, Any]
    function_name: str | None = None
    # ReservedConcurrentExecutions: at most this many invocations at once (None: no cap).
    reserved_concurrency: int | None = None

    @property
    def module_path(self) -> Path:
        """`app.lambda_handler` → `<CodeUri>/app.py`; `pkg.mod.fn` → `<CodeUri>/pkg/mod.py`."""
        module = self.handler.rpartition(".")[0]
        return self.code_uri.joinpath(*module.split(".")).with_suffix(".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class Route:
    """One HttpApi route; `path` keeps the template's `{param}` / `{proxy+}` placeholders."""

    method: str  # upper case; ANY matches every method
    path: str  # `$default` for the catch-all route
    function_id: str
    event_id: str
    auth: bool
    api_id: str | None = None

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSource:
    function_id: str
    event_id: str
    queue_id: str
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool = True
    # ScalingConfig.MaximumConcurrency: invocations the event source runs at once (None: unset).
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduleSource:
    """A `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler) event."""

    function_id: str
    event_id: str
    kind: str  # "Schedule" or "ScheduleV2"
    expression: str
    input: str | None
    enabled: bool = True
    name: Any = None  # the rule's Name property, unresolved (it may `!Sub` the stack name)


@dataclass
class Template:
    path: Path
    parameters: dict[str, Any]
    conditions: dict[str, Any]
    resources: dict[str, Resource]
    functions: dict[str, Function]
    routes: list[Route]
    sqs_sources: list[SqsSource]
    schedules: list[ScheduleSource]
    layer_dirs: list[Path] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.path.parent

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]

    @property
    def tables(self) -> list[Resource]:
        return self.of_type("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")

    @property
    def secrets(self) -> list[Resource]:
        return self.of_type("AWS::SecretsManager::Secret")

    @property
    def queues(self) -> list[Resource]:
        return self.of_type("AWS::SQS::Queue")

    def parameter_defaults(self) -> dict[str, str]:
        return _defaults(self.parameters)


def load_template(path: Path | str) -> Template:
    path = Path(path).resolve()
    doc = load_yaml(path)
    raw = doc.get("Resources") or {}
    resources = {
        lid: Resource(lid, str(spec.get("Type", "")), dict(spec.get("Properties") or {}))
        for lid, spec in raw.items()
        if isinstance(spec, dict)
    }
    parameters = dict(doc.get("Parameters") or {})
    globals_ = doc.get("Globals") or {}
    static = Resolver(parameters=_defaults(parameters), conditions=dict(doc.get("Conditions") or {}))
    fn_globals = dict(globals_.get("Function") or {})
    api_globals = dict(globals_.get("HttpApi") or {})

    functions: dict[str, Function] = {}
    routes: list[Route] = []
    sqs: list[SqsSource] = []
    schedules: list[ScheduleSource] = []
    for res in resources.values():
        if res.type != FUNCTION_TYPE:
            continue
        props = {**fn_globals, **res.properties}
        env = {
            **((fn_globals.get("Environment") or {}).get("Variables") or {}),
            **((res.properties.get("Environment") or {}).get("Variables") or {}),
        }
        functions[res.logical_id] = Function(
            logical_id=res.logical_id,
            code_uri=path.parent / str(static.resolve(props.get("CodeUri", "."))),
            handler=str(static.resolve(props.get("Handler", ""))),
            timeout=_as_int(static.resolve(props.get("Timeout")), DEFAULT_TIMEOUT),
            memory_size=_as_int(static.resolve(props.get("MemorySize")), DEFAULT_MEMORY_SIZE),
            environment=env,
            function_name=_opt_str(static.resolve(props.get("FunctionName"))),
            reserved_concurrency=_opt_int(static.resolve(props.get("ReservedConcurrentExecutions"))),
        )
        for event_id, event in (res.properties.get("Events") or {}).items():
            etype, eprops = event.get("Type"), dict(event.get("Properties") or {})
            if etype == "HttpApi":
                routes.append(_route(res.logical_id, event_id, eprops, resources, api_globals))
            elif etype == "SQS":
                sqs.append(_sqs(res.logical_id, event_id, eprops, static))
            elif etype in ("Schedule", "ScheduleV2"):
                schedules.append(_schedule(res.logical_id, event_id, etype, eprops, static))

    layer_dirs = [
        path.parent / str(static.resolve(r.properties.get("ContentUri", ".")))
        for r in resources.values()
        if r.type == LAYER_TYPE and isinstance(static.resolve(r.properties.get("ContentUri")), str)
    ]
    return Template(
        path=path,
        parameters=parameters,
        conditions=static.conditions,
        resources=resources,
        functions=functions,
        routes=routes,
        sqs_sources=sqs,
        schedules=schedules,
        layer_dirs=layer_dirs,
    )


def _route(
    function_id: str,
    event_id: str,
    props: dict[str, Any],
    resources: Mapping[str, Resource],
    api_globals: Mapping[str, Any],
) -> Route:
    api_id = logical_id_of(props.get("ApiId"))
    api = resources.get(api_id) if api_id else None
    api_props = api.properties if api else dict(api_globals)
    default_auth = (api_props.get("Auth") or {}).get("DefaultAuthorizer")
    event_auth = (props.get("Auth") or {}).get("Authorizer", default_auth)
    has_path = "Path" in props or "Method" in props
    return Route(
        method=str(props.get("Method", "ANY")).upper() if has_path else "ANY",
        path=str(props.get("Path", "/")) if has_path else DEFAULT_ROUTE,
        function_id=function_id,
        event_id=event_id,
        auth=event_auth not in (None, "NONE"),
        api_id=api_id,
    )


def _sqs(function_id: str, event_id: str, props: dict[str, Any], static: Resolver) -> SqsSource:
    queue_id = logical_id_of(props.get("Queue"))
    if queue_id is None:
        raise ValueError(f"{function_id}.{event_id}: SQS Queue must be !GetAtt <Queue>.Arn or !Ref")
    return SqsSource(
        function_id=function_id,
        event_id=event_id,
        queue_id=queue_id,
        batch_size=_as_int(static.resolve(props.get("BatchSize")), DEFAULT_SQS_BATCH_SIZE),
        report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        enabled=static.resolve(props.get("Enabled", True)) not in (False, "false", "False"),
        maximum_concurrency=_opt_int(
            static.resolve((props.get("ScalingConfig") or {}).get("MaximumConcurrency"))
        ),
    )


def _schedule(
    function_id: str, event_id: str, kind: str, props: dict[str, Any], static: Resolver
) -> ScheduleSource:
    expression = props.get("Schedule" if kind == "Schedule" else "ScheduleExpression", "")
    raw_input = static.resolve(props.get("Input"))
    enabled = static.resolve(props.get("Enabled", True)) not in (False, "false", "False")
    state = static.resolve(props.get("State"))
    return ScheduleSource(
        function_id=function_id,
        event_id=event_id,
        kind=kind,
        expression=str(static.resolve(expression)),
        input=raw_input if isinstance(raw_input, str) or raw_input is None else json.dumps(raw_input),
        enabled=enabled and state != "DISABLED",
        name=props.get("Name"),
    )


def logical_id_of(value: Any) -> str | None:
    """The resource a `!Ref X` / `!GetAtt X.Attr` points at (None for anything else)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    return None


def _defaults(parameters: Mapping[str, Any]) -> dict[str, str]:
    return {k: cfn_string(v.get("Default", "")) for k, v in parameters.items() if isinstance(v, dict)}


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _opt_int(value: Any) -> int | None:
    """An integer property, or None when it is absent or not a number (an unresolved reference)."""
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def cfn_string(value: Any) -> str:
    """How CloudFormation turns a value into a string (environment values are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(cfn_string(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


# -- intrinsic functions ----------------------------------------------------------------------

NO_VALUE = object()
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


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
