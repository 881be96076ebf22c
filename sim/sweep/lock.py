"""The lock of a sweep folder: one sweep at a time, and a dead owner's lock taken over.

``<folder>/.lock`` is locked with ``flock`` while a sweep runs there, and records its owner (process
id and start time) as JSON; it is emptied when the lock is released. The kernel releases the lock
when its owner dies, but processes forked from the owner share it: if they outlive a killed owner
(they should not, see :func:`sim.running.executors.worker_initializer`), the lock of a dead owner
is taken
over, with a line on stderr; so is a record a killed owner left behind.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sim.running import termination
from sim.sweep.spec import SweepError

LOCK_FILE = ".lock"


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for one sweep at a time (see the module docstring); a live owner's lock
    raises :class:`SweepError` naming it."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    for attempt in (1, 2):
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held until the sweep ends)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            owner = _owner(handle)
            handle.close()
            if attempt == 2 or owner is None or _running(owner):
                raise SweepError(f"another sweep is running in this folder ({_describe(owner)}); "
                                 "wait for it to end or stop it", file=str(folder)) from None
            _taking_over(owner, folder)
            path.unlink(missing_ok=True)  # its holders keep the old file; the lock is a new one
    try:
        previous = _owner(handle)
        if previous is not None:
            _taking_over(previous, folder)
        handle.truncate(0)
        handle.write(json.dumps(_me()))
        handle.flush()
        # if a signal ends the process, the record is emptied too (the kernel drops the lock)
        with termination.cleanup_on_exit(lambda: os.ftruncate(handle.fileno(), 0)):
            yield
    finally:
        handle.truncate(0)
        handle.close()


def _me() -> dict:
    """This process as a lock owner."""
    return {"pid": os.getpid(), "started": _process_start(os.getpid()),
            "since": datetime.now(UTC).isoformat(timespec="seconds")}


def _owner(handle) -> dict | None:
    """The owner a lock file records, or None (an empty or unreadable record)."""
    handle.seek(0)
    try:
        owner = json.loads(handle.read(4096) or "null")
    except ValueError:
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None


def _running(owner: dict) -> bool:
    """Whether the recorded owner still runs: its process id is alive and started when the
    record says (a process id reused by another process has another start time)."""
    started = _process_start(owner["pid"])
    return started is not None and started == owner.get("started")


def _process_start(pid: int) -> str | None:
    """An identity of the running process ``pid``: its start time since boot from /proc (Linux),
    or "unknown" where there is no /proc but the process exists; None if it does not run (or is
    a zombie, dead but not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state, *fields = stat.read().rsplit(b")", 1)[1].split()
        return None if state == b"Z" else fields[18].decode()
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
    except (OSError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return "unknown"


def _describe(owner: dict | None) -> str:
    if owner is None:
        return "its owner is unknown"
    return f"process {owner['pid']}, started {owner.get('since', 'at an unknown time')}"


def _taking_over(owner: dict, folder: Path) -> None:
    print(f"adoptsim: taking over the lock of {folder} from {_describe(owner)}, which is no "
          "longer running", file=sys.stderr)
