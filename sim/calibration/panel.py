"""The targets file: the panel of observations the model is fitted to, and the fit's settings.

Each panel entry is one dated observation of enterprise adoption: what a survey counted, the
model metric and segment it maps to, the quarter it describes, the observed value and a
tolerance that reflects the source's confidence (one tolerance of miss is one unit of misfit).
An ``upper_bound`` entry (a share measured on a wider population than enterprises) only counts
when the model exceeds it; a ``lower_bound`` entry (a survey that counts a stricter condition
than the model's metric) only when the model falls short of it. The ``calibration`` block holds
the uniform priors of the free
parameters (any numeric scenario keys) and the size of the fit.

Loading is strict (unknown keys are errors) and reports problems like a scenario file does:
file, line, key path (:func:`sim.core.settings_file.load_model_file`). Nothing here runs the model.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.core.metric_table import METRIC_NAMES
from sim.core.metrics import SEGMENTS
from sim.core.quarters import parse_quarter
from sim.core.schema import Confidence, Positive, QuarterText, Scenario, Strict

#: The project's targets file, in the source tree: what run reports compare runs with.
PROJECT_TARGETS = Path(__file__).resolve().parents[2] / "scenarios" / "targets.yaml"
MISSING_MISFIT = 100.0   # misfit of a metric the simulation could not measure (an empty segment)
MIN_WRITTEN_DRAWS = 200  # the full fit's posterior draws, one per projected replication


class Target(Strict):
    """One dated observation of the panel, with what it counted and where it comes from."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    counts: str = Field(description="what the survey counted")
    metric: str = Field(description="the model metric the observation maps to (sim.core.metrics)")
    segment: str = Field("all", description="the enterprises or workloads it covers")
    quarter: QuarterText
    value: float
    tolerance: Positive = Field(description="one unit of misfit: reflects the source's confidence")
    kind: Literal["estimate", "upper_bound", "lower_bound"] = Field(
        "estimate", description="upper_bound (lower_bound): only a simulated value above (below) "
        "it counts as a miss")
    source: str
    confidence: Confidence

    @field_validator("metric", "segment")
    @classmethod
    def _known(cls, name: str, info) -> str:
        known = METRIC_NAMES if info.field_name == "metric" else SEGMENTS
        if name not in known:
            raise ValueError(
                f"unknown {info.field_name} '{name}'; {info.field_name}s: {', '.join(known)}"
            )
        return name

    @property
    def label(self) -> str:
        """``metric[segment]@quarter``, the way sweeps name an outcome."""
        segment = "" if self.segment == "all" else f"[{self.segment}]"
        return f"{self.metric}{segment}@{self.quarter}"

    def misfit(self, simulated: float) -> float:
        """(simulated - observed) / tolerance; for a bound only the side beyond it counts."""
        if not math.isfinite(simulated):
            return MISSING_MISFIT
        misfit = (simulated - self.value) / self.tolerance
        if self.kind == "upper_bound":
            return max(misfit, 0.0)
        return min(misfit, 0.0) if self.kind == "lower_bound" else misfit

    def within(self, simulated: float) -> bool:
        """Whether ``simulated`` meets the observation: within one tolerance of an estimate, on
        the allowed side of a bound (no misfit)."""
        misfit = self.misfit(simulated)
        return abs(misfit) <= 1.0 if self.kind == "estimate" else misfit == 0.0

    def outside(self, predicted: np.ndarray) -> float:
        """How far the observation lies outside the 90% interval of the model's ``predicted``
        values, in tolerances (0: inside; positive: the observation is above the interval,
        negative: below). For a bound: how far the predictive mean is beyond it."""
        predicted = np.asarray(predicted, dtype=float)
        if not np.isfinite(predicted).any():
            return MISSING_MISFIT
        if self.kind != "estimate":
            return self.misfit(float(np.nanmean(predicted)))
        low, high = np.nanquantile(predicted, [0.05, 0.95])
        nearest = min(max(self.value, low), high)
        return float((self.value - nearest) / self.tolerance)


class FreeParameter(Strict):
    """A fitted parameter's uniform prior."""

    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


class Fit(Strict):
    """The size of a fit: particles per generation, how many generations at most, when to stop
    early, the population simulated, the batch of candidates simulated at once, how many
    equally weighted draws to keep, and how many times each draw is moved after resampling."""

    particles: Annotated[
        int, Field(ge=10, le=100_000, description="accepted particles per generation")
    ]
    generations: Annotated[int, Field(ge=1, le=100, description="SMC generations at most")]
    minimum_epsilon: Annotated[
        float,
        Field(
            ge=0.0,
            description=(
                "stop once the acceptance threshold (root summed squared misfit) is at or "
                "below this"
            ),
        ),
    ] = 0.0
    min_acceptance_rate: Annotated[float, Field(ge=0.0, le=1.0, description=(
        "stop once a generation accepts fewer candidates than this share"))] = 0.0
    enterprises: Annotated[int, Field(ge=10, description="enterprises per simulation")]
    batch: Annotated[int, Field(ge=1, le=10_000, description=(
        "candidates simulated at once; part of the fit's definition (the same seed and batch give "
        "the same posterior on any number of workers); larger batches keep more workers busy "
        "and waste more simulations at the end of each generation"))] = 32
    draws: Annotated[
        int, Field(ge=1, le=100_000, description="equally weighted posterior draws kept")
    ]
    moves: Annotated[int, Field(ge=0, le=100, description=(
        "ABC-MCMC moves of every posterior draw at the final threshold after resampling; they "
        "keep the posterior and replace the repeats resampling makes by distinct draws"))] = 0


