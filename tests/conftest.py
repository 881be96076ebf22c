"""Shared helpers for the test suite: repository paths and small scenarios."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.core.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
GATED = Path(__file__).with_name("gated_adoptsim.py")


def baseline(*overrides: str, enterprises: int = 300, replications: int = 2):
    """The baseline scenario with a small population and the given ``--set`` overrides."""
    return load_scenario(BASELINE, [f"population.enterprises={enterprises}",
                                    f"replications={replications}", *overrides])


def no_vendor_hazards() -> list[str]:
    """``--set`` overrides that give every vendor of the baseline no random events."""
    return [f"vendors.{name}.hazards={{}}" for name in load_scenario(BASELINE).vendors]


@pytest.fixture
def small_baseline():
    return baseline()


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (Linux: read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` every 20 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def assert_workers_die(workers: list[int], timeout: float = 5) -> None:
    """Every process in ``workers`` must be gone within ``timeout`` seconds; any left is killed
    (so a failing test leaves no orphan behind) and the test fails."""
    try:
        wait_until(lambda: not any(running(pid) for pid in workers), timeout, "the workers died")
    finally:
        for pid in filter(running, workers):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def gated(tmp_path):
    """Start ``adoptsim ARGUMENTS --out tmp_path/out`` behind a gate (``gated_adoptsim.py``, a
    point the command cannot leave on its own, where a test sends it a signal); returns the
    process and the gate's marker folder. Killed at teardown if still running."""
    started = []

    def start(gate: str, arguments: list[str]) -> tuple[subprocess.Popen, Path]:
        started.append(subprocess.Popen(
            [sys.executable, str(GATED), gate, str(tmp_path / "gate"), *map(str, arguments),
             "--out", str(tmp_path / "out")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        return started[-1], tmp_path / "gate"

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def markers(folder: Path, prefix: str) -> int:
    """How many of the gate's marker files in ``folder`` start with ``prefix``."""
    return sum(1 for _ in folder.glob(f"{prefix}*")) if folder.is_dir() else 0


def held(started: tuple[subprocess.Popen, Path], marker: str, count: int,
         timeout: float = 120) -> tuple[subprocess.Popen, list[int]]:
    """Wait until a command started by ``gated`` has written ``count`` of the gate's ``marker``
    files (it is held there); returns the process and its worker processes."""
    process, folder = started
    wait_until(lambda: markers(folder, marker) >= count or process.poll() is not None, timeout,
               f"{count} '{marker}' markers of the gate")
    assert process.poll() is None, process.communicate()[1]
    return process, children(process.pid)
