"""The sweep folder on disk: run files, failure records, and the results table built from them.

``outputs/sweeps/<name>/<hash8>/`` holds:

* ``runs/<key>.parquet``: one finished run's quarterly series (tidy: quarter, metric, segment,
  value), named by the hash of its resolved scenario and seed. Written atomically (temporary
  file, then rename), so a file with its final name is whole when written, and a file
  half-written by a killed sweep is a dot-named temporary that is removed and never read. Each
  file records its run key and a SHA-256 checksum of its content (Parquet key-value metadata):
  on resume a file that is unreadable (truncated, empty, damaged), holds another run (swapped)
  or does not match its checksum is reported by name, deleted and run again
  (:meth:`SweepStore.drop_damaged`);
* ``failures/<key>.txt``: the traceback of a run that raised;
* ``design.parquet``, ``results.parquet``, ``manifest.json``, and ``sweep.yaml``: the
  validated sweep file (defaults filled in, order kept), which analysis reads back.

``results.parquet`` is built by reading the run files one at a time, in run order, and writing
the outcomes in row groups, so neither all runs nor their series are ever in memory together;
the same run files give the same bytes whatever executed them.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.running import storage
from sim.sweep.spec import Outcome, SweepError

DESIGN_FILE = "design.parquet"
RESULTS_FILE = "results.parquet"
MANIFEST_FILE = "manifest.json"
SPEC_FILE = "sweep.yaml"
RESULTS_BATCH = 1024
STATUS_FINISHED, STATUS_FAILED = "finished", "failed"
RUN_COLUMNS = ("quarter", "metric", "segment", "value")
KEY_FIELD, CHECKSUM_FIELD = b"adoptsim.run_key", b"adoptsim.sha256"


class DamagedRun(Exception):
    """A run file that cannot be trusted: unreadable, another run's, or not what it recorded."""


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

    def drop_damaged(self) -> list[str]:
        """Check every run file (:func:`read_run`); delete each damaged one, so that it runs
        again, with a line on stderr naming it. Returns their keys."""
        damaged = []
        for key in sorted(self.finished()):
            path = self.run_path(key)
            try:
                read_run(path, key)
            except DamagedRun as problem:
                print(f"adoptsim: {path}: {problem}; the run will be run again", file=sys.stderr)
                storage.remove_path(path)
                damaged.append(key)
        return damaged

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

    def _stream_results(
        self, target: Path, runs: pd.DataFrame, outcomes: Sequence[Outcome]
    ) -> None:
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
                try:
                    values[row] = read_outcomes(read_run(path, key), outcomes)
                except DamagedRun as problem:
                    raise SweepError(f"{problem} (it changed while the sweep ran?); run the same "
                                     "command again to run it again", file=str(path)) from None
            status.append(STATUS_FINISHED if finished else STATUS_FAILED)
        batch = runs.drop(columns="run_key").reset_index(drop=True)
        batch["status"] = status
        for column, outcome in enumerate(outcomes):
            batch[outcome.name] = values[:, column]
        return batch


def run_file_bytes(frame: pd.DataFrame, key: str) -> bytes:
    """Run ``key``'s tidy series (quarter, metric, segment, value) as the bytes of its Parquet
    file, recording the key and the content's checksum; made where the run ran so that only
    compact bytes travel back to the sweep process."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame[list(RUN_COLUMNS)], preserve_index=False)
    table = table.replace_schema_metadata({**table.schema.metadata, KEY_FIELD: key.encode(),
                                           CHECKSUM_FIELD: _checksum(table).encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def read_run(path: Path, key: str):
    """Run ``key``'s file as an Arrow table, checked: a readable Parquet file that records this
    key and whose content matches its checksum; :class:`DamagedRun` says what is wrong."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DamagedRun("not a regular file")
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as error:
        raise DamagedRun(f"unreadable: truncated, empty or not Parquet ({_first_line(error)})"
                         ) from None
    metadata = table.schema.metadata or {}
    recorded = metadata.get(KEY_FIELD, b"").decode(errors="replace")
    if recorded != key:
        raise DamagedRun(f"holds run {recorded[:40]}, not this run" if recorded else
                         "records no run key (written by an older adoptsim, or not a run file)")
    if not set(RUN_COLUMNS) <= set(table.column_names) \
            or metadata.get(CHECKSUM_FIELD, b"").decode(errors="replace") != _checksum(table):
        raise DamagedRun("its content does not match the checksum it records")
    return table


def _checksum(table) -> str:
    """SHA-256 of a run table's values, whatever Arrow or Parquet types hold them."""
    digest = hashlib.sha256()
    for name in RUN_COLUMNS:
        values = table[name].to_numpy()
        digest.update(name.encode() + b"\0")
        digest.update("\0".join(values).encode() if values.dtype == object
                      else values.astype("<f8").tobytes())
    return digest.hexdigest()


def read_outcomes(table, outcomes: Sequence[Outcome]) -> list[float]:
    """The value of each outcome in one run's table (NaN where the run does not have it)."""
    import pyarrow.compute as pc

    found = []
    for outcome in outcomes:
        mask = pc.and_(pc.and_(pc.equal(table["metric"], outcome.metric),
                               pc.equal(table["segment"], outcome.segment)),
                       pc.equal(table["quarter"], outcome.quarter))
        values = table["value"].filter(mask)
        found.append(values[0].as_py() if len(values) else np.nan)
    return found


def read_table(path: Path, columns: Sequence[str] = ()) -> pd.DataFrame:
    """A table of the sweep folder (design, results), or a :class:`SweepError` naming it when it
    is unreadable or lacks ``columns``."""
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise SweepError(f"cannot read it: truncated or damaged ({_first_line(error)}); run "
                         "adoptsim sweep on the sweep file again to rebuild it",
                         file=str(path)) from None
    missing = [column for column in columns if column not in table]
    if missing:
        raise SweepError(f"not a sweep table: no column {', '.join(missing)}", file=str(path))
    return table


def _first_line(error: Exception, limit: int = 100) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _stems(folder: Path, suffix: str) -> set[str]:
    if not folder.is_dir():
        return set()
    return {name.removesuffix(suffix) for name in os.listdir(folder)
            if name.endswith(suffix) and not name.startswith(".")}
