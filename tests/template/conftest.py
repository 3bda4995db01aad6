"""The deployed shape: template.yaml transformed by the SAM translator, as `sam deploy` would."""

from pathlib import Path

import pytest

from local.iam import synthesize
from local.template import load_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="session")
def sam_template() -> dict:
    return load_yaml(TEMPLATE)


@pytest.fixture(scope="session")
def synthesized() -> dict:
    """The same synthesis the local runner enforces IAM from (`local.iam.synthesize`)."""
    return synthesize(TEMPLATE)
