"""Writing a calibration where scenarios read it: the posterior draws and the fragment the
baseline extends, put back as they were when the scenario does not take them.

The draws are a CSV (``draw``, then one column per parameter: :func:`draws_table`) that a
scenario file names with ``posterior: {file: ...}`` (:mod:`sim.core.scenario` reads it); the
fragment is a scenario file holding the posterior medians as scenario keys and that reference
(:func:`write_posterior`). Both go where the targets file's ``calibration`` settings say,
relative to the targets file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml

from sim.core.posterior import value_at
from sim.core.scenario import load_scenario
from sim.core.settings_file import ScenarioError
from sim.running import storage

if TYPE_CHECKING:
    from sim.calibration.fit import Calibration
    from sim.calibration.panel import CalibrationSettings

DIGITS = 6   # the medians' rounding in the fragment


def draws_table(calibration: Calibration) -> pd.DataFrame:
    """The equally weighted posterior draws: ``draw``, then one column per parameter."""
    frame = pd.DataFrame(calibration.draws, columns=calibration.names)
    frame.insert(0, "draw", np.arange(len(frame)))
    return frame


def nested_keys(names: list[str], values) -> dict:
    """Dotted key paths and values (rounded to :data:`DIGITS` places) as the nested mapping a
    scenario file holds."""
    nested: dict = {}
    for name, value in zip(names, values):
        *parents, leaf = name.split(".")
        node = nested
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = round(float(value), DIGITS)
    return nested


def write_posterior(calibration: Calibration, targets_path: Path,
                    settings: CalibrationSettings, scenario_source, report: dict) -> list[Path]:
    """Write the posterior draws (``settings.posterior``) and the fragment the baseline extends
    (``settings.writes``: the posterior medians as scenario keys and a reference to the draws),
    both relative to the targets file; ``report`` (``calibration.json``) gives the command and
    date for the fragment's header. Then check that ``scenario_source`` resolves to the medians
    and carries the draws (it extends the fragment, and no file later in its chain shadows a
    fitted key); if not, put both files back as they were and raise a :class:`ScenarioError`."""
    fragment_path = targets_path.parent / settings.writes
    draws_path = targets_path.parent / settings.posterior
    previous = {path: path.read_bytes() if path.exists() else None
                for path in (fragment_path, draws_path)}
    header = (
        f"# Written by `{report['command']}` on {report['created']}: the posterior medians of "
        f"{len(calibration.names)} parameters and {len(calibration.draws)} posterior draws.\n"
        "# Do not edit by hand; recalibrate instead (see README, Calibration).\n"
    )
    body = nested_keys(calibration.names, calibration.medians)
    body["posterior"] = {"file": os.path.relpath(draws_path, fragment_path.parent)}
    storage.write_csv(draws_path, draws_table(calibration))
    storage.write_text(fragment_path, header + yaml.safe_dump(body, sort_keys=False))
    shadowed = _not_taken(calibration, load_scenario(scenario_source))
    if shadowed:
        _restore(previous)
        raise ScenarioError(
            f"the scenario does not take {', '.join(shadowed)} from {fragment_path}: "
            "it must extend that file, and no file after it may set those keys "
            "(nothing was changed)",
            file=str(scenario_source),
        )
    return [draws_path, fragment_path]


def _not_taken(calibration: Calibration, resolved) -> list[str]:
    """The fitted parameters the resolved scenario does not hold at their median, or not among
    its posterior draws."""
    return [name for name, value in zip(calibration.names, calibration.medians)
            if abs(value_at(resolved, name) - round(float(value), DIGITS)) > 1e-9
            or resolved.posterior is None or name not in resolved.posterior.parameters]


def _restore(previous: dict[Path, bytes | None]) -> None:
    """Put files back as they were: their old content, or no file where there was none."""
    for path, content in previous.items():
        if content is None:
            path.unlink()
        else:
            storage.write_bytes(path, content)
