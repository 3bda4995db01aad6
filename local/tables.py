"""The one plain-text table printer (the demo's and the bench's reports)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_NUMBER = re.compile("[-+]?[\\d.,]+[%x\u00d7]?|n/a|")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int | None = None) -> str:
    """Columns as wide as their widest cell (at most ``max_width``), numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if max_width is not None:
        widths = [min(max_width, w) for w in widths]
    numeric = [all(_NUMBER.fullmatch(row[i]) for row in cells[1:]) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        shown = [value[: widths[i]] for i, value in enumerate(row)]
        lines.append(
            "  ".join(
                v.rjust(widths[i]) if numeric[i] and n else v.ljust(widths[i]) for i, v in enumerate(shown)
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
