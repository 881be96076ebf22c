"""A sweep's progress on stderr: runs done, failed, rate and time left.

On a terminal a tqdm bar; with ``quiet``, or when stderr is not a terminal (a log file, CI),
one plain line every ``LOG_EVERY_SECONDS`` and at the end, which reads well in logs.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

LOG_EVERY_SECONDS = 10.0


class ProgressReporter:
    """A :data:`sim.sweep.sweep.Progress` callback: call with (finished, failed, total)."""

    def __init__(self, name: str, quiet: bool = False, stream=None):
        self.name = name
        self.stream = stream or sys.stderr
        self.log = quiet or not self.stream.isatty()
        self._bar = None
        self._start: tuple[float, int] | None = None
        self._last = (0.0, 0, 0, 0)
        self._logged: tuple[float, int] = (float("-inf"), -1)  # time and runs done when last logged

    def __call__(self, finished: int, failed: int, total: int) -> None:
        done = finished + failed
        if self._start is None:
            self._start = (time.monotonic(), done)
        self._last = (time.monotonic(), done, failed, total)
        if self.log:
            self._log_line(force=False)
        else:
            self._draw(done, failed, total)

    def _draw(self, done: int, failed: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=self.name, unit="run",
                             file=self.stream, dynamic_ncols=True)
        self._bar.set_postfix(failed=failed, refresh=False)
        self._bar.update(done - self._bar.n)

    def _log_line(self, force: bool) -> None:
        now, done, failed, total = self._last
        logged_at, logged_done = self._logged
        if done == logged_done or (not force and now - logged_at < LOG_EVERY_SECONDS
                                   and done < total):
            return
        self._logged = (now, done)
        started, done_at_start = self._start
        rate = (done - done_at_start) / max(now - started, 1e-9)
        eta = timedelta(seconds=round((total - done) / rate)) if rate > 0 else "?"
        print(f"sweep {self.name}: {done}/{total} runs done, {failed} failed, "
              f"{rate:.2f} runs/s, ETA {eta}", file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar, or write a last log line."""
        if self._bar is not None:
            self._bar.close()
        elif self.log and self._start is not None:
            self._log_line(force=True)
