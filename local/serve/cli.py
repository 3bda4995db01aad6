"""`python -m local.serve`: the command line of `make serve` (a `LocalApp` that keeps its state in
a file), running until SIGINT or SIGTERM; a start that cannot happen ends in one sentence."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import local.serve
from local.serve.app import DEFAULT_PORT, LocalApp
from local.serve.paths import DEFAULT_STATE_FILE, DEFAULT_TEMPLATE, ROOT
from local.serve.state_file import StateFileError


def _positive_seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    description = (local.serve.__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m local.serve", description=description)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or DEFAULT_PORT),
        help="port on 127.0.0.1 (default: $PORT or 3000; 0 picks a free one)",
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="SAM template to serve")
    parser.add_argument(
        "--state-file",
        type=Path,
        default=DEFAULT_STATE_FILE,
        metavar="PATH",
        help="where settings, secrets, mappings and runs are kept between starts "
        f"(default: {DEFAULT_STATE_FILE.relative_to(ROOT)} in the checkout; credentials in plain text)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="discard the saved state and start from the seeded defaults"
    )
    parser.add_argument(
        "--schedule-every",
        type=_positive_seconds,
        metavar="SECONDS",
        default=None,
        help="fire every Schedule event this often (default: never)",
    )
    return parser.parse_args(argv)


def app_from_args(args: argparse.Namespace) -> LocalApp:
    """The app `make serve` runs: unlike the default `LocalApp`, it keeps its state in a file."""
    return LocalApp(
        args.port,
        template=args.template,
        schedule_every=args.schedule_every,
        state_file=args.state_file,
        fresh=args.fresh,
    )


def _started(app: LocalApp, port: int) -> bool:
    """Start ``app``; a start refused for a reason the person can fix is said in one sentence."""
    try:
        app.start()
    except StateFileError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"Cannot start: {exc} (is port {port} in use? set PORT or --port)", file=sys.stderr)
        return False
    except Exception as exc:
        from ddhalo.errors import InputError  # importable once the start put the layer on the path

        if not isinstance(exc, InputError):
            raise
        # An upstream variable the functions' URL rule refuses (169.254.169.254, http:// to a host).
        print(
            f"Cannot start: {exc.message} Set the upstream variables to public https:// URLs.",
            file=sys.stderr,
        )
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(name)s: %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("local").setLevel(logging.INFO)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    app = app_from_args(args)
    if not _started(app, args.port):
        return 1
    try:
        print(app.banner(), flush=True)
        while not stop.wait(1):
            pass
    finally:
        app.stop()
    print("Stopped.", flush=True)
    return 0
