"""How a desired record is compared with what we last wrote and with what Halo holds.

Pure, and used by the plans (is there anything to write?) as much as by the apply step (did a
write whose answer was lost land?), so it belongs to neither.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def content_hash(fields: Any) -> str:
    """A stable digest of what we write (the change detector stored beside links and mappings)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def holds(ours: Any, theirs: Any) -> bool:
    """Whether Halo's value ``theirs`` holds what we wrote: Halo echoes values normalised (dates
    with a time, numbers as floats) and objects with more fields than we sent."""
    if isinstance(ours, dict):
        return isinstance(theirs, dict) and all(holds(v, theirs.get(k)) for k, v in ours.items())
    if isinstance(ours, list):
        return isinstance(theirs, list) and all(any(holds(o, t) for t in theirs) for o in ours)
    if ours is None or ours == "":
        return theirs in (None, "")
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return bool(ours) == bool(theirs)
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return float(ours) == float(theirs)
    text, other = str(ours).strip(), str(theirs if theirs is not None else "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return other[:10] == text
    return text == other
