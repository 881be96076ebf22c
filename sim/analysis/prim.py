"""Scenario discovery: PRIM boxes of parameter ranges where a condition on an outcome holds.

PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999, as used for scenario discovery
by Bryant & Lempert 2010) peels thin slices off the parameter space, each time the slice whose
removal raises the share of runs meeting the condition (the box's *density*) the most, while
the box keeps as many of those runs as it can (its *coverage*). The peeling trajectory is the
trade-off between the two. The implementation is the EMA Workbench's (``ema_workbench``), which
handles numeric, integer and categorical parameters; it is imported inside :func:`find_box`.

Every run is one case (replications included), so density is the chance that the condition holds
in the box, randomness and all. The chosen box is the one with the highest coverage among those
whose density reaches ``threshold``, the densest of them on a tie; without any such box, the
densest box of the trajectory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.sweep.spec import PrimSpec, parse_condition

TRAJECTORY_COLUMNS = ["coverage", "density", "mass", "res_dim", "n", "k"]


@dataclass(frozen=True)
class PrimResult:
    """A peeling trajectory and the box limits at each of its steps.

    ``trajectory``: one row per step (index ``step``) with coverage, density, mass, res_dim
    (restricted parameters), n (runs in the box) and k (of which meet the condition).
    ``limits``: one row per step and parameter with lower and upper (numeric parameters) or
    categories (categorical ones) and whether the box restricts that parameter.
    """

    condition: str
    trajectory: pd.DataFrame
    limits: pd.DataFrame
    selected: int
    threshold: float

    def box(self, step: int | None = None) -> pd.DataFrame:
        """The limits of one box (default: the chosen one), indexed by parameter."""
        step = self.selected if step is None else step
        return self.limits[self.limits["step"] == step].drop(columns="step").set_index("parameter")

    @property
    def stats(self) -> pd.Series:
        """Coverage, density, mass... of the chosen box."""
        return self.trajectory.loc[self.selected]


def find_box(x: pd.DataFrame, y, *, threshold: float = 0.8, peel_alpha: float = 0.05,
             mass_min: float = 0.05, condition: str = "y") -> PrimResult:
    """Run PRIM on parameters ``x`` (one row per case) and booleans ``y`` (the condition)."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        raise ValueError(f"{'every' if y.all() else 'no'} run meets the condition {condition}; "
                         "PRIM needs runs on both sides")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns about optional parallel back-ends
        from ema_workbench.analysis import prim

        box = prim.Prim(x.reset_index(drop=True), y, threshold=threshold, peel_alpha=peel_alpha,
                        mass_min=mass_min).find_box()
    trajectory = box.peeling_trajectory[TRAJECTORY_COLUMNS].reset_index(drop=True)
    trajectory.index.name = "step"
    limits = _limits(box.box_lims, list(x.columns))
    return PrimResult(condition, trajectory, limits, choose_box(trajectory, threshold), threshold)


def _limits(box_lims: list[pd.DataFrame], parameters: list[str]) -> pd.DataFrame:
    """Long table of every step's limits; a parameter is restricted where they differ from the
    first (unrestricted) box's."""
    rows = []
    first = box_lims[0]
    for step, lims in enumerate(box_lims):
        for name in parameters:
            if name not in lims:  # a parameter with a single value takes no part
                continue
            lower, upper = lims[name].iloc[0], lims[name].iloc[1]
            categorical = isinstance(lower, set)
            rows.append({
                "step": step, "parameter": name,
                "lower": np.nan if categorical else float(lower),
                "upper": np.nan if categorical else float(upper),
                "categories": ", ".join(sorted(map(str, lower))) if categorical else "",
                "restricted": bool(lower != first[name].iloc[0] or upper != first[name].iloc[1]),
            })
    return pd.DataFrame(rows)


def choose_box(trajectory: pd.DataFrame, threshold: float) -> int:
    """The step of the PRIM ``trajectory`` to report: the one of highest coverage (then density)
    among those with density at least ``threshold``, else the densest."""
    dense = trajectory[trajectory["density"] >= threshold]
    if dense.empty:
        return int(trajectory["density"].idxmax())
    return int(dense.sort_values(["coverage", "density"], ascending=False, kind="stable").index[0])


def discover(data, prim: PrimSpec | str) -> PrimResult:
    """PRIM boxes for a condition (text or :class:`~sim.sweep.spec.PrimSpec`) over a sweep's
    parameters (:class:`~sim.analysis.data.SweepData`), one case per finished run."""
    prim = PrimSpec(condition=prim) if isinstance(prim, str) else prim
    condition = parse_condition(prim.condition)
    if condition.outcome not in data.results.columns:
        raise ValueError(f"'{condition.outcome}' is not an outcome of this sweep; outcomes: "
                         f"{', '.join(data.outcomes)}")
    runs = data.finished
    y = condition.holds(runs[condition.outcome].to_numpy())
    return find_box(runs[data.parameters], y, threshold=prim.threshold, peel_alpha=prim.peel_alpha,
                    mass_min=prim.mass_min, condition=str(condition))
