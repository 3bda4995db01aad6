"""The one plain-text table printer (the demo's and the bench's reports)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_NUMBER = re.compile("[-+]?[\\d.,]+[%x\u00d7]?|n/a|")


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces; a word longer than
    ``width`` is the only thing split. A newline in ``text`` always starts a new line; a line
    that fits is kept as it is (its spaces too)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if len(paragraph) <= width:
            lines.append(paragraph)
            continue
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) <= width:
                line += " " + word
                continue
            if line:
                lines.append(line)
            while len(word) > width:
                lines.append(word[:width])
                word = word[width:]
            line = word
        lines.append(line)
    return lines


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int | None = None) -> str:
    """Columns as wide as their widest cell, numbers right-aligned. With ``max_width``, a longer
    cell wraps onto continuation lines at word boundaries (see :func:`wrap`)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    columns = range(len(headers))
    numeric = [all(_NUMBER.fullmatch(row[i]) for row in cells[1:]) for i in columns]
    limits = [max(len(line) for row in cells for line in row[i].split("\n")) for i in columns]
    if max_width is not None:
        limits = [min(max(1, max_width), w) for w in limits]
    wrapped = [[wrap(value, limits[i]) for i, value in enumerate(row)] for row in cells]
    widths = [max(len(line) for row in wrapped for line in row[i]) for i in columns]
    lines = []
    for n, row in enumerate(wrapped):
        for k in range(max((len(cell) for cell in row), default=1)):
            shown = [cell[k] if k < len(cell) else "" for cell in row]
            lines.append(
                "  ".join(
                    v.rjust(widths[i]) if numeric[i] and n else v.ljust(widths[i])
                    for i, v in enumerate(shown)
                ).rstrip()
            )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
