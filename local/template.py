"""Read `template.yaml` into typed pieces the local runner needs (no SAM CLI, no Docker).

Only what running locally needs is modelled: functions, their HttpApi routes, SQS and schedule
event sources, and resources by type. Everything is read generically from the template so new
functions, routes and queues work without touching the runner.

Values that name other resources keep their intrinsics (`local/cfn_yaml.py` reads the short
tags); `local/intrinsics.py` evaluates them once the local stack knows the physical names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_yaml
from local.intrinsics import Resolver, cfn_string

# SAM's own defaults when neither the function nor Globals set a value.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY_SIZE = 128
DEFAULT_SQS_BATCH_SIZE = 10
FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
DEFAULT_ROUTE = "$default"

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
    """The template at `path`: its resources, and its functions with Globals applied and their
    events read. Values that name other resources keep their intrinsics."""
    path = Path(path).resolve()
    doc = load_yaml(path)
    resources = {
        lid: Resource(lid, str(spec.get("Type", "")), dict(spec.get("Properties") or {}))
        for lid, spec in (doc.get("Resources") or {}).items()
        if isinstance(spec, dict)
    }
    parameters = dict(doc.get("Parameters") or {})
    globals_ = doc.get("Globals") or {}
    static = Resolver(parameters=_defaults(parameters), conditions=dict(doc.get("Conditions") or {}))
    template = Template(
        path=path,
        parameters=parameters,
        conditions=static.conditions,
        resources=resources,
        functions={},
        routes=[],
        sqs_sources=[],
        schedules=[],
        layer_dirs=_layer_dirs(resources, static, path.parent),
    )
    fn_globals, api_globals = dict(globals_.get("Function") or {}), dict(globals_.get("HttpApi") or {})
    for res in template.of_type(FUNCTION_TYPE):
        template.functions[res.logical_id] = _function(res, fn_globals, static, path.parent)
        _read_events(template, res, static, api_globals)
    return template


def _function(res: Resource, fn_globals: Mapping[str, Any], static: Resolver, root: Path) -> Function:
    props = {**fn_globals, **res.properties}
    env = {
        **((fn_globals.get("Environment") or {}).get("Variables") or {}),
        **((res.properties.get("Environment") or {}).get("Variables") or {}),
    }
    return Function(
        logical_id=res.logical_id,
        code_uri=root / str(static.resolve(props.get("CodeUri", "."))),
        handler=str(static.resolve(props.get("Handler", ""))),
        timeout=_as_int(static.resolve(props.get("Timeout")), DEFAULT_TIMEOUT),
        memory_size=_as_int(static.resolve(props.get("MemorySize")), DEFAULT_MEMORY_SIZE),
        environment=env,
        function_name=_opt_str(static.resolve(props.get("FunctionName"))),
        reserved_concurrency=_opt_int(static.resolve(props.get("ReservedConcurrentExecutions"))),
    )


def _read_events(template: Template, res: Resource, static: Resolver, api_globals: Mapping[str, Any]) -> None:
    """The function's HttpApi routes, SQS sources and schedules, added to the template's."""
    for event_id, event in (res.properties.get("Events") or {}).items():
        etype, eprops = event.get("Type"), dict(event.get("Properties") or {})
        if etype == "HttpApi":
            template.routes.append(_route(res.logical_id, event_id, eprops, template.resources, api_globals))
        elif etype == "SQS":
            template.sqs_sources.append(_sqs(res.logical_id, event_id, eprops, static))
        elif etype in ("Schedule", "ScheduleV2"):
            template.schedules.append(_schedule(res.logical_id, event_id, etype, eprops, static))


def _layer_dirs(resources: Mapping[str, Resource], static: Resolver, root: Path) -> list[Path]:
    return [
        root / str(static.resolve(r.properties.get("ContentUri", ".")))
        for r in resources.values()
        if r.type == LAYER_TYPE and isinstance(static.resolve(r.properties.get("ContentUri")), str)
    ]


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
