"""The environment model against template.yaml: it names exactly the variables the template gives
the functions, and no deployed function may call a loopback upstream."""

from pathlib import Path

from ddhalo_lambda.environment import Environment
from local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_the_model_names_exactly_the_variables_the_template_gives():
    functions = load_template(TEMPLATE).functions.values()
    # All but the ones their readers read themselves: Powertools' and glibc's.
    given = {
        name for fn in functions for name in fn.environment if not name.startswith(("POWERTOOLS_", "MALLOC_"))
    }
    assert given == {field.alias for field in Environment.model_fields.values()}
    for fn in functions:  # and each function's own set is enough to start it
        Environment.from_env(dict.fromkeys(fn.environment, "1"))


def test_deployed_no_function_may_call_a_loopback_upstream():
    """The template says false wherever the switch is read; only the local runner says true."""
    functions = load_template(TEMPLATE).functions
    given = {fid: fn.environment.get("ALLOW_LOOPBACK_UPSTREAMS") for fid, fn in functions.items()}
    assert {fid for fid, value in given.items() if value is not None} == {
        "SettingsFunction",
        "TestConfigFunction",
    }
    assert {value for value in given.values() if value is not None} == {"false"}
    assert Environment.from_env(
        {"TABLE_NAME": "t", "SECRET_ID": "s", "ALLOW_LOOPBACK_UPSTREAMS": "false"}
    ) == (Environment.from_env({"TABLE_NAME": "t", "SECRET_ID": "s"}))
