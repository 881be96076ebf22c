"""Provenance for manifests: when, by which command, with which versions and git commit.

:func:`record` is the part every manifest and summary shares (runs, comparisons, sweeps,
calibrations, benchmarks); :func:`folder_stamp` names their folders. Both use UTC.
"""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "pydantic")


def now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def folder_stamp(moment: datetime | None = None) -> str:
    """``YYYYmmdd-HHMMSS`` in UTC (default: now), the start of an output folder's name."""
    return (moment or now()).astimezone(UTC).strftime("%Y%m%d-%H%M%S")


def versions(*extra: str) -> dict:
    """Versions of adoptsim, Python and the packages a run's figures depend on (and ``extra``)."""
    packages = {name: metadata.version(name) for name in (*PACKAGES, *extra)}
    return {
        "adoptsim": metadata.version("adoptsim"),
        "python": platform.python_version(),
        **packages,
    }


def git_commit() -> str | None:
    """The commit checked out where the package lives, or None outside a git checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def record(*, command: str | None = None, packages: tuple[str, ...] = (),
           moment: datetime | None = None, time_key: str = "created") -> dict:
    """What every manifest records: ``created`` (or ``time_key``; ``moment``, default now, in
    ISO 8601 UTC), ``command`` when given, ``versions`` (with ``packages``) and ``git_commit``."""
    return {time_key: (moment or now()).isoformat(timespec="seconds"),
            **({} if command is None else {"command": command}),
            "versions": versions(*packages), "git_commit": git_commit()}
