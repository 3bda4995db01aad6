"""The deployed shape: template.yaml transformed by the SAM translator, as `sam deploy` would."""

import copy
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform

from local.template import load_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _NoManagedPolicies:
    """The translator asks IAM for managed-policy ARNs; offline, names stay names."""

    def load(self) -> dict:
        return {}


@pytest.fixture(scope="session")
def sam_template() -> dict:
    return load_yaml(TEMPLATE)


@pytest.fixture(scope="session")
def synthesized(sam_template) -> dict:
    doc = copy.deepcopy(sam_template)
    for name, resource in doc["Resources"].items():  # what `sam package` does to local paths
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://deployment-bucket/{name}.zip"
    return transform(doc, {}, _NoManagedPolicies())
