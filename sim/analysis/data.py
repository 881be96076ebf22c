"""A sweep folder read back: its sweep file, design and results table, for analyses and reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.settings_file import ScenarioError, load_model_file, load_yaml, read_yaml
from sim.sweep.design import Design, build_design
from sim.sweep.spec import SweepError, SweepSpec
from sim.sweep.store import (
    DESIGN_FILE,
    MANIFEST_FILE,
    RESULTS_FILE,
    SPEC_FILE,
    STATUS_FINISHED,
    read_table,
)

ANALYSIS_FOLDER = "analysis"   # what the analysis writes, inside the sweep folder
PRIM_FILE = "prim.json"        # the PRIM conditions analysed, in the analysis folder


@dataclass(frozen=True)
class SweepData:
    """A sweep folder read back: ``results``, one row per run with run_id, design_point,
    replication, seed, the parameter values, status and one column per outcome; ``settings``,
    the sweep file as written (a mapping, read from ``settings_file``); and the manifest.

    Loaded strictly (the default of :func:`load_sweep_data`, what analyses need) it also has
    ``spec``, the sweep file validated, and ``design``, drawn again from the spec (designs are
    deterministic) and checked against the runs. Loaded leniently (``strict=False``, what a
    report of any sweep folder needs, one written by an older version included) both are None.
    """

    folder: Path
    results: pd.DataFrame
    settings: dict
    settings_file: Path
    manifest: dict = field(default_factory=dict)
    spec: SweepSpec | None = None
    design: Design | None = None

    @property
    def parameters(self) -> list[str]:
        if self.spec is not None:
            return list(self.spec.parameters)
        return list(self.settings.get("parameters") or {})

    @property
    def outcomes(self) -> list[str]:
        """The outcomes of the sweep file (leniently loaded: those the results hold)."""
        if self.spec is not None:
            return list(self.spec.outcomes)
        return [
            outcome for outcome in self.settings.get("outcomes") or [] if outcome in self.results
        ]

    @property
    def finished(self) -> pd.DataFrame:
        """The rows of the runs that finished."""
        status = self.results.get("status")
        return self.results if status is None else self.results[status == STATUS_FINISHED]

    @property
    def analysis_folder(self) -> Path:
        return self.folder / ANALYSIS_FOLDER

    @property
    def name(self) -> str:
        return str(self.manifest.get("sweep") or self.settings.get("name") or self.folder.name)

    @property
    def method(self) -> str:
        """The design's method (grid, lhs, sobol, morris)."""
        if self.design is not None:
            return self.design.method
        return str((self.settings.get("design") or {}).get("method") or "")

    def label(self, parameter: str) -> str:
        """A parameter's axis label: its ``label`` in the sweep file, else its name."""
        if self.spec is not None:
            return self.spec.parameters[parameter].label or parameter
        return ((self.settings.get("parameters") or {}).get(parameter) or {}).get(
            "label"
        ) or parameter

    def point_means(self, outcome: str) -> np.ndarray:
        """The outcome's mean over replications at every design point, in design order (NaN
        where no replication finished)."""
        means = self.results.groupby("design_point")[outcome].mean()
        return means.reindex(range(len(self.design))).to_numpy(dtype=float)


def load_sweep_data(folder: str | Path, *, strict: bool = True,
                    manifest: dict | None = None) -> SweepData:
    """Read a sweep folder written by :func:`sim.sweep.run_sweep` (see :class:`SweepData`).

    Strict: the sweep file must validate, the design drawn again must be the one run and the
    tables must hold their columns. Lenient: the settings are ``sweep.yaml`` when it holds a
    mapping, else the ``spec`` of ``manifest`` (the folder's manifest, read by the caller), and
    the results table is taken as it is. Problems raise :class:`~sim.sweep.spec.SweepError`."""
    folder = Path(folder)
    manifest = manifest or {}
    if not strict:
        settings, settings_file = _settings(folder, manifest)
        return SweepData(folder, read_table(folder / RESULTS_FILE), settings, settings_file,
                         manifest)
    missing = [
        name for name in (SPEC_FILE, DESIGN_FILE, RESULTS_FILE) if not (folder / name).is_file()
    ]
    if missing:
        raise SweepError(f"not a finished sweep folder (no {' or '.join(missing)}); "
                         "run adoptsim sweep first, or finish it by running it again",
                         file=str(folder))
    settings, _ = read_yaml(folder / SPEC_FILE)
    spec = load_model_file(folder / SPEC_FILE, SweepSpec)
    design = build_design(spec.parameters, spec.design)
    columns = ["run_id", "design_point", "replication", "seed", *spec.parameters]
    _check_design(design, read_table(folder / DESIGN_FILE, columns), folder)
    results = read_table(folder / RESULTS_FILE, [*columns, "status", *spec.outcomes])
    return SweepData(folder, results, settings, folder / SPEC_FILE, manifest, spec, design)


def _settings(folder: Path, manifest: dict) -> tuple[dict, Path]:
    """The sweep file as run: ``sweep.yaml`` in the folder, or the manifest's copy."""
    try:
        settings = load_yaml(folder / SPEC_FILE)
    except ScenarioError:
        settings = None
    if isinstance(settings, dict):
        return settings, folder / SPEC_FILE
    return manifest.get("spec") or {}, folder / MANIFEST_FILE


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
