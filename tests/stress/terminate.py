"""Stress test of terminate (issue 25): SIGTERM at random moments to many sweeps and runs.

    python tests/stress/terminate.py                      # 200 sweeps and 100 runs, 2 at a time
    python tests/stress/terminate.py --sweeps 20 --runs 10 --jobs 1 --seed 7

Each trial starts a command, sleeps a random delay (uniform between 0 and the command's
duration, measured first without a signal), sends SIGTERM to the command's process alone, and
waits for its end. A trial whose command ended before the delay ran out is not counted, and
another is started. The commands are the kill tests': a 24-run grid sweep (``python -m sim sweep
GRID.yaml --workers 2 --quiet --no-analysis``) and ``adoptsim run scenarios/baseline.yaml
--replications 2 --workers 2 --no-plots --set population.enterprises=300``; ``--jobs`` runs that
many trials at once, so the machine is under load.

It reports, per command: hangs (no end within --hang seconds; then killed), exits with code 0 (a
signal swallowed), clean exits (143, stderr ending in the one line ``adoptsim: terminated``, no
traceback), exits by SIGTERM's default action (143 to a shell, but no line: the signal came
before adoptsim installed its handler, in the interpreter's own start-up, or after the command
had finished and removed it, while the interpreter shut down), other endings (any other code,
143 with other output, or something left behind: a worker alive, a hidden partial folder, an
empty output folder, a sweep lock still recording its owner), and the time from the signal to
the end (median, 99th percentile, maximum; each over the deadline is listed). The exit code is 0
when there was no hang, no exit 0, no other ending and every end came within --deadline seconds.

Not part of the test suite (it takes minutes and its figures depend on the machine's load): run
it by hand after changing signal handling, executors or output folders.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import children, running  # noqa: E402  (the suite's helpers)

BASELINE = ROOT / "scenarios" / "baseline.yaml"
GRID = f"""name: grid
base: {BASELINE}
set: ["population.enterprises=100", "horizon.end=2025Q4", "scheduled_events=[]",
      "burn_in_quarters=2"]
parameters:
  behaviour.peer_weight: {{levels: [0.5, 2.0, 5.0, 8.0]}}
  parity:
    categories:
      flat: {{signals.task_parity.points: {{2024Q1: 0.85}}}}
      rising: {{signals.task_parity.points: {{2024Q1: 0.8, 2025Q4: 0.95}}}}
design: {{method: grid, seed: 3}}
replications: 3
outcomes: [workload_share_open_any@2025Q4]
"""
TERMINATED = "adoptsim: terminated"


def command(kind: str, folder: Path) -> list[str]:
    if kind == "sweep":
        spec = folder / "grid.yaml"
        spec.write_text(GRID, encoding="utf-8")
        return [sys.executable, "-m", "sim", "sweep", str(spec), "--workers", "2", "--quiet",
                "--no-analysis", "--out", str(folder / "out")]
    return [sys.executable, "-m", "sim", "run", str(BASELINE), "--replications", "2",
            "--workers", "2", "--no-plots", "--set", "population.enterprises=300",
            "--out", str(folder / "out")]


@dataclass
class Tally:
    """What the trials of one command came to."""

    kind: str
    clean: int = 0
    hangs: list[str] = field(default_factory=list)
    exit_zero: list[str] = field(default_factory=list)
    default_action_before: int = 0
    default_action_after: int = 0
    other: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    not_counted: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def trials(self) -> int:
        return (self.clean + len(self.hangs) + len(self.exit_zero) + self.default_action_before
                + self.default_action_after + len(self.other))


def left_behind(kind: str, out: Path) -> list[str]:
    """What a terminated command should not have left: partial folders and files, a sweep lock
    that still records its owner, and (for a run, whose folder appears only when complete)
    empty folders. A sweep's folder stays, to be resumed."""
    found = []
    for path in sorted(out.rglob("*")) if out.exists() else []:
        if ".partial-" in path.name:
            found.append(f"partial {path.relative_to(out)}")
        elif path.name == ".lock" and path.read_text(encoding="utf-8"):
            found.append(f"lock still held in {path.parent.relative_to(out)}")
        elif kind == "run" and path.is_dir() and not any(path.iterdir()):
            found.append(f"empty folder {path.relative_to(out)}")
    return found


def finished(kind: str, out: Path) -> bool:
    """Whether the command wrote its whole output (its report is the last file it writes)."""
    return any(out.glob("baseline/*/report.html" if kind == "run" else
                        "sweeps/grid/*/report.html"))


