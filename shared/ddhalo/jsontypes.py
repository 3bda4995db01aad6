"""Number and boolean types that read JSON the way JSON Schema does (and the OpenAPI document says).

Pydantic's lax mode turns ``"5"`` into 5 and ``0`` into ``False``; its strict mode refuses ``5.0``
for an integer, which JSON Schema calls an integer. These sit in between.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator, StrictBool


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


def _json_integer(value: Any) -> Any:
    value = _json_number(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


# Put bounds before these in ``Annotated[int, Field(ge=1), JSON_INTEGER]``: after them, pydantic
# cannot write the bounds into the JSON schema.
JSON_INTEGER = BeforeValidator(_json_integer)
JSON_NUMBER = BeforeValidator(_json_number)
JsonBool = StrictBool
