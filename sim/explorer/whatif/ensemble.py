"""Running what-ifs: the changed scenario paired with the scenario it changes, and the full run.

:class:`Ensemble` runs the chosen scenario (once, then cached) and the changed one
(:func:`sim.explorer.whatif.changes.changed_scenario`) with the same seeds and posterior draws
through :func:`sim.workflows.run_scenario`, and tabulates the paired differences with
:func:`sim.running.compare.comparison_table` (a :class:`WhatIf`); a newer change cancels a run
(:class:`Cancelled`). :func:`start_full_run` runs a scenario at its own size in a background
thread, writing a run folder (the only files written here). Nothing here draws plots.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.scenario import scenario_hash
from sim.core.schema import Scenario
from sim.explorer.whatif.changes import changed_scenario, effective_changes
from sim.running import compare
from sim.views.style import COMPARE_METRICS
from sim.workflows import resolve, run_scenario

DEFAULT_REPLICATIONS = 8
DEFAULT_ENTERPRISES = 1000
WHATIF_METRICS = COMPARE_METRICS   # (metric, title) of the fan charts and the table
REFERENCES_KEPT = 4                # reference ensembles an Ensemble keeps in memory


class Cancelled(Exception):
    """The run was cancelled (a newer change superseded it)."""


@dataclass
class WhatIf:
    """A changed scenario run paired with its reference (same seeds and posterior draws).

    ``table``: per metric of :data:`WHATIF_METRICS` at the horizon's end, the changed scenario's
    mean and 5-95% range and its paired difference from the reference with the 90% confidence
    interval (:func:`sim.running.compare.comparison_table`), and the metric's ``title``.
    ``smaller_population``: the ensemble ran fewer enterprises than the scenario has
    (``full_enterprises``)."""

    reference: Scenario
    scenario: Scenario
    changes: dict[str, Any]
    reference_frame: pd.DataFrame
    frame: pd.DataFrame
    table: pd.DataFrame
    smaller_population: bool
    full_enterprises: int
    seconds: float

    @property
    def frames(self) -> pd.DataFrame:
        """Both tidy frames, the reference first (for fan charts)."""
        return pd.concat([self.reference_frame, self.frame], ignore_index=True)


class Ensemble:
    """Runs what-ifs, keeping the last few reference ensembles (by the hash of the resolved
    reference at the page's size, which covers every file it extends) so that a redraw runs the
    changed scenario only. Replications run in this process unless ``workers`` says otherwise:
    at the page's size a process pool costs more to start than it saves (``adoptsim bench``)."""

    def __init__(self, *, workers: int | None = None, kept: int = REFERENCES_KEPT):
        self.workers = workers or 1
        self.kept = kept
        self._references: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, source: str | Path, changes: dict[str, Any], *,
            replications: int = DEFAULT_REPLICATIONS, enterprises: int = DEFAULT_ENTERPRISES,
            cancelled: Callable[[], bool] | None = None,
            progress: Callable[[int, int], None] | None = None) -> WhatIf:
        """Run ``source`` (unless cached) and ``source`` with ``changes``, ``replications``
        each of ``enterprises`` enterprises (at most the scenario's own), with the same seeds
        and posterior draws. ``progress(done, total)`` follows the replications;
        ``cancelled()``, asked before each scenario and after each replication, stops the run
        with :class:`Cancelled`. Bad changes raise :class:`ScenarioError` before anything
        runs."""
        started = time.perf_counter()
        full = resolve(source)
        size = [f"population.enterprises={min(enterprises, full.population.enterprises)}"]
        reference = resolve(full, replications=replications, overrides=size)
        checked = effective_changes(full, changes, source)
        changed = changed_scenario(full, checked, None, size + [f"replications={replications}"],
                                   source)
        changed = compare.aligned([changed], reference)[0]
        digest = scenario_hash(reference)
        with self._lock:
            reference_frame = self._references.get(digest)
        total = replications * (1 if reference_frame is not None else 2)
        if reference_frame is None:
            reference_frame = self._run(reference, 0, total, cancelled, progress)
            with self._lock:
                self._references[digest] = reference_frame
                while len(self._references) > self.kept:
                    self._references.popitem(last=False)
        frame = self._run(changed, total - replications, total, cancelled, progress)
        metrics = [metric for metric, _ in WHATIF_METRICS]
        rows = [f[f["metric"].isin(metrics) & (f["quarter"] == reference.horizon.end)]
                for f in (reference_frame, frame)]
        table = compare.comparison_table(pd.concat(rows, ignore_index=True), reference.name,
                                         metrics, [reference.horizon.end])
        titles = dict(WHATIF_METRICS)
        table = (table[table["scenario"] == changed.name]
                 .assign(title=lambda rows: rows["metric"].map(titles))
                 .reset_index(drop=True))
        return WhatIf(reference=reference, scenario=changed,
                      changes=checked, reference_frame=reference_frame,
                      frame=frame, table=table,
                      smaller_population=reference.population.enterprises
                      < full.population.enterprises,
                      full_enterprises=full.population.enterprises,
                      seconds=time.perf_counter() - started)

    def _run(self, scenario: Scenario, done_before: int, total: int,
             cancelled: Callable[[], bool] | None,
             progress: Callable[[int, int], None] | None) -> pd.DataFrame:
        def finished(done: int) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled(f"cancelled after {done_before + done} of {total} replications")
            if progress is not None:
                progress(done_before + done, total)

        finished(0)
        return run_scenario(scenario, workers=self.workers, out=None, plots=False,
                            progress=finished).frame


