"""Operable in AWS: log retention, an alarm for a crashed scheduled sync, a layer without a second
AWS SDK that holds every package the functions import, the runtime's Python everywhere, and a
deploy configuration with no account in it."""

import ast
import re
import shutil
import subprocess
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from tests.template.conftest import TEMPLATE

ROOT = TEMPLATE.parent
AWS_SDK = {"boto3", "botocore", "s3transfer", "awscrt"}


def of_type(synthesized, kind: str) -> dict:
    return {k: v for k, v in synthesized["Resources"].items() if v["Type"] == kind}


def test_every_function_logs_to_a_group_with_retention(synthesized):
    groups = of_type(synthesized, "AWS::Logs::LogGroup")
    functions = of_type(synthesized, "AWS::Lambda::Function")
    assert len(functions) == 14
    for name, function in functions.items():
        ref = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[ref]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())


def test_a_crashed_scheduled_sync_raises_an_alarm(synthesized):
    alarms = of_type(synthesized, "AWS::CloudWatch::Alarm").values()
    on_sync = [
        a["Properties"]
        for a in alarms
        if a["Properties"]["MetricName"] == "Errors"
        and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SyncFunction"}}]
    ]
    assert on_sync and on_sync[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements install (from this venv's metadata)."""
    seen: set[str] = set()
    pending = [Requirement(r) for r in requirements]
    while pending:
        req = pending.pop()
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for raw in metadata.requires(name) or []:
            child = Requirement(raw)
            extras = req.extras or {""}
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                pending.append(child)
    return seen


def test_the_layer_carries_no_aws_sdk_of_its_own(sam_template):
    assert sam_template["Resources"]["CoreLayer"]["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / "shared" / "Makefile").read_text()
    assert "build-CoreLayer:" in makefile
    removed = set(re.search(r"^RUNTIME_PROVIDED := (.+)$", makefile, re.MULTILINE).group(1).split())
    lines = (ROOT / "shared" / "requirements.txt").read_text().splitlines()
    installed = _closure([line for line in lines if line.strip() and not line.startswith("#")])
    assert "botocore" in installed  # pulled by aws-xray-sdk: the reason for the build step
    assert installed & AWS_SDK <= removed


def test_the_layer_holds_the_core_and_the_handler_side_and_no_bytecode(tmp_path):
    """shared/Makefile's copy step as `sam build` runs it (PYTHON=true skips the pip step, which
    needs PyPI): both packages, file for file, and every shared package a function imports."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine")
    shared = ROOT / "shared"
    (shared / "ddhalo_lambda" / "__pycache__").mkdir(exist_ok=True)  # as any test run leaves
    layer = tmp_path / "python"
    layer.mkdir()
    subprocess.run(  # noqa: S603
        [make, "-s", "-C", str(shared), "build-CoreLayer", f"ARTIFACTS_DIR={tmp_path}", "PYTHON=true"],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in layer.iterdir()) == ["ddhalo", "ddhalo_lambda"]
    assert not list(layer.rglob("__pycache__"))
    for package in ("ddhalo", "ddhalo_lambda"):
        sources = {
            p.relative_to(shared) for p in (shared / package).rglob("*.py") if "__pycache__" not in p.parts
        }
        assert {p.relative_to(layer) for p in (layer / package).rglob("*.py")} == sources
    ours = {p.name for p in shared.iterdir() if (p / "__init__.py").is_file()}
    imported = set()
    for app in ROOT.glob("functions/*/app.py"):
        for node in ast.walk(ast.parse(app.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.partition(".")[0])
            elif isinstance(node, ast.Import):
                imported |= {alias.name.partition(".")[0] for alias in node.names}
    assert imported & ours == {"ddhalo", "ddhalo_lambda"} == ours


def test_lambda_local_and_ci_use_the_same_python(sam_template):
    runtime = sam_template["Globals"]["Function"]["Runtime"]
    assert runtime == "python3.13"
    assert sam_template["Resources"]["CoreLayer"]["Properties"]["CompatibleRuntimes"] == [runtime]
    assert re.search(r"^RUNTIME := 3\.13$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert "--python-version 3.13" in (ROOT / "shared" / "Makefile").read_text()


def test_the_committed_deploy_configuration_names_no_account():
    text = (ROOT / "samconfig.toml").read_text()
    config = tomllib.loads(text)
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["resolve_s3"] is True and deploy["capabilities"] == "CAPABILITY_IAM"
    assert not re.search(r"\b\d{12}\b", text), "an account id"
    assert not {"region", "s3_bucket", "profile"} & {
        k for section in config["default"].values() for k in section["parameters"]
    }
    assert "samconfig.toml" not in (ROOT / ".gitignore").read_text().split()
