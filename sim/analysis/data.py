"""A finished sweep folder, read back for analysis: its spec, design and results table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.scenario import load_model_file
from sim.sweep.design import Design, build_design
from sim.sweep.spec import SweepError, SweepSpec
from sim.sweep.store import DESIGN_FILE, RESULTS_FILE, SPEC_FILE, read_table


@dataclass(frozen=True)
class SweepData:
    """A sweep's spec, its design (drawn again from the spec: designs are deterministic) and
    ``results``: one row per run with run_id, design_point, replication, seed, the parameter
    values, status and one column per outcome."""

    folder: Path
    spec: SweepSpec
    design: Design
    results: pd.DataFrame

    @property
    def parameters(self) -> list[str]:
        return list(self.spec.parameters)

    @property
    def outcomes(self) -> list[str]:
        return list(self.spec.outcomes)

    def label(self, parameter: str) -> str:
        """A parameter's axis label: its ``label`` in the sweep file, else its name."""
        return self.spec.parameters[parameter].label or parameter

    def point_means(self, outcome: str) -> np.ndarray:
        """The outcome's mean over replications at every design point, in design order (NaN
        where no replication finished)."""
        means = self.results.groupby("design_point")[outcome].mean()
        return means.reindex(range(len(self.design))).to_numpy(dtype=float)


def load_sweep_data(folder: str | Path) -> SweepData:
    """Read a sweep folder written by :func:`sim.sweep.run_sweep`."""
    folder = Path(folder)
    missing = [name for name in (SPEC_FILE, DESIGN_FILE, RESULTS_FILE) if not (folder / name).is_file()]
    if missing:
        raise SweepError(f"not a finished sweep folder (no {' or '.join(missing)}); "
                         "run adoptsim sweep first, or finish it by running it again",
                         file=str(folder))
    spec = load_model_file(folder / SPEC_FILE, SweepSpec)
    design = build_design(spec.parameters, spec.design)
    columns = ["run_id", "design_point", "replication", "seed", *spec.parameters]
    _check_design(design, read_table(folder / DESIGN_FILE, columns), folder)
    results = read_table(folder / RESULTS_FILE, [*columns, "status", *spec.outcomes])
    return SweepData(folder, spec, design, results)


def _check_design(design: Design, runs: pd.DataFrame, folder: Path) -> None:
    """The design drawn again must be the one that was run (SALib could have changed)."""
    points = runs.drop_duplicates("design_point")[design.names].reset_index(drop=True)
    if not points.astype(str).equals(design.points.astype(str)):
        raise SweepError("the design drawn again from sweep.yaml differs from design.parquet "
                         "(was SALib updated?); analyse with the versions the sweep ran with",
                         file=str(folder))


def slug(text: str) -> str:
    """``text`` made safe for a file name: runs of other characters become one underscore."""
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", text).strip("_").replace("=", "-")
