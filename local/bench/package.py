"""The deployment package's size: the layer as ``sam build`` makes it, and each function's zip."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from local.bench.config import ROOT, function_dirs


@dataclass
class PackageSize:
    layer_zip_bytes: int | None
    layer_unzipped_bytes: int | None
    largest: list[tuple[str, int]]  # (top-level dir in the layer, unzipped bytes)
    functions: dict[str, int]  # function dir -> zipped bytes
    note: str = ""


def _zip_dir(source: Path, archive: Path, prefix: str = "") -> int:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out.write(path, prefix + str(path.relative_to(source)))
    return archive.stat().st_size


def measure_package(timeout: float = 300.0) -> PackageSize:
    """The layer as ``sam build`` makes it for Lambda (python3.13, arm64): shared/ plus the runtime
    requirements' wheels for that platform, zipped; and each function's own code, zipped.
    Needs PyPI; offline it reports why it was skipped."""
    from local.invoke import SHARED_PACKAGES

    functions = {}
    with tempfile.TemporaryDirectory(prefix="ddhalo-bench-") as tmp:
        work = Path(tmp)
        for code in function_dirs():
            functions[code.name] = _zip_dir(code, work / f"{code.name}.zip")
        layer = work / "layer" / "python"
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--target", str(layer), "--platform", "manylinux2014_aarch64",
            "--implementation", "cp", "--python-version", "3.13", "--only-binary=:all:",
            "-r", str(ROOT / "shared" / "requirements.txt"),
        ]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)  # noqa: S603
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or "").strip().splitlines()[-1:] or ["pip failed"]
            return PackageSize(None, None, [], functions, note=f"skipped: {last[0][:160]}")
        except (subprocess.TimeoutExpired, OSError) as exc:
            return PackageSize(None, None, [], functions, note=f"skipped: {type(exc).__name__}")
        for package in SHARED_PACKAGES:  # as shared/Makefile copies them
            shutil.copytree(
                ROOT / "shared" / package, layer / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        sizes: Counter[str] = Counter()
        for path in layer.rglob("*"):
            if path.is_file():
                top = path.relative_to(layer).parts[0]
                sizes[re.sub(r"-[\d.]+(\.dist-info|\.data)$", "", top)] += path.stat().st_size
        zipped = _zip_dir(layer, work / "layer.zip", "python/")
        return PackageSize(zipped, sum(sizes.values()), sizes.most_common(6), functions)
