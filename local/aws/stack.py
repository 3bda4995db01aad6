"""`LocalAws`: one local stack of the template, on moto in this process, from start to stop."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Self

import boto3
import requests

from local import credentials
from local.aws.environment import EnvPatch, function_environment, merged_environment, point_boto3_at
from local.aws.identities import admin_credentials, function_identities
from local.aws.resources import ACCOUNT_ID, PREFIX, StackResources
from local.aws.server import MotoServer, StackGate
from local.aws.state import StackState
from local.credentials import AwsCredentials
from local.gate import IamGate, WsgiApp
from local.iam import REGION, Role, function_roles, synthesize
from local.intrinsics import Resolver
from local.lifecycle import Started
from local.patches.boto3 import build_conditions_one_at_a_time
from local.template import Function, Template

log = logging.getLogger(__name__)

# moto's backends are process-wide, and so is os.environ: one LocalAws at a time per process.
_ACTIVE = threading.Lock()


@dataclass
class LocalAws(Started):
    """Start with `start()` (or `with`); `resolver` then knows every resource's physical name."""

    template: Template
    region: str = REGION
    prefix: str = PREFIX
    endpoint_url: str = ""
    resolver: Resolver = field(init=False)
    roles: dict[str, Role] = field(default_factory=dict, init=False)  # by function id
    gate: IamGate | None = field(default=None, init=False, repr=False)
    admin: AwsCredentials = field(init=False, repr=False)
    _credentials: dict[str, AwsCredentials] = field(default_factory=dict, init=False, repr=False)
    _resources: StackResources = field(init=False, repr=False)
    _server: MotoServer | None = field(default=None, init=False, repr=False)
    _env: EnvPatch = field(default_factory=EnvPatch, init=False, repr=False)
    _owns_lock: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(
            parameters=self.template.parameter_defaults(),
            conditions=self.template.conditions,
            region=self.region,
            account_id=ACCOUNT_ID,
            stack_name=self.prefix,
        )
        self.admin = admin_credentials()
        self._resources = StackResources(self.template, self.resolver, self.client, self.region, self.prefix)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("Another local AWS is already running in this process; stop it first.")
        self._owns_lock = True
        try:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per moto call is noise
            synthesized = synthesize(self.template.path, self.region)  # fails early on a bad template
            self._server = MotoServer(self._make_gate)
            self.endpoint_url = self._server.start()
            self._point_boto3_here()
            # Backends outlive a stopped server in this process: start from an empty account.
            requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
            self._resources.create()
            self._create_roles(synthesized)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        credentials.uninstall()
        boto3.DEFAULT_SESSION = None  # its credentials route to this stack's identities
        self._env.restore()
        if self._owns_lock:
            self._owns_lock = False
            _ACTIVE.release()

    def _make_gate(self, app: WsgiApp) -> IamGate:
        self.gate = StackGate(app, account=ACCOUNT_ID, secret_arn=self.secret_arn)
        self.gate.admin_keys.add(self.admin.access_key)
        return self.gate

    def _point_boto3_here(self) -> None:
        point_boto3_at(self._env, self.endpoint_url, self.region)
        credentials.install(self.admin)
        build_conditions_one_at_a_time()  # before the clients of this stack are made
        boto3.DEFAULT_SESSION = None  # a session made earlier may hold other credentials

    # -- identities ---------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A client of this stack; it signs as admin, or as the function running when it is used."""
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region)

    def function_credentials(self, function_id: str) -> AwsCredentials:
        """The credentials of the function's role (what Lambda gives the function)."""
        return self._credentials[function_id]

    @property
    def function_credentials_by_id(self) -> dict[str, AwsCredentials]:
        return dict(self._credentials)

    def _create_roles(self, synthesized: dict[str, Any]) -> None:
        """Each function's role as `sam deploy` creates it, assumed as Lambda assumes it."""
        self.roles = function_roles(synthesized, self.resolver, self.prefix)
        if missing := set(self.template.functions) - set(self.roles):  # they would run unchecked
            raise RuntimeError(f"No role synthesized for {sorted(missing)}")
        assert self.gate is not None
        self._credentials.clear()
        self.gate.principals.clear()
        identities = function_identities(
            self.client("iam"), self.client("sts"), self.roles, self.function_name
        )
        for fid, (keys, principal) in identities.items():
            self._credentials[fid] = keys
            self.gate.principals[keys.access_key] = principal

    # -- names ----------------------------------------------------------------------------------
    def secret_arn(self, secret_id: str) -> str:
        """A secret's full ARN from its name, full or partial ARN (IAM checks the full one)."""
        arns = self._resources.secret_arns
        if secret_id in arns:
            return arns[secret_id]
        for arn in arns.values():
            if secret_id == arn or (secret_id.startswith("arn:") and arn.startswith(secret_id + "-")):
                return arn
        if secret_id.startswith("arn:"):
            return secret_id
        return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}:secret:{secret_id}"

    def queue_url(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def queue_arn(self, logical_id: str) -> str:
        return self.resolver.attrs[(logical_id, "Arn")]

    def function_name(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def published(self, topic_logical_id: str) -> list[dict[str, Any]]:
        """What was published to a topic of this stack: subject and message, oldest first."""
        from moto.sns.models import sns_backends  # this process's: the server runs in it

        arn = self.resolver.refs[topic_logical_id]
        topic = sns_backends[ACCOUNT_ID][self.region].topics.get(arn)
        return [
            {"subject": subject, "message": message}
            for _, message, subject, *_ in (topic.sent_notifications if topic else [])
        ]

    # -- the functions' environment ---------------------------------------------------------------
    def function_environment(self, fn: Function) -> dict[str, str]:
        """The function's variables as Lambda would see them (strings, `AWS::NoValue` dropped)."""
        return function_environment(fn, self.resolver)

    def apply_function_environment(self) -> dict[str, str]:
        """One process hosts every function, so their variables are merged into os.environ."""
        merged = merged_environment(self.template.functions.values(), self.resolver)
        for name, value in merged.items():
            self._env.set(name, value)
        return merged

    # -- state between starts -------------------------------------------------------------------
    @property
    def writes(self) -> int:
        """Requests since start that may have changed a table's items or a secret's value."""
        return self.gate.writes if isinstance(self.gate, StackGate) else 0

    def snapshot(self) -> dict[str, Any]:
        """Every item of the template's tables and every secret's current value, by logical id,
        as JSON-ready data (DynamoDB's typed attribute values; binary values in base64)."""
        return self._state().snapshot()

    def restore(self, snapshot: dict[str, Any]) -> int:
        """Put a :meth:`snapshot` back into the (new, empty) resources; answers the items put."""
        return self._state().restore(snapshot)

    def table_items(self, name: str) -> list[dict[str, Any]]:
        return self._state().table_items(name)

    def scan_items(self, name: str) -> list[dict[str, Any]]:
        return self._state().scan_items(name)

    def _backend_items(self, name: str) -> list[dict[str, Any]]:
        """moto's backend copy of a table (tests compare it with :meth:`scan_items`)."""
        return self._state().backend_items(name)

    def _state(self) -> StackState:
        gate = self.gate if isinstance(self.gate, StackGate) else None
        return StackState(self.template, self.resolver, self.client, self.region, gate)