def measure(kind: str) -> float:
    """Seconds the command takes without a signal (it must succeed)."""
    with tempfile.TemporaryDirectory(prefix="stress-") as folder:
        started = time.monotonic()
        done = subprocess.run(command(kind, Path(folder)), cwd=ROOT, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(f"{kind} failed without a signal:\n{done.stderr}")
        return time.monotonic() - started


def trial(kind: str, delay: float, hang: float, deadline: float, tally: Tally,
          lock: threading.Lock) -> None:
    with tempfile.TemporaryDirectory(prefix="stress-") as name:
        folder = Path(name)
        errors = folder / "stderr.txt"
        with errors.open("w", encoding="utf-8") as stream:
            process = subprocess.Popen(command(kind, folder), cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=stream)
        handle = os.pidfd_open(process.pid)
        try:
            if select.select([handle], [], [], delay)[0]:   # ended before the signal
                process.wait()
                with lock:
                    tally.not_counted += 1
                return
            workers = children(process.pid)
            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            ended = bool(select.select([handle], [], [], hang)[0])
            took = time.monotonic() - sent
        finally:
            os.close(handle)
        if not ended:
            process.kill()
        code = process.wait()
        time.sleep(0.5 if any(map(running, workers)) else 0)
        err = errors.read_text(encoding="utf-8", errors="replace")
        leftovers = left_behind(kind, folder / "out") + [f"worker {pid} alive"
                                                  for pid in workers if running(pid)]
        for pid in filter(running, workers):
            os.kill(pid, signal.SIGKILL)
        what = (f"delay {delay:.2f} s, exit {code}, {took:.2f} s: "
                f"{err.strip().splitlines()[-1:] or ''} {leftovers or ''}")
        with lock:
            if not ended:
                tally.hangs.append(what + "\n" + err)
                return
            tally.seconds.append(took)
            if took > deadline:
                tally.late.append(what)
            if code == 0:
                tally.exit_zero.append(what)
            elif code == -signal.SIGTERM and "Traceback" not in err and not leftovers:
                if finished(kind, folder / "out"):
                    tally.default_action_after += 1
                else:
                    tally.default_action_before += 1
            elif (code == 143 and err.strip().endswith(TERMINATED) and "Traceback" not in err
                  and err.count("adoptsim:") == 1 and not leftovers):
                tally.clean += 1
            else:
                tally.other.append(what + "\n" + err)


def stress(kind: str, trials: int, jobs: int, hang: float, deadline: float,
           rng: random.Random) -> Tally:
    duration = measure(kind)
    print(f"{kind}: {duration:.2f} s without a signal; {trials} trials, {jobs} at a time",
          flush=True)
    tally, lock = Tally(kind), threading.Lock()
    with ThreadPoolExecutor(jobs) as pool:
        while tally.trials < trials and tally.not_counted < trials:
            wanted = trials - tally.trials
            batch = [pool.submit(trial, kind, rng.uniform(0, duration), hang, deadline, tally,
                                 lock) for _ in range(min(wanted, jobs * 4))]
            for future in batch:
                future.result()
            print(f"  {kind}: {tally.trials} trials", flush=True)
    return tally


def report(tally: Tally, deadline: float) -> dict:
    seconds = sorted(tally.seconds)
    figures = {
        "command": tally.kind,
        "trials": tally.trials,
        "clean exit 143": tally.clean,
        "hangs": len(tally.hangs),
        "exit 0 after the signal": len(tally.exit_zero),
        "ended by SIGTERM's default action, before the handler": tally.default_action_before,
        "ended by SIGTERM's default action, after the command": tally.default_action_after,
        "other endings": len(tally.other),
        f"ends later than {deadline} s": len(tally.late),
        "ended before the signal (not counted)": tally.not_counted,
        "seconds from signal to end: median": round(statistics.median(seconds), 3)
        if seconds else None,
        "99th percentile": round(seconds[int(0.99 * (len(seconds) - 1))], 3) if seconds else None,
        "maximum": round(seconds[-1], 3) if seconds else None,
    }
    for title, cases in (("hang", tally.hangs), ("exit 0", tally.exit_zero),
                         ("other", tally.other), ("late", tally.late)):
        for case in cases:
            print(f"  {tally.kind} {title}: {case}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweeps", type=int, default=200, help="sweep trials (default 200)")
    parser.add_argument("--runs", type=int, default=100, help="run trials (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="trials at once (default 2)")
    parser.add_argument("--deadline", type=float, default=2.0,
                        help="seconds from the signal to the end (default 2)")
    parser.add_argument("--hang", type=float, default=30.0,
                        help="seconds after which a command counts as hung (default 30)")
    parser.add_argument("--seed", type=int, default=25, help="seed of the random delays")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    figures = [report(stress(kind, trials, args.jobs, args.hang, args.deadline, rng),
                      args.deadline)
               for kind, trials in (("sweep", args.sweeps), ("run", args.runs)) if trials]
    print(json.dumps(figures, indent=2))
    print(f"{time.monotonic() - started:.0f} s in all")
    failed = any(f["hangs"] or f["exit 0 after the signal"] or f["other endings"]
                 or f[f"ends later than {args.deadline} s"] for f in figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