_SHARED = Ensemble()


def run_whatif(source: str | Path, changes: dict[str, Any], *,
               replications: int = DEFAULT_REPLICATIONS, enterprises: int = DEFAULT_ENTERPRISES,
               workers: int | None = None, cancelled: Callable[[], bool] | None = None,
               progress: Callable[[int, int], None] | None = None) -> WhatIf:
    """:meth:`Ensemble.run` on an ensemble shared by the process (one per ``workers``)."""
    ensemble = _SHARED if (workers or 1) == _SHARED.workers else Ensemble(workers=workers)
    return ensemble.run(source, changes, replications=replications, enterprises=enterprises,
                        cancelled=cancelled, progress=progress)


# --- the full-size run ----------------------------------------------------------------------------

class FullRun:
    """A full-size run in a background thread (:func:`start_full_run`). ``done`` once it has
    finished; then ``folder`` is the run folder and ``report`` its report.html, or ``error``
    says what went wrong."""

    def __init__(self, scenario: Scenario, out: Path, workers: int | None, plots: bool):
        self.scenario = scenario
        self.folder: Path | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(out, workers, plots),
                                        daemon=True, name=f"adoptsim-run-{scenario.name}")
        self._thread.start()

    def _run(self, out: Path, workers: int | None, plots: bool) -> None:
        try:
            self.folder = run_scenario(self.scenario, workers=workers, out=out,
                                       plots=plots).folder
        except Exception as error:  # noqa: BLE001 - reported to the page, not raised in a thread
            self.error = str(error) or type(error).__name__

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @property
    def report(self) -> Path | None:
        return None if self.folder is None else self.folder / "report.html"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: until it ends); whether it has finished."""
        self._thread.join(timeout)
        return self.done


def start_full_run(scenario: Scenario | str | Path, out: str | Path, *,
                   workers: int | None = 1, plots: bool = True) -> FullRun:
    """Start ``run_scenario(scenario, out=out)`` in a background thread, at the scenario's own
    size and replications (for the page: ``apply_changes(source, changes)``, or a saved file),
    writing its run folder and report under ``out``. The scenario and the output folder are
    checked first, so a bad one raises here. ``workers`` defaults to 1, in this process (a
    pool forked from a threaded web server is not safe); ``plots`` as for ``run_scenario``
    (without them the report has no figures)."""
    from sim.running import storage

    resolved = resolve(scenario)
    storage.output_folder(out, resolved.name)
    return FullRun(resolved, Path(out), workers, plots)