class CalibrationSettings(Strict):
    seed: Annotated[int, Field(ge=0)]
    writes: str = Field(description="the scenario fragment the posterior medians are written to, "
                        "relative to the targets file")
    posterior: str = Field(description="the CSV of posterior draws, relative to the targets file")
    parameters: dict[str, FreeParameter] = Field(description=(
        "uniform priors: dotted scenario key -> {low, high}"))
    fit: Fit
    quick: Fit = Field(description="a smoke run of the machinery (--quick); writes only the report")

    @field_validator("writes", "posterior")
    @classmethod
    def _beside_the_targets(cls, name: str) -> str:
        """Written files stay in the targets file's folder or below it."""
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
            raise ValueError("name a file in the targets file's folder or below it "
                             "(a relative path without '..')")
        return name

    @field_validator("parameters")
    @classmethod
    def _some(cls, parameters: dict[str, FreeParameter]) -> dict[str, FreeParameter]:
        if not parameters:
            raise ValueError("name at least one free parameter")
        return parameters

    @field_validator("fit")
    @classmethod
    def _enough_draws(cls, fit: Fit) -> Fit:
        if fit.draws < MIN_WRITTEN_DRAWS:
            raise ValueError(f"draws must be at least {MIN_WRITTEN_DRAWS}: projections run one "
                             "replication per draw")
        return fit


class TargetsFile(Strict):
    targets: list[Target]
    calibration: CalibrationSettings

    @field_validator("targets")
    @classmethod
    def _some(cls, targets: list[Target]) -> list[Target]:
        if not targets:
            raise ValueError("give at least one target")
        names = [target.name for target in targets]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"target names must be unique; repeated: {', '.join(repeated)}")
        return targets


def load_targets(path: str | Path) -> TargetsFile:
    """The targets file at ``path``; a :class:`sim.core.settings_file.ScenarioError` naming
    file, line and key when it is not valid."""
    from sim.core.settings_file import load_model_file

    return load_model_file(path, TargetsFile)


def project_targets() -> Path | None:
    """:data:`PROJECT_TARGETS` when it exists (a source checkout), else None."""
    return PROJECT_TARGETS if PROJECT_TARGETS.is_file() else None


def fitted_mask(targets: list[Target], until: str | None) -> list[bool]:
    """Per entry, whether a fit ``until`` a quarter uses it (the others are held out)."""
    return [until is None or parse_quarter(t.quarter) <= parse_quarter(until) for t in targets]


def check_targets(scenario: Scenario, targets: TargetsFile, path: str | Path,
                  until: str | None) -> None:
    """The panel inside the scenario's horizon; ``until`` at or after at least one entry and
    before at least one; the free parameters numeric keys of the scenario whose prior
    ranges the scenario's schema allows. Raises :class:`sim.core.settings_file.ScenarioError`."""
    from sim.core.posterior import value_at
    from sim.core.scenario import load_scenario
    from sim.core.settings_file import ScenarioError

    start, end = parse_quarter(scenario.horizon.start), parse_quarter(scenario.horizon.end)
    for index, target in enumerate(targets.targets):
        if not start <= parse_quarter(target.quarter) <= end:
            raise ScenarioError(
                f"target quarter {target.quarter} is outside the scenario's horizon "
                f"{scenario.horizon.start}..{scenario.horizon.end}",
                file=str(path),
                key_path=f"targets.{index}.quarter",
            )
    if until is not None:   # (inside the horizon then, as the targets are)
        quarters = sorted((t.quarter for t in targets.targets), key=parse_quarter)
        if parse_quarter(until) < parse_quarter(quarters[0]):
            raise ScenarioError(f"--until {until} is before every target; the earliest is "
                                f"{quarters[0]}", file=str(path))
        if parse_quarter(until) >= parse_quarter(quarters[-1]):
            raise ScenarioError(f"--until {until} holds no target out; the latest is "
                                f"{quarters[-1]}", file=str(path))
    for name, prior in targets.calibration.parameters.items():
        try:
            value_at(scenario, name)
            for value in (prior.low, prior.high):
                load_scenario(scenario, [f"{name}={value!r}"])
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ScenarioError(f"'{name}' is not a numeric key of the scenario", file=str(path),
                                key_path=f"calibration.parameters.{name}") from None
        except ScenarioError as error:
            raise ScenarioError(f"the prior range [{prior.low}, {prior.high}] is not allowed: "
                                f"{error.message}", file=str(path),
                                key_path=f"calibration.parameters.{name}") from None
