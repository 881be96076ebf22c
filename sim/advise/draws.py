"""A scenario under its posterior draws, arranged so that one enterprise's choices can be
evaluated for every draw at once.

The model's formulas (:mod:`sim.core.economics`, :mod:`sim.core.market`, the kernel's
:func:`~sim.core.kernel.option_costs` and :func:`~sim.core.kernel.option_utilities`) are plain
arithmetic on their arguments' attributes, so they work as well on arrays as on scalars. Here
each draw's scenario (:func:`sim.core.posterior.replication_scenario`: draw ``i`` is replication
``i``'s) is read once, and every numeric setting of its behaviour and economics, its platform
staff and its expected signal paths are stacked over the draws. :meth:`Draws.rows` then hands
out, for any list of cases (each a draw), namespaces whose attributes are columns (one row per
case) that broadcast against a row of workloads: one call of the model's formulas evaluates
every case and workload together.

The signals are the scenario's expected paths as decisions read them
(:func:`sim.core.signals.expected_paid_signal_paths`: its trends without noise, routine work at
the fixed-capability price enterprises have moved to), which is what an enterprise plans on.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from pydantic import BaseModel

from sim.core.market import platform_staff
from sim.core.posterior import replication_scenario
from sim.core.schema import Scenario
from sim.core.signal_table import SIGNALS
from sim.core.signals import expected_paid_signal_paths


def _stacked(models: list) -> SimpleNamespace:
    """The settings of ``models`` (pydantic models of one type) stacked over them: a number
    that differs between them becomes an array, one that does not stays a number, a nested
    model is stacked in turn, anything else is the first model's."""
    stacked = {}
    for name in type(models[0]).model_fields:
        values = [getattr(model, name) for model in models]
        first = values[0]
        if isinstance(first, BaseModel):
            stacked[name] = _stacked(values)
        elif isinstance(first, int | float) and not isinstance(first, bool):
            column = np.array(values, dtype=float)
            stacked[name] = column if np.any(column != column[0]) else first
        else:
            stacked[name] = first
    return SimpleNamespace(**stacked)


def _rows(stacked: SimpleNamespace, cases: np.ndarray) -> SimpleNamespace:
    """``stacked`` for ``cases`` (draw indices): every array a column, one row per case."""
    return SimpleNamespace(**{
        name: (_rows(value, cases) if isinstance(value, SimpleNamespace)
               else value[cases][:, None] if isinstance(value, np.ndarray) else value)
        for name, value in vars(stacked).items()})


@dataclass
class Draws:
    """A scenario's draws stacked (see the module docstring)."""

    scenario: Scenario
    count: int
    behaviour: SimpleNamespace
    economics: SimpleNamespace
    platform_staff: np.ndarray   # per draw: engineers the platform needs at the profile's size
    signals: dict                # name -> (draws, quarters) or (draws, quarters, regions)

    @classmethod
    def of(cls, scenario: Scenario, size_band: int, count: int | None = None) -> Draws:
        """The scenario's first ``count`` posterior draws (default all; one, the scenario's
        own values, without a posterior)."""
        posterior = scenario.posterior
        available = len(posterior.draws) if posterior and posterior.parameters else 1
        count = available if count is None else min(count, available)
        points = [replication_scenario(scenario, index) for index in range(count)]
        paths = [expected_paid_signal_paths(point) for point in points]
        return cls(scenario=scenario, count=count,
                   behaviour=_stacked([point.behaviour for point in points]),
                   economics=_stacked([point.economics for point in points]),
                   platform_staff=np.array([float(platform_staff(point, size_band))
                                            for point in points]),
                   signals={spec.name: np.stack([getattr(path, spec.name) for path in paths])
                            for spec in SIGNALS})

    def rows(self, cases: np.ndarray, quarter: int, region: int) -> SimpleNamespace:
        """(behaviour, economics, signals, platform staff) for ``cases``: the signals at
        ``quarter`` (counted from the horizon start), a regional one in ``region``; each a
        column with one row per case."""
        signals = {}
        for spec in SIGNALS:
            path = self.signals[spec.name][cases, quarter]
            signals[spec.name] = (path[:, region] if spec.regional else path)[:, None]
        return SimpleNamespace(behaviour=_rows(self.behaviour, cases),
                               economics=_rows(self.economics, cases),
                               signals=SimpleNamespace(**signals),
                               platform_staff=self.platform_staff[cases][:, None])

    def signal(self, name: str, quarter: int, region: int) -> np.ndarray:
        """Every draw's value of one signal at ``quarter`` (a regional one in ``region``)."""
        path = self.signals[name][:, quarter]
        return path[:, region] if path.ndim == 2 else path
