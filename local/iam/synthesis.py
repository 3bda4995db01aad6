"""The CloudFormation `sam deploy` would create from the SAM template, made offline.

The roles the local stack enforces must be the deployed ones, SAM's additions included (policy
templates expanded, the poller policy of an SQS event source), so they are read from the SAM
translator's own output rather than from template.yaml. Managed policies are answered from the
copy of AWS's documents that moto ships, so neither synthesis nor evaluation asks AWS.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_yaml

REGION = "ap-southeast-2"  # where the local stack "runs" (the tests' and the runner's region)


@functools.cache
def _aws_managed_policies() -> dict[str, dict[str, Any]]:
    """AWS managed policies by name, as moto ships them (`Document`, `Path`, ...)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return data


def managed_policy_arn(name: str) -> str:
    """`AWSLambdaBasicExecutionRole` → `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`."""
    path = _aws_managed_policies().get(name, {}).get("Path", "/")
    return f"arn:aws:iam::aws:policy{path}{name}"


def managed_policy_document(arn: str) -> dict[str, Any] | None:
    """The document of an AWS managed policy, by ARN (None for one moto does not know)."""
    found = re.fullmatch(r"arn:aws[\w-]*:iam::aws:policy(/(?:[^/]+/)*)([^/]+)", arn)
    entry = _aws_managed_policies().get(found.group(2)) if found else None
    if found is None or entry is None or entry.get("Path", "/") != found.group(1):
        return None
    document: dict[str, Any] = entry["Document"]
    return document


class ManagedPolicyNames:
    """The translator's managed-policy lookup (`Policies: [AmazonS3ReadOnlyAccess]` → its ARN),
    answered from moto's copy instead of asking IAM, so synthesis works offline."""

    def load(self) -> dict[str, str]:
        return {name: managed_policy_arn(name) for name in _aws_managed_policies()}


def synthesize(path: Path | str, region: str = REGION) -> dict[str, Any]:
    """The CloudFormation `sam deploy` would create from this SAM template (a fresh copy).

    Local paths become S3 URIs first, as `sam package` does. Cached per process by the file's
    content, since every local stack start needs it and the translator takes a while to import.
    """
    path = Path(path).resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return copy.deepcopy(_synthesize(str(path), digest, region))


@functools.lru_cache(maxsize=16)
def _synthesize(path: str, digest: str, region: str) -> dict[str, Any]:
    import boto3
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]
    from samtranslator.utils.py27hash_fix import (  # type: ignore[import-untyped]
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    doc = load_yaml(Path(path))
    holders = [(name, (res or {}).get("Properties")) for name, res in (doc.get("Resources") or {}).items()]
    holders.append(("Globals", (doc.get("Globals") or {}).get("Function")))
    for name, props in holders:  # what `sam package` does
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props, dict) and isinstance(props.get(key), str):
                props[key] = f"s3://deployment-bucket/{name}.zip"
    parameters: dict[str, Any] = {}
    to_py27_compatible_template(doc, parameters)
    # The translator reads the region from a boto3 session: give it one, never the environment's.
    session = boto3.session.Session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
    translator = Translator(None, Parser(), boto_session=session)
    names = ManagedPolicyNames().load()
    out = translator.translate(doc, parameter_values=parameters, get_managed_policy_map=lambda: names)
    result: dict[str, Any] = undo_mark_unicode_str_in_template(out)
    return result
