"""Where the runner finds the checkout's files and keeps its own."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "template.yaml"
# Where `make serve` keeps its state between starts (git ignores `.local-state/`).
DEFAULT_STATE_FILE = ROOT / ".local-state" / "state.json"


def shown_path(path: Path) -> Path:
    """A path as a person reads it: relative to the checkout when it is in it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
