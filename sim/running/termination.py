"""Stopping on request: SIGTERM and Ctrl-C (SIGINT) end a command promptly and cleanly, with exit
code 128 + the signal's number (143 and 130) and one line on stderr.

A signal handler that raises (as Python's default Ctrl-C handler does) raises inside whatever
code the signal interrupts: a process pool's bookkeeping half-way (a lock left held, a pipe half
read, so that the process hangs at exit), a finalizer (where the exception is printed, ignored,
and the command goes on to finish with exit code 0), an import (which turns it into another
error). So the handler here only records the signal, and the command acts on it where that is
safe:

* :func:`handling_signals` (the command line runs every command in it) installs the handler for
  SIGTERM and SIGINT and starts a watchdog thread, which Python's own C-level handler wakes
  (``signal.set_wakeup_fd``) the moment a signal arrives, whatever the main thread is doing;
* :func:`check`, called at safe points, raises :class:`Terminated` once a signal has arrived:
  in the executors' result loops (where every parallel job waits: replications, comparisons, the
  calibration, sweeps) and before a finished output folder is renamed into place. The exception
  unwinds through the ``with`` blocks, which kill the workers, remove unfinished folders and
  release a sweep's lock; the command line then ends the process with :func:`leave`, which does
  not go through the interpreter's exit: that waits for every process pool's thread, and one
  may never end (reading a result that a killed worker was half-way through sending), or race
  with the pool's own shutting down;
* the watchdog ends the process :data:`GRACE` seconds after the signal if it is still running
  then (the main thread was in a stretch with no safe point: the imports at start-up, a report's
  figures, a replication running in this process): it writes the same line, silences what the
  main thread may still write (an error from a file the clean-up removed under it), runs the
  clean-ups that the blocks still running registered with :func:`cleanup_on_exit` (kill the
  workers, remove unfinished folders and temporary files, release the lock) and exits the same
  way, with the same code.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import NoReturn

GRACE = 0.5   # seconds from the signal to the watchdog's exit; the promise is 2 s
SIGNALS = (signal.SIGTERM, signal.SIGINT)

_received: int | None = None   # the first signal since handling_signals began
_cleanups: dict[int, Callable[[], None]] = {}
_cleanup_keys = itertools.count()
_ending = threading.Lock()   # taken, never released, by whichever of the main thread and the
                             # watchdog ends the process first: it alone writes the line


class Terminated(KeyboardInterrupt):
    """A signal asked the command to stop (raised by :func:`check`, never by a signal handler).
    A KeyboardInterrupt, so that ``except Exception`` blocks let it through."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def message(self) -> str:
        return "adoptsim: interrupted" if self.signum == signal.SIGINT else "adoptsim: terminated"


def check() -> None:
    """Raise :class:`Terminated` if a signal has arrived. Call it only where raising is safe."""
    if _received is not None:
        raise Terminated(_received)


def register_cleanup(callback: Callable[[], None]) -> int:
    """Have ``callback`` run if the process is ended while it is registered; returns the key
    that :func:`unregister_cleanup` takes. It runs in the watchdog's thread, possibly while the
    main thread is still working, so it must be safe then (killing processes, removing files)."""
    key = next(_cleanup_keys)
    _cleanups[key] = callback
    return key


def unregister_cleanup(key: int) -> None:
    _cleanups.pop(key, None)


@contextlib.contextmanager
def cleanup_on_exit(callback: Callable[[], None]) -> Iterator[None]:
    """:func:`register_cleanup` for the duration of the block: what the block would have undone
    had it ended with an exception, done even if the process ends while it runs."""
    key = register_cleanup(callback)
    try:
        yield
    finally:
        unregister_cleanup(key)


def leave(stop: Terminated) -> NoReturn:
    """End the process after a :class:`Terminated` has unwound: its line on stderr, the clean-ups
    still registered (empty output folders made for the command), exit code 128 + the signal,
    without the interpreter's exit (see the module docstring)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    _ending.acquire()   # if the watchdog has it, it ends the process
    with contextlib.suppress(OSError, ValueError):
        print(stop.message, file=sys.stderr, flush=True)
    _run_cleanups()
    os._exit(stop.exit_code)


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT are recorded for :func:`check` and the watchdog
    (see the module docstring). Main thread only; elsewhere (where Python cannot install signal
    handlers) the block runs unchanged. When the block ends without a signal, the previous
    handlers are back and the watchdog stops; after one, the watchdog stays armed, so that the
    process ends within :data:`GRACE` seconds of the signal whatever it is doing. A signal that
    came after the block's last :func:`check` raises :class:`Terminated` as the block ends."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received = None
    watchdog = _Watchdog()
    previous = {signum: signal.signal(signum, _record) for signum in SIGNALS}
    previous_wakeup = signal.set_wakeup_fd(watchdog.wakeup, warn_on_full_buffer=False)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_wakeup)
        if _received is None:
            watchdog.stand_down()
    check()


def _record(signum: int, frame) -> None:
    """The signal handler: note the first signal (the watchdog was woken already, by Python's
    C-level handler through the wakeup descriptor); nothing else."""
    global _received
    if _received is None:
        _received = signum


class _Watchdog:
    """A daemon thread that ends the process :data:`GRACE` seconds after a signal: it waits on a
    pipe whose write end is the process's wakeup descriptor, which gets the signal's number."""

    def __init__(self):
        self._read, self.wakeup = os.pipe()
        os.set_blocking(self.wakeup, False)
        self._thread = threading.Thread(target=self._watch, name="adoptsim-watchdog",
                                        daemon=True)
        self._thread.start()

    def stand_down(self) -> None:
        os.write(self.wakeup, b"\0")
        self._thread.join()
        os.close(self._read)
        os.close(self.wakeup)

    def _watch(self) -> None:
        signum = os.read(self._read, 1)[0]
        if not signum:
            return
        time.sleep(GRACE)
        stop = Terminated(signum)
        if _ending.acquire(timeout=GRACE):   # else the main thread is ending it, and stuck
            with contextlib.suppress(OSError):
                os.write(2, f"{stop.message}\n".encode())
            _silence()
        _run_cleanups()
        os._exit(stop.exit_code)


def _silence() -> None:
    """Send what this process writes to stdout and stderr from now on to /dev/null."""
    with contextlib.suppress(OSError):
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)


def _run_cleanups() -> None:
    for callback in list(_cleanups.values()):
        with contextlib.suppress(Exception):
            callback()
