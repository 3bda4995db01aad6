"""The unit tests' table (tests/unit/conftest.py) is the one template.yaml defines."""

from pathlib import Path

from local.template import load_template
from tests.unit.conftest import TABLE

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_the_unit_tests_table_has_the_templates_keys_and_index():
    (table,) = load_template(TEMPLATE).tables
    assert {key: table.properties[key] for key in TABLE} == TABLE
