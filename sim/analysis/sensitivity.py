"""Global sensitivity analysis with SALib: Sobol indices and Morris elementary effects.

Each method is one function with the same call, ``method(design, y, *, seed=0,
confidence=0.95)``: ``design`` is the :class:`~sim.sweep.design.Design` the runs were drawn
from and ``y`` one value per design point, in design order (for a stochastic model, the mean
over replications: :meth:`~sim.analysis.data.SweepData.point_means`). Each returns a table
indexed by parameter. Indices are computed in the unit coordinates the design was drawn in, so
Morris effects are per whole range of a parameter and comparable across parameters.

* :func:`sobol` (Sobol design): first-order ``S1`` and total ``ST`` indices with the half-widths
  of their bootstrap confidence intervals ``S1_conf`` and ``ST_conf``;
* :func:`morris` (Morris design): ``mu``, ``mu_star`` (mean absolute effect) with
  ``mu_star_conf``, and ``sigma`` (spread of effects: interactions or non-linearity).

SALib is imported inside the functions, so importing this module is instant.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.sweep.design import Design

CONFIDENCE = 0.95
RESAMPLES = 1000


def _checked(design: Design, y, method: str) -> np.ndarray:
    if design.method != method:
        raise ValueError(f"{method} indices need a {method} design, not a {design.method} design")
    y = np.asarray(y, dtype=float)
    if y.shape != (len(design),):
        raise ValueError(f"y needs one value per design point ({len(design)}), got shape {y.shape}")
    if np.isnan(y).any():
        raise ValueError(f"{int(np.isnan(y).sum())} design point(s) have no value "
                         f"(every replication failed); {method} indices need all of them")
    return y


def sobol(design: Design, y, *, seed: int = 0, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Sobol first-order and total indices with confidence half-widths, per parameter."""
    from SALib.analyze import sobol as salib_sobol

    y = _checked(design, y, "sobol")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant outcome has no variance
        indices = salib_sobol.analyze(design.problem, y, calc_second_order=design.second_order,
                                      num_resamples=RESAMPLES, conf_level=confidence, seed=seed)
    return _table(design, indices, ("S1", "S1_conf", "ST", "ST_conf"))


def morris(design: Design, y, *, seed: int = 0, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Morris mu, mu* with its confidence half-width, and sigma, per parameter."""
    from SALib.analyze import morris as salib_morris

    y = _checked(design, y, "morris")
    indices = salib_morris.analyze(
        design.problem,
        design.unit,
        y,
        num_resamples=RESAMPLES,
        conf_level=confidence,
        num_levels=design.morris_levels,
        seed=seed,
    )
    return _table(design, indices, ("mu", "mu_star", "mu_star_conf", "sigma"))


def _table(design: Design, indices, columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({column: np.asarray(indices[column], dtype=float) for column in columns},
                        index=pd.Index(design.names, name="parameter"))


METHODS = {"sobol": sobol, "morris": morris}
"""The sensitivity method for each design that supports one."""


def sensitivity_table(data, *, seed: int = 0, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Indices of every outcome of a sweep (:class:`~sim.analysis.data.SweepData`) by the
    method its design supports, as one long table: outcome, parameter, then the method's
    columns. Outcomes with design points that have no value are left out."""
    method = METHODS[data.design.method]
    tables = []
    for outcome in data.outcomes:
        y = data.point_means(outcome)
        if np.isnan(y).any():
            continue
        table = method(data.design, y, seed=seed, confidence=confidence)
        tables.append(table.reset_index().assign(outcome=outcome))
    if not tables:
        return pd.DataFrame()
    frame = pd.concat(tables, ignore_index=True)
    return frame[["outcome", *[c for c in frame.columns if c != "outcome"]]]
