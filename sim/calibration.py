"""Calibration by simulated method of moments, with common random numbers.

The free behavioural parameters (named, with bounds, in the targets file) are chosen to bring the
mean over R replications of each targeted metric close to its target. The objective is

    sum_k ((mean_k(theta) - target_k) / tolerance_k)^2  +  prior_weight * sum_j ((theta_j - prior_j) / range_j)^2

where the second term is a weak pull towards the hand-set starting values, so that parameters the
targets cannot tell apart stay where they were instead of drifting. Every candidate is simulated
with the same replication seeds, so the objective changes only through the parameters (common
random numbers). The search is a scrambled Sobol scan of the box (global stage) followed by a
bounded Nelder-Mead polish from the best points (local stage). Replications run in parallel.

Runs stop at the last targeted quarter: the model draws its population for the whole horizon,
so those quarters are exactly the first quarters of a full run.

Nothing here writes files or draws plots: :func:`calibrate` returns a :class:`Calibration`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim import runner
from sim.metrics import METRIC_INDEX, METRICS, SEGMENTS
from sim.quarters import parse_quarter
from sim.scenario import ScenarioError, load_model_file, load_scenario
from sim.schema import Confidence, Positive, QuarterText, Scenario, Strict


class Target(Strict):
    """An observed figure the model must reproduce, with its provenance."""

    metric: str
    level: Literal["workload", "enterprise"]
    segment: str = "all"
    quarter: QuarterText
    value: float
    tolerance: Positive
    source: str
    confidence: Confidence

    @field_validator("metric", "segment")
    @classmethod
    def _known(cls, name: str, info) -> str:
        known = METRICS if info.field_name == "metric" else SEGMENTS
        if name not in known:
            raise ValueError(f"unknown {info.field_name} '{name}'; {info.field_name}s: {', '.join(known)}")
        return name

    @property
    def label(self) -> str:
        segment = "" if self.segment == "all" else f"[{self.segment}]"
        return f"{self.metric}{segment}@{self.quarter}"


class FreeParameter(Strict):
    """A parameter the calibration fits: its bounds and the hand-set prior the search starts
    from and is weakly pulled towards (given here, so that a calibration never depends on the
    result of the previous one)."""

    low: float
    high: float
    prior: float

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        if not self.low <= self.prior <= self.high:
            raise ValueError(f"prior ({self.prior}) must lie within [{self.low}, {self.high}]")
        return self


class Search(Strict):
    """How hard to search: Sobol points of the global scan, Nelder-Mead evaluations per start,
    how many of the best scan points to polish, and points per parameter profile."""

    global_points: Annotated[int, Field(ge=1, le=4096)] = 64
    local_evaluations: Annotated[int, Field(ge=0, le=5000)] = 150
    starts: Annotated[int, Field(ge=1, le=16)] = 2
    profile_points: Annotated[int, Field(ge=2, le=101)] = 11


class Quick(Strict):
    """The ``--quick`` mode: a small population and a short search, for smoke tests."""

    enterprises: Annotated[int, Field(ge=10)] = 300
    replications: Annotated[int, Field(ge=1)] = 4
    search: Search = Search(global_points=8, local_evaluations=12, starts=1, profile_points=3)


class CalibrationSettings(Strict):
    replications: Annotated[int, Field(ge=1, le=1000)] = 16
    seed: Annotated[int, Field(ge=0)] = 2025
    writes: str = Field(description="the scenario fragment the fitted values are written to, "
                        "relative to the targets file")
    parameters: dict[str, FreeParameter]
    prior_weight: Annotated[float, Field(ge=0.0)] = 0.01
    search: Search = Search()
    quick: Quick = Quick()

    @field_validator("writes")
    @classmethod
    def _beside_the_targets(cls, writes: str) -> str:
        parts = PurePosixPath(writes).parts
        if not parts or PurePosixPath(writes).is_absolute() or ".." in parts or "\\" in writes:
            raise ValueError("writes names a file in the targets file's folder or below it "
                             "(a relative path without '..')")
        return writes

    @field_validator("parameters")
    @classmethod
    def _some(cls, parameters: dict[str, FreeParameter]) -> dict[str, FreeParameter]:
        if not parameters:
            raise ValueError("name at least one free parameter")
        return parameters


class TargetsFile(Strict):
    targets: list[Target]
    calibration: CalibrationSettings

    @field_validator("targets")
    @classmethod
    def _some(cls, targets: list[Target]) -> list[Target]:
        if not targets:
            raise ValueError("give at least one target")
        return targets


def load_targets(path: str | Path) -> TargetsFile:
    return load_model_file(path, TargetsFile)


def parameter_overrides(names: list[str], values: np.ndarray) -> list[str]:
    return [f"{name}={float(value)!r}" for name, value in zip(names, values)]


def read_parameter(scenario: Scenario, name: str) -> float:
    """The value of a dotted key path in a scenario."""
    value = scenario
    for key in name.split("."):
        value = value[key] if isinstance(value, dict) else getattr(value, key)
    return float(value)


def check_targets(scenario: Scenario, targets: TargetsFile, path: str | Path) -> None:
    """Targets must fall inside the horizon; parameters must be numeric scenario keys."""
    start, end = parse_quarter(scenario.horizon.start), parse_quarter(scenario.horizon.end)
    for index, target in enumerate(targets.targets):
        if not start <= parse_quarter(target.quarter) <= end:
            raise ScenarioError(f"target quarter {target.quarter} is outside the scenario's horizon "
                                f"{scenario.horizon.start}..{scenario.horizon.end}", file=str(path),
                                key_path=f"targets.{index}.quarter")
    for name, bounds in targets.calibration.parameters.items():
        try:
            read_parameter(scenario, name)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ScenarioError(f"'{name}' is not a numeric key of the scenario", file=str(path),
                                key_path=f"calibration.parameters.{name}") from None
        load_scenario(scenario, parameter_overrides([name], np.array([bounds.low])))


@dataclass
class Evaluation:
    parameters: np.ndarray   # natural units
    objective: float
    moments: np.ndarray      # (replications, targets)


@dataclass
class Calibration:
    """The fitted parameters, the fit, and what the search saw."""

    scenario: Scenario           # with the fitted values
    targets: list[Target]
    names: list[str]
    bounds: np.ndarray           # (parameters, 2)
    prior: np.ndarray
    best: Evaluation
    evaluations: int
    seeds: list[np.random.SeedSequence]
    paths: np.ndarray            # (replications, quarters, targets) at the optimum
    profiles: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    wall_seconds: float = 0.0

    @property
    def at_bounds(self) -> list[str]:
        """Parameters within 1% of the range from a bound: the report must say so."""
        span = self.bounds[:, 1] - self.bounds[:, 0]
        near = ((self.best.parameters - self.bounds[:, 0] < 0.01 * span)
                | (self.bounds[:, 1] - self.best.parameters < 0.01 * span))
        return [name for name, flag in zip(self.names, near) if flag]


class MomentObjective:
    """Simulated moments of the targets for any candidate, with common random numbers."""

    def __init__(self, scenario: Scenario, settings: CalibrationSettings, targets: list[Target],
                 pool, replications: int):
        self.scenario = scenario
        self.targets = targets
        self.names = list(settings.parameters)
        self.bounds = np.array([[b.low, b.high] for b in settings.parameters.values()])
        self.prior = np.array([p.prior for p in settings.parameters.values()])
        self.prior_weight = settings.prior_weight
        self.seeds = runner.replication_seeds(settings.seed, replications)
        start = parse_quarter(scenario.horizon.start)
        self.target_quarters = np.array([parse_quarter(t.quarter) - start for t in targets])
        self.run_quarters = int(self.target_quarters.max()) + 1
        self.target_cells = (np.array([METRIC_INDEX[t.metric] for t in targets]),
                             np.array([SEGMENTS.index(t.segment) for t in targets]))
        self.values = np.array([t.value for t in targets])
        self.tolerance = np.array([t.tolerance for t in targets])
        self.pool = pool
        self.cache: dict[tuple, Evaluation] = {}
        self.history: list[Evaluation] = []

    def to_natural(self, unit: np.ndarray) -> np.ndarray:
        return self.bounds[:, 0] + np.clip(unit, 0.0, 1.0) * (self.bounds[:, 1] - self.bounds[:, 0])

    def candidate(self, parameters: np.ndarray) -> Scenario:
        return load_scenario(self.scenario, parameter_overrides(self.names, parameters))

    def simulate(self, parameters: np.ndarray) -> np.ndarray:
        """(replications, quarters, metrics, segments) values of the first targeted quarters."""
        scenario = self.candidate(parameters)
        tasks = [(scenario, seed, self.run_quarters) for seed in self.seeds]
        mapper = self.pool.map if self.pool is not None else map
        return np.stack(list(mapper(_simulate_until, tasks)))[:, :self.run_quarters]

    def evaluate(self, parameters: np.ndarray) -> Evaluation:
        key = tuple(np.round(parameters, 12))
        if key not in self.cache:
            values = self.simulate(parameters)
            moments = values[:, self.target_quarters, self.target_cells[0], self.target_cells[1]]
            misfit = (((moments.mean(axis=0) - self.values) / self.tolerance) ** 2).sum()
            span = self.bounds[:, 1] - self.bounds[:, 0]
            penalty = self.prior_weight * (((parameters - self.prior) / span) ** 2).sum()
            self.cache[key] = Evaluation(parameters, float(misfit + penalty), moments)
            self.history.append(self.cache[key])
        return self.cache[key]

    def best(self) -> Evaluation:
        return min(self.history, key=lambda evaluation: evaluation.objective)


def _simulate_until(task) -> np.ndarray:
    scenario, seed, quarters = task
    return runner.simulate(scenario, seed, quarters=quarters)


def _search(objective: MomentObjective, search: Search, seed: int, progress) -> None:
    """Global Sobol scan of the unit box (and the prior), then bounded Nelder-Mead from the
    best points."""
    from scipy.optimize import minimize
    from scipy.stats import qmc

    def unit_objective(unit: np.ndarray) -> float:
        evaluation = objective.evaluate(objective.to_natural(unit))
        progress(objective)
        return evaluation.objective

    dimensions = len(objective.names)
    span = objective.bounds[:, 1] - objective.bounds[:, 0]
    unit_prior = (objective.prior - objective.bounds[:, 0]) / span
    points = np.vstack([unit_prior, qmc.Sobol(dimensions, scramble=True, seed=seed).random(search.global_points)])
    scores = [unit_objective(point) for point in points]
    if not search.local_evaluations:
        return
    for start in points[np.argsort(scores, kind="stable")[:search.starts]]:
        minimize(unit_objective, start, method="Nelder-Mead", bounds=[(0.0, 1.0)] * dimensions,
                 options={"maxfev": search.local_evaluations, "xatol": 1e-3, "fatol": 1e-3,
                          "initial_simplex": _simplex(start)})


def _simplex(start: np.ndarray, step: float = 0.1) -> np.ndarray:
    """A starting simplex around ``start`` that stays inside the unit box."""
    vertices = [start]
    for axis in range(start.size):
        vertex = start.copy()
        vertex[axis] += step if vertex[axis] + step <= 1.0 else -step
        vertices.append(vertex)
    return np.array(vertices)


def _profiles(objective: MomentObjective, points: int, progress) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The objective along each parameter's range, the others held at the optimum."""
    optimum = objective.best().parameters
    profiles = {}
    for axis, name in enumerate(objective.names):
        grid = np.linspace(*objective.bounds[axis], points)
        values = []
        for value in grid:
            candidate = optimum.copy()
            candidate[axis] = value
            values.append(objective.evaluate(candidate).objective)
            progress(objective)
        profiles[name] = (grid, np.array(values))
    return profiles


