"""Provenance for manifests: the versions of adoptsim and its main packages, and the git commit."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path


def versions() -> dict:
    """Versions of adoptsim, Python and the packages a run's figures depend on."""
    packages = {name: metadata.version(name) for name in ("mesa", "numpy", "pandas", "pyarrow", "pydantic")}
    return {"adoptsim": metadata.version("adoptsim"), "python": platform.python_version(), **packages}


def git_commit() -> str | None:
    """The commit checked out where the package lives, or None outside a git checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
