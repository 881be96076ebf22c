"""``adoptsim`` with a gate, so that a test can send a signal at an exact point instead of after a
guessed delay: ``python tests/gated_adoptsim.py GATE FOLDER ADOPTSIM-ARGUMENTS...``.

The gate writes marker files into FOLDER, which the test waits for:

* ``hold:N``: every replication (a run of a sweep, a replication of ``adoptsim run``) after the
  first N finished ones stops before it starts, writing ``held-<pid>-<n>``, and waits to be
  killed: the command can never finish, wherever it is;
* ``mid-send``: the first replication to finish writes part of a result message into the pool's
  result pipe (holding the pipe's lock, as a worker killed while sending would), writes
  ``mid-send``, and waits to be killed: the pool's thread in the parent is left reading a message
  that never ends;
* ``import:MODULE``: the process sends itself SIGTERM while MODULE is being imported (a
  start-up import of the command), writing ``signalled``;
* ``parse``: the process sends itself SIGTERM before parsing its arguments.

Finished replications write ``done-<pid>-<n>``. Workers are forked from this process, so they
run the gated functions too.
"""

from __future__ import annotations

import importlib.abc
import itertools
import os
import signal
import struct
import sys
import time
from pathlib import Path

SLEEP_UNTIL_KILLED = 3600
_count = itertools.count()


def _mark(folder: Path, name: str) -> None:
    (folder / name).write_text("", encoding="utf-8")


def _finished(folder: Path) -> int:
    return sum(1 for path in folder.iterdir() if path.name.startswith("done-"))


def gate_simulations(gate: str, folder: Path) -> None:
    """Wrap ``simulate`` (where the runner and the sweep call it) with the gate."""
    import sim.running.runner as runner
    import sim.sweep.sweep as sweep
    from sim.running import executors

    simulate = runner.simulate
    pools = []
    original_init = executors.WorkerPool.__init__

    def recording_init(self, workers):
        original_init(self, workers)
        pools.append(self)   # the workers inherit this list: the mid-send gate finds the pipe

    def gated(*arguments, **keywords):
        number = next(_count)
        if gate.startswith("hold:") and _finished(folder) >= int(gate.removeprefix("hold:")):
            _mark(folder, f"held-{os.getpid()}-{number}")
            time.sleep(SLEEP_UNTIL_KILLED)
        values = simulate(*arguments, **keywords)
        if gate == "mid-send" and _first(folder, "claimed-mid-send"):
            queue = pools[-1]._result_queue
            queue._wlock.acquire()
            os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"part of a result")
            _mark(folder, "mid-send")
            time.sleep(SLEEP_UNTIL_KILLED)
        _mark(folder, f"done-{os.getpid()}-{number}")
        return values

    executors.WorkerPool.__init__ = recording_init
    runner.simulate = sweep.simulate = gated


def _first(folder: Path, name: str) -> bool:
    """Whether this process is the first to claim ``name`` in ``folder``."""
    try:
        os.close(os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


class SignalOnImport(importlib.abc.MetaPathFinder):
    """Sends this process SIGTERM when ``module`` starts being imported, then steps aside."""

    def __init__(self, module: str, folder: Path):
        self.module, self.folder = module, folder

    def find_spec(self, name, path, target=None):
        if name == self.module:
            sys.meta_path.remove(self)
            _mark(self.folder, "signalled")
            os.kill(os.getpid(), signal.SIGTERM)
        return None


def main() -> int:
    gate, folder, *arguments = sys.argv[1:]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    import sim.cli

    if gate.startswith("import:"):
        sys.meta_path.insert(0, SignalOnImport(gate.removeprefix("import:"), folder))
    elif gate == "parse":
        build_parser = sim.cli.build_parser

        def signalled_build_parser():
            _mark(folder, "signalled")
            os.kill(os.getpid(), signal.SIGTERM)
            return build_parser()

        sim.cli.build_parser = signalled_build_parser
    else:
        gate_simulations(gate, folder)
    return sim.cli.main(arguments)


if __name__ == "__main__":
    sys.exit(main())