def calibrate(scenario: Scenario | str | Path, targets_path: str | Path, *, quick: bool = False,
              workers: int | None = None, progress=None) -> Calibration:
    """Fit the targets file's free parameters of ``scenario`` to its targets."""
    started = time.perf_counter()
    targets = load_targets(targets_path)
    settings = targets.calibration
    scenario = load_scenario(scenario)
    search, replications = settings.search, settings.replications
    if quick:
        scenario = load_scenario(scenario, [f"population.enterprises={settings.quick.enterprises}"])
        search, replications = settings.quick.search, settings.quick.replications
    check_targets(scenario, targets, targets_path)
    progress = progress or (lambda objective: None)
    workers = runner.worker_count(workers, replications, "replications")
    with runner.process_pool(workers) if workers > 1 else contextlib.nullcontext() as pool:
        objective = MomentObjective(scenario, settings, targets.targets, pool, replications)
        _search(objective, search, settings.seed, progress)
        profiles = _profiles(objective, search.profile_points, progress)
        best = objective.best()
        fitted = objective.candidate(best.parameters)
        paths = objective.simulate(best.parameters)[:, :, objective.target_cells[0],
                                                    objective.target_cells[1]]
    return Calibration(scenario=fitted, targets=targets.targets, names=objective.names,
                       bounds=objective.bounds, prior=objective.prior, best=best,
                       evaluations=len(objective.history), seeds=objective.seeds, paths=paths,
                       profiles=profiles, wall_seconds=time.perf_counter() - started)
