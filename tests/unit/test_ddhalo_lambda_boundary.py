"""The core knows nothing of Lambda: no module of shared/ddhalo imports the handler side or
Powertools' event handler, or reads the process environment (ddhalo_lambda.environment does)."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "shared" / "ddhalo"
FORBIDDEN_IMPORTS = ("ddhalo_lambda", "aws_lambda_powertools.event_handler")
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _forbidden(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in FORBIDDEN_IMPORTS)


def lambda_knowledge(source: str) -> list[str]:
    """What in ``source`` the core must not have, as ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # ``from a.b import c`` is a.b, or a.b.c where only the submodule is forbidden.
            names = (
                [node.module] if _forbidden(node.module) else [f"{node.module}.{a.name}" for a in node.names]
            )
            if node.module == "os":
                found += [f"{node.lineno}: os.{a.name}" for a in node.names if a.name in ENVIRONMENT]
        elif isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT:
            found.append(f"{node.lineno}: .{node.attr}")
            continue
        else:
            continue
        found += [f"{node.lineno}: import {n}" for n in names if _forbidden(n)]
    return found


def test_no_core_module_knows_lambda():
    modules = sorted(CORE.rglob("*.py"))
    assert CORE / "store" / "__init__.py" in modules and CORE / "halo" / "client.py" in modules
    found = {
        str(path.relative_to(CORE)): hits for path in modules if (hits := lambda_knowledge(path.read_text()))
    }
    assert found == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import ddhalo_lambda", ["1: import ddhalo_lambda"]),
        ("from ddhalo_lambda.services import services", ["1: import ddhalo_lambda.services"]),
        ("import ddhalo_lambda.entry as e", ["1: import ddhalo_lambda.entry"]),
        (
            "from aws_lambda_powertools.event_handler import Response",
            ["1: import aws_lambda_powertools.event_handler"],
        ),
        (
            "from aws_lambda_powertools import event_handler",
            ["1: import aws_lambda_powertools.event_handler"],
        ),
        ("import os\nx = os.environ['TABLE_NAME']", ["2: .environ"]),
        ("import os\nx = os.getenv('TABLE_NAME')", ["2: .getenv"]),
        ("from os import environ", ["1: os.environ"]),
        # What the core may have: its own modules, Powertools' logging and parameters, os itself.
        ("from ddhalo.store import Store\nfrom ddhalo import lambda_free", []),
        ("from aws_lambda_powertools.utilities import parameters", []),
        ("from aws_lambda_powertools import Logger", []),
        ("import os\npath = os.path.join('a', 'b')", []),
        ("from . import ddhalo_lambda", []),  # a relative import is the core's own module
    ],
)
def test_the_check_finds_what_it_looks_for(source, expected):
    assert lambda_knowledge(source) == expected


FUNCTIONS = CORE.parents[1] / "functions"
FACTORIES = {
    "http_handler",
    "static_http_handler",
    "http_and_schedule_handler",
    "sqs_handler",
    "event_handler",
}


@pytest.mark.parametrize("app", sorted(FUNCTIONS.glob("*/app.py")), ids=lambda p: p.parent.name)
def test_every_function_enters_through_the_one_factory(app):
    """``lambda_handler = <factory>(...)`` from ddhalo_lambda.entry, and no decorator stack of its own."""
    tree = ast.parse(app.read_text())
    (entry,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["lambda_handler"]
    ]
    assert isinstance(entry, ast.Call) and ast.unparse(entry.func) in FACTORIES
    imported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "ddhalo_lambda.entry"
        for alias in node.names
    }
    assert ast.unparse(entry.func) in imported
    decorators = {
        ast.unparse(d)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for d in node.decorator_list
    }
    assert not {d for d in decorators if d.startswith(("logger.", "tracer.", "metrics."))}
