"""Experiment designs: the parameter values of every design point, and every run's seed.

Every design is drawn in the unit hypercube, one coordinate in [0, 1] per parameter, and each
coordinate is mapped to a value by its parameter: ``low + u (high - low)`` for a uniform range,
log-uniform or whole numbers likewise, and the ``floor(u n)``-th of ``n`` levels or categories.
Grids place each level at the middle of its slice of [0, 1]; Latin hypercube, Sobol (Saltelli)
and Morris samples come from SALib with unit bounds, so sensitivity analysis sees the design in
the same coordinates it was drawn in (Morris effects are per whole range of a parameter).

Run seeds come from ``numpy.random.SeedSequence(seed, spawn_key=...)``: with common random
numbers the key is the replication alone, so replication ``r`` sees the same draws at every
design point; without, it is (design point, replication). Seeds never depend on the executor,
the worker count or the order in which runs finish.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

from sim.sweep.spec import DesignSpec, Parameter

RUN_COLUMNS = ("run_id", "design_point", "replication", "seed")


@dataclass(frozen=True)
class Design:
    """Design points: ``unit`` coordinates (points x parameters, in [0, 1]) and the
    ``points`` table of parameter values they map to (one column per parameter)."""

    method: str
    parameters: Mapping[str, Parameter]
    unit: np.ndarray
    points: pd.DataFrame
    second_order: bool = False
    morris_levels: int = 4

    def __len__(self) -> int:
        return len(self.points)

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    @property
    def problem(self) -> dict:
        """The SALib problem the design was drawn for: every parameter on [0, 1]."""
        return unit_problem(self.names)


def unit_problem(names: list[str]) -> dict:
    """A SALib problem with every parameter on [0, 1]."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def build_design(parameters: Mapping[str, Parameter], spec: DesignSpec) -> Design:
    """Draw the design ``spec`` asks for over ``parameters`` (deterministic in ``spec.seed``)."""
    parameters = dict(parameters)
    unit = _SAMPLERS[spec.method](parameters, spec)
    points = pd.DataFrame({name: parameter_values(parameter, unit[:, column])
                           for column, (name, parameter) in enumerate(parameters.items())})
    return Design(spec.method, parameters, unit, points, spec.second_order, spec.morris_levels)


def _grid(parameters: dict[str, Parameter], spec: DesignSpec) -> np.ndarray:
    """Every combination of levels, the first parameter varying slowest."""
    axes = [(np.arange(len(p.choices)) + 0.5) / len(p.choices) for p in parameters.values()]
    return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(axes))


def _lhs(parameters: dict[str, Parameter], spec: DesignSpec) -> np.ndarray:
    from SALib.sample import latin

    return latin.sample(unit_problem(list(parameters)), spec.samples, seed=spec.seed)


def _sobol(parameters: dict[str, Parameter], spec: DesignSpec) -> np.ndarray:
    from SALib.sample import sobol

    return sobol.sample(
        unit_problem(list(parameters)),
        spec.samples,
        calc_second_order=spec.second_order,
        seed=spec.seed,
    )


def _morris(parameters: dict[str, Parameter], spec: DesignSpec) -> np.ndarray:
    from SALib.sample import morris

    return morris.sample(
        unit_problem(list(parameters)), spec.samples, num_levels=spec.morris_levels, seed=spec.seed
    )


_SAMPLERS = {"grid": _grid, "lhs": _lhs, "sobol": _sobol, "morris": _morris}


def parameter_values(parameter: Parameter, unit: np.ndarray) -> np.ndarray | list:
    """Map unit coordinates to the parameter's values (see the module docstring)."""
    if parameter.discrete:
        choices = parameter.choices
        index = np.minimum((unit * len(choices)).astype(int), len(choices) - 1)
        return [choices[i] for i in index]
    low, high = parameter.range
    if parameter.distribution == "loguniform":
        return np.clip(np.exp(math.log(low) + unit * (math.log(high) - math.log(low))), low, high)
    if parameter.distribution == "integer":
        return np.minimum(low + np.floor(unit * (high - low + 1)), high).astype(np.int64)
    return low + unit * (high - low)


def probe_values(parameter: Parameter) -> list:
    """The values that show whether a parameter fits the scenario: every level or category,
    or both ends of a range."""
    if parameter.discrete:
        return parameter.choices
    return [_plain(v) for v in parameter_values(parameter, np.array([0.0, 1.0]))]


def overrides(parameters: Mapping[str, Parameter], values: Mapping[str, object]) -> list[str]:
    """The ``--set`` overrides that give parameters ``values`` (a category expands to its
    preset)."""
    settings = []
    for name, parameter in parameters.items():
        value = _plain(values[name])
        preset = parameter.categories[value] if parameter.categories is not None else {name: value}
        settings += [f"{key}={yaml_text(setting)}" for key, setting in preset.items()]
    return settings


def yaml_text(value: object) -> str:
    """``value`` as YAML flow text that parses back to an equal value (floats exactly)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf)
    return text.removesuffix("\n...\n").removesuffix("\n")


def _plain(value: object) -> object:
    """A numpy scalar as the Python number it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def run_seed(seed: int, point: int, replication: int, common_random_numbers: bool) -> int:
    """A run's integer seed (below 2**63) from the sweep seed, its point and replication."""
    key = (replication,) if common_random_numbers else (point, replication)
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, np.uint32)
    return (int(state[0]) << 31) | (int(state[1]) >> 1)


def run_table(design: Design, replications: int, seed: int, common_random_numbers: bool
              ) -> pd.DataFrame:
    """One row per run, point-major: run_id, design_point, replication, seed, then the values."""
    points = np.repeat(np.arange(len(design)), replications)
    copies = np.tile(np.arange(replications), len(design))
    table = pd.DataFrame({
        "run_id": np.arange(points.size, dtype=np.int64),
        "design_point": points.astype(np.int64),
        "replication": copies.astype(np.int32),
        "seed": np.array([run_seed(seed, p, r, common_random_numbers)
                          for p, r in zip(points.tolist(), copies.tolist())], dtype=np.int64),
    })
    values = design.points.iloc[points].reset_index(drop=True)
    return pd.concat([table, values], axis=1)
