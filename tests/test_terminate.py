"""SIGTERM and Ctrl-C (SIGINT) always stop a command: exit code 143 (130), one line on stderr, the
workers dead, nothing left behind. Each signal is sent at a point the command cannot leave on
its own (``gated_adoptsim.py`` holds it there), so no test depends on timing; the timeouts only
catch a hang. Sweeps killed and resumed: tests/test_sweep_run.py; random moments, under load:
tests/stress/terminate.py."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from conftest import BASELINE, assert_workers_die, held, markers
from test_sweep_run import GRID, write_sweep

HANG = 60   # seconds: a command that has not ended by then hangs
RUN = ["run", str(BASELINE), "--replications", "4", "--no-plots",
       "--set", "population.enterprises=300"]


def stopped(process: subprocess.Popen, signum: int) -> str:
    """Send ``signum``, wait for the end; assert the exit code and the one line; return stderr."""
    process.send_signal(signum)
    _, err = process.communicate(timeout=HANG)
    assert process.returncode == 128 + signum, err
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert err.strip().endswith(f"adoptsim: {word}") and "Traceback" not in err, err
    assert err.count(f"adoptsim: {word}") == 1, err
    return err


def left_behind(out: Path) -> list[Path]:
    """Whatever a command left in its output folder (folders included)."""
    return sorted(out.rglob("*")) if out.exists() else []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_every_worker_computes_stops_the_run(gated, tmp_path, signum):
    process, workers = held(gated("hold:0", [*RUN, "--workers", "2"]), "held-", 2)
    stopped(process, signum)
    assert_workers_die(workers)
    assert left_behind(tmp_path / "out") == []


def test_sigterm_while_a_worker_is_killed_half_way_through_sending_a_result(gated, tmp_path):
    """The pool's thread is left reading a result message that never ends (the hang of issue
    25): the command still ends."""
    spec = write_sweep(tmp_path, "grid", GRID)
    process, workers = held(gated("mid-send", ["sweep", spec, "--workers", "2", "--quiet",
                                               "--no-analysis"]), "mid-send", 1)
    stopped(process, signal.SIGTERM)
    assert_workers_die(workers)
    lock = next((tmp_path / "out").rglob(".lock"))
    assert lock.read_text() == ""


def test_sigterm_during_a_replication_in_this_process_stops_it(gated, tmp_path):
    """With one worker the replication runs in the command's own process, where no safe point
    comes: the watchdog ends it, after the same clean-up."""
    process, _ = held(gated("hold:0", [*RUN, "--workers", "1"]), "held-", 1)
    stopped(process, signal.SIGTERM)
    assert left_behind(tmp_path / "out") == []


@pytest.mark.parametrize("gate", ["parse", "import:pandas.core.frame"])
def test_sigterm_during_start_up_stops_before_anything_runs(gated, tmp_path, gate):
    process, markers_folder = gated(gate, [*RUN, "--workers", "2"])
    _, err = process.communicate(timeout=HANG)
    assert markers(markers_folder, "signalled") == 1
    assert process.returncode == 143, err
    assert err.strip() == "adoptsim: terminated"
    assert left_behind(tmp_path / "out") == []


def test_sigterm_stops_a_calibration(gated, tmp_path):
    process, workers = held(gated("hold:0", ["calibrate", BASELINE, "--quick", "--workers", "2",
                                             "--quiet"]), "held-", 2)
    stopped(process, signal.SIGTERM)
    assert_workers_die(workers)
    assert not [path for path in left_behind(tmp_path / "out") if path.is_file()]
