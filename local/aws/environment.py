"""The process environment of a local stack: boto3 pointed at moto, and the functions' variables.

One process hosts the runner and every function, and boto3 and the handlers read `os.environ`:
while a stack runs, it sends every client to moto in the stack's region, and holds the variables
the template gives the functions, resolved against the names moto gave the resources, the way
CloudFormation would. Stopping the stack puts back exactly what was there before.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from local.intrinsics import NO_VALUE, Resolver, cfn_string
from local.template import Function

log = logging.getLogger(__name__)

DEFAULT_METRICS_NAMESPACE = "ddhalo-local"
# Variables that would send boto3 somewhere other than moto, or sign as a real identity.
_CLEARED = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)  # fmt: skip
# What the environment's credential variables hold: a key the gate refuses. In-process clients
# sign through the routed credentials (a role, or admin); anything that does not is a leak.
UNROUTED_KEY = "LOCAL-UNROUTED-KEY"


class EnvPatch:
    """Changes os.environ and can put back exactly what was there before."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str | None) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


def point_boto3_at(env: EnvPatch, endpoint_url: str, region: str) -> None:
    """Clients made from now on reach `endpoint_url` in `region`; the only keys in the
    environment are :data:`UNROUTED_KEY`."""
    for name in [*_CLEARED, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]:
        env.set(name, None)
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": UNROUTED_KEY,
        "AWS_SECRET_ACCESS_KEY": UNROUTED_KEY,
    }.items():
        env.set(name, value)


def function_environment(fn: Function, resolver: Resolver) -> dict[str, str]:
    """The function's variables as Lambda would see them (strings, `AWS::NoValue` dropped)."""
    env: dict[str, str] = {}
    for name, raw in fn.environment.items():
        value = resolver.resolve(raw)
        if value is NO_VALUE:
            continue
        env[name] = cfn_string(value)
        if "${" in env[name]:
            log.warning("%s: %s=%s could not be fully resolved locally", fn.logical_id, name, env[name])
    return env


def merged_environment(functions: Iterable[Function], resolver: Resolver) -> dict[str, str]:
    """Every function's variables in one environment (one process hosts them all; the first
    function keeps a name two disagree on), with what running locally needs."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for fn in functions:
        for name, value in function_environment(fn, resolver).items():
            if name in merged and merged[name] != value:
                log.warning(
                    "%s and %s disagree on %s; using %s's value",
                    owner[name],
                    fn.logical_id,
                    name,
                    owner[name],
                )
                continue
            merged.setdefault(name, value)
            owner.setdefault(name, fn.logical_id)
    merged["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon locally
    # One process is the only "container", with one in-process worker: it has the whole budget.
    merged["HALO_RATE_SHARE"] = "1"
    # No sign-in on loopback (the `make serve` contract): the console loads without Cognito,
    # and the runner hands each request an operator's claims (``local.invoke.jwt_context``).
    merged["CONSOLE_AUTH_DOMAIN"] = merged["CONSOLE_CLIENT_ID"] = ""
    # The fakes listen on 127.0.0.1: upstream URLs may name loopback here (never deployed).
    merged["ALLOW_LOOPBACK_UPSTREAMS"] = "true"
    merged.setdefault("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE)
    return merged
