"""The sweep folder on disk: run files, failure records, and the results table built from them.

``outputs/sweeps/<name>/<hash8>/`` holds:

* ``runs/<key>.parquet``: one finished run's quarterly series (tidy: quarter, metric, segment,
  value), named by the hash of its resolved scenario and seed. Written atomically (temporary
  file, then rename), so a file with its final name is always whole: resuming counts a run as
  finished exactly when its file exists, and a file half-written by a killed sweep is a
  dot-named temporary that is removed and never read;
* ``failures/<key>.txt``: the traceback of a run that raised;
* ``design.parquet``, ``results.parquet``, ``manifest.json``, and ``sweep.yaml``: the
  validated sweep file (defaults filled in, order kept), which analysis reads back.

``results.parquet`` is built by reading the run files one at a time, in run order, and writing
the outcomes in row groups, so neither all runs nor their series are ever in memory together;
the same run files give the same bytes whatever executed them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim import storage
from sim.sweep.spec import Outcome, SweepError

DESIGN_FILE = "design.parquet"
RESULTS_FILE = "results.parquet"
MANIFEST_FILE = "manifest.json"
SPEC_FILE = "sweep.yaml"
RESULTS_BATCH = 1024
STATUS_FINISHED, STATUS_FAILED = "finished", "failed"


class SweepStore:
    """Files of one sweep folder."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.failures = self.folder / "failures"

    def run_path(self, key: str) -> Path:
        return self.runs / f"{key}.parquet"

    def failure_path(self, key: str) -> Path:
        return self.failures / f"{key}.txt"

    def finished(self) -> set[str]:
        """Keys of the runs whose file is complete."""
        return _stems(self.runs, ".parquet")

    def failed(self) -> set[str]:
        """Keys of the runs with a recorded failure."""
        return _stems(self.failures, ".txt")

    def save_run(self, key: str, parquet: bytes) -> None:
        """Write a finished run's file (:func:`run_file_bytes`); a failure recorded earlier for
        it is dropped."""
        storage.write_atomic(self.run_path(key), lambda target: target.write_bytes(parquet))
        self.failure_path(key).unlink(missing_ok=True)

    def save_failure(self, key: str, text: str) -> None:
        storage.write_text(self.failure_path(key), text)

    def prepare(self) -> None:
        """Create ``runs/`` and ``failures/``; delete temporaries a killed sweep left behind."""
        for folder in (self.runs, self.failures):
            folder.mkdir(parents=True, exist_ok=True)
            for path in folder.glob(".*"):
                path.unlink(missing_ok=True)

    def lock(self):
        """Hold the folder for one sweep at a time (:func:`sim.sweep.lock.folder_lock`)."""
        from sim.sweep.lock import folder_lock

        return folder_lock(self.folder)

    def write_results(self, runs: pd.DataFrame, outcomes: Sequence[Outcome]) -> Path:
        """Write ``results.parquet``: the ``runs`` table (with its ``run_key`` column dropped),
        a ``status`` column and one column per outcome, streamed from the run files."""
        return storage.write_atomic(self.folder / RESULTS_FILE,
                                    lambda target: self._stream_results(target, runs, outcomes))

    def _stream_results(self, target: Path, runs: pd.DataFrame, outcomes: Sequence[Outcome]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for start in range(0, len(runs), RESULTS_BATCH):
                batch = self._results_batch(runs.iloc[start:start + RESULTS_BATCH], outcomes)
                table = pa.Table.from_pandas(batch, preserve_index=False,
                                             schema=writer.schema if writer else None)
                writer = writer or pq.ParquetWriter(target, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    def _results_batch(self, runs: pd.DataFrame, outcomes: Sequence[Outcome]) -> pd.DataFrame:
        values = np.full((len(runs), len(outcomes)), np.nan)
        status = []
        for row, key in enumerate(runs["run_key"]):
            path = self.run_path(key)
            finished = path.exists()
            if finished:
                values[row] = read_outcomes(path, outcomes)
            status.append(STATUS_FINISHED if finished else STATUS_FAILED)
        batch = runs.drop(columns="run_key").reset_index(drop=True)
        batch["status"] = status
        for column, outcome in enumerate(outcomes):
            batch[outcome.name] = values[:, column]
        return batch


def run_file_bytes(frame: pd.DataFrame) -> bytes:
    """A run's tidy series (quarter, metric, segment, value) as the bytes of its Parquet file,
    made where the run ran so that only compact bytes travel back to the sweep process."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def read_outcomes(path: str | Path, outcomes: Sequence[Outcome]) -> list[float]:
    """The value of each outcome in one run file (NaN where the run does not have it)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["quarter", "metric", "segment", "value"])
    found = []
    for outcome in outcomes:
        mask = pc.and_(pc.and_(pc.equal(table["metric"], outcome.metric),
                               pc.equal(table["segment"], outcome.segment)),
                       pc.equal(table["quarter"], outcome.quarter))
        values = table["value"].filter(mask)
        found.append(values[0].as_py() if len(values) else np.nan)
    return found


def _stems(folder: Path, suffix: str) -> set[str]:
    if not folder.is_dir():
        return set()
    return {name.removesuffix(suffix) for name in os.listdir(folder)
            if name.endswith(suffix) and not name.startswith(".")}
