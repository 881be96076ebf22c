"""Worker processes: ``--workers`` is a positive whole number, capped at the work there is and at
a sane maximum (with a note), and killing the parent of a pool by SIGKILL leaves no live worker
behind. (SIGTERM and Ctrl-C: tests/test_terminate.py; sweeps killed and resumed:
tests/test_sweep_run.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import BASELINE, assert_workers_die, children, wait_until

from sim.cli import main
from sim.running import executors

COMMANDS = {
    "run": ["run", BASELINE, "--replications", "2", "--set", "population.enterprises=100",
            "--no-plots"],
    "compare": ["compare", BASELINE.parent / "watch" / "price-hike.yaml", "--replications", "2"],
    "calibrate": ["calibrate", BASELINE, "--quick", "--quiet"],
    "sweep": ["sweep", BASELINE.parent / "sweeps" / "watch-grid.yaml", "--quiet"],
}
SLOW_RUN = ["run", str(BASELINE), "--replications", "6", "--workers", "2", "--no-plots"]
SLOW_CALIBRATION = ["calibrate", str(BASELINE), "--quick", "--workers", "2", "--quiet"]


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "all"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_workers_must_be_a_positive_integer(tmp_path, capsys, command, value):
    with pytest.raises(SystemExit) as exit_:
        main([*map(str, COMMANDS[command]), "--workers", value, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert (
        f"argument --workers: must be a positive whole number, not '{value}'"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_workers_are_capped_at_the_replications_with_a_note(tmp_path, capsys):
    assert main([*map(str, COMMANDS["run"]), "--workers", "64", "--out", str(tmp_path)]) == 0
    assert ("adoptsim: note: using 2 worker processes, not 64: there are only 2 replications to run"
            in capsys.readouterr().err)


def test_workers_are_capped_at_four_per_core_with_a_note(capsys, monkeypatch):
    monkeypatch.setattr(executors, "default_workers", lambda: 2)
    assert executors.worker_count(10**9, 10**6, "runs") == 8
    assert ("using 8 worker processes, not 1000000000: that is the cap of 4 per core on 2 core(s)"
            in capsys.readouterr().err)
    assert executors.worker_count(None, 3, "runs") == 2 and capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="positive whole number"):
        executors.worker_count(0, 3, "runs")


@pytest.fixture
def start(tmp_path):
    """Start ``adoptsim ARGUMENTS --out tmp_path/out`` in a subprocess; killed at teardown."""
    started = []

    def start(arguments: list[str]) -> subprocess.Popen:
        started.append(subprocess.Popen(
            [sys.executable, "-m", "sim", *arguments, "--out", str(tmp_path / "out")],
            cwd=BASELINE.parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("arguments", [SLOW_RUN, SLOW_CALIBRATION], ids=["run", "calibrate"])
def test_killing_the_parent_with_sigkill_leaves_no_live_workers(start, arguments):
    process = start(arguments)
    wait_until(lambda: len(children(process.pid)) >= 2, 60, "the pool's workers started")
    workers = children(process.pid)
    process.kill()
    process.wait()
    assert_workers_die(workers)
