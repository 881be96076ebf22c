"""The sweep file: its schema, its outcome and condition grammar, and readable errors.

A sweep file names a base scenario, the parameters to vary, a design, replications and the
outcomes to keep::

    name: drivers
    base: ../baseline.yaml                  # relative to this file
    set: [population.enterprises=1000]      # fixed --set overrides of the base (optional)
    parameters:
      signals.tooling_maturity.logistic.upper: {levels: [0.5, 0.7, 0.9]}
      behaviour.peer_weight: {range: [0.5, 4.0]}                 # distribution: uniform
      population.network.neighbours: {range: [4, 12], distribution: integer}
      gap_path:                                                  # a categorical preset
        categories:
          tracking: {signals.benchmark_gap.extend: {annual_rate: 0.0, form: linear}}
          reopens:  {signals.benchmark_gap.extend: {annual_rate: 3.5, form: linear}}
    design: {method: lhs, samples: 200, seed: 1}   # or sobol, morris; a grid takes levels only
    replications: 2
    common_random_numbers: true             # the default: the same seeds at every point
    outcomes: [workload_share_open_any@2030Q4, "stack_share_hybrid[region=eu]@2030Q4"]
    analysis:
      prim: ["workload_share_open_any@2030Q4 >= 0.25"]

A parameter is a scenario key path with ``levels`` (discrete values), a ``range`` with a
``distribution`` (continuous, for sampled designs), or a name with ``categories``, each a preset
of key-path overrides. The file is read with :func:`sim.core.settings_file.load_model_file`, so
a bad one raises a :class:`~sim.core.settings_file.ScenarioError` naming the sweep file, line and
key; other problems raise :class:`SweepError`. Both are user errors
(:class:`sim.errors.UserError`), which the command line reports in one line (exit code 2, no
traceback). That the key paths fit the scenario is checked by applying them to the base
(:mod:`sim.sweep.sweep`), not here.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from sim.core.metric_table import METRIC_NAMES
from sim.core.metrics import SEGMENTS
from sim.core.schema import PathName, Strict
from sim.core.settings_file import load_model_file, read_yaml
from sim.errors import UserError


class Operator(NamedTuple):
    """A condition's comparison: its test, its word in file names, its sign in HTML."""

    test: Callable[[Any, float], Any]
    word: str
    html: str


#: The comparisons a condition may use (the two-character ones first, as the grammar tries them).
OPERATORS = {
    ">=": Operator(operator.ge, "ge", "&ge;"),
    "<=": Operator(operator.le, "le", "&le;"),
    ">": Operator(operator.gt, "gt", "&gt;"),
    "<": Operator(operator.lt, "lt", "&lt;"),
}

_OUTCOME = re.compile(r"^(?P<metric>\w+)(\[(?P<segment>[^\]]+)\])?@(?P<quarter>\d{4}Q[1-4])$")
_CONDITION = re.compile(r"^\s*(?P<outcome>[^<>\s]+)\s*(?P<op>"
                        + "|".join(map(re.escape, OPERATORS))
                        + r")\s*(?P<value>\S+)\s*$")


class SweepError(UserError):
    """A sweep that cannot start or go on for a reason the user can fix: a bad sweep file
    (naming file, line and key), a missing optional dependency, a busy sweep folder (the
    command line reports it in one line, exit code 2)."""


# --- outcomes and conditions ------------------------------------------------------------------

class Outcome(NamedTuple):
    """One metric of one segment at one quarter, written ``metric[segment]@quarter``."""

    metric: str
    segment: str
    quarter: str

    @property
    def name(self) -> str:
        """The canonical text (``[all]`` left out): the outcome's column name in results."""
        segment = "" if self.segment == "all" else f"[{self.segment}]"
        return f"{self.metric}{segment}@{self.quarter}"


def parse_outcome(text: str) -> Outcome:
    """Parse ``metric[segment]@YYYYQn`` (segment "all" when left out); ValueError if unknown."""
    match = _OUTCOME.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not an outcome; write metric@YYYYQn or "
                         "metric[segment]@YYYYQn, e.g. workload_share_open_any[region=eu]@2030Q4")
    metric, segment = match["metric"], match["segment"] or "all"
    if metric not in METRIC_NAMES:
        raise ValueError(
            f"unknown metric '{metric}'{_guess(metric, METRIC_NAMES)}; "
            f"metrics: {', '.join(METRIC_NAMES)}"
        )
    if segment not in SEGMENTS:
        raise ValueError(f"unknown segment '{segment}'{_guess(segment, SEGMENTS)}; "
                         f"segments: {', '.join(SEGMENTS)}")
    return Outcome(metric, segment, match["quarter"])


class Condition(NamedTuple):
    """A condition on an outcome, e.g. ``workload_share_open_any@2030Q4 >= 0.25``."""

    outcome: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"

    def holds(self, values):
        """Where the condition holds for ``values`` of the outcome (booleans, elementwise)."""
        return OPERATORS[self.op].test(values, self.value)


def parse_condition(text: str) -> Condition:
    """Parse ``OUTCOME OP NUMBER`` with OP one of >=, <=, >, <; the outcome is canonicalised."""
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a condition; write OUTCOME OP NUMBER with OP one of "
                         f"{', '.join(OPERATORS)}, e.g. workload_share_open_any@2030Q4 >= 0.25")
    try:
        value = float(match["value"])
    except ValueError:
        raise ValueError(f"'{match['value']}' in '{text}' is not a number") from None
    return Condition(parse_outcome(match["outcome"]).name, match["op"], value)


def _guess(word: str, allowed) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


OutcomeText = Annotated[str, AfterValidator(lambda text: parse_outcome(text).name)]
"""An outcome in a sweep file, validated and canonicalised (``[all]`` dropped)."""


# --- schema -----------------------------------------------------------------------------------

class Parameter(Strict):
    """One swept parameter: exactly one of ``levels``, ``range`` or ``categories``.

    ``levels`` are discrete values (numbers or text); ``range`` is ``[low, high]`` drawn by
    ``distribution`` (uniform, loguniform, or integer: whole numbers low..high); ``categories``
    map a category name to a preset of ``key.path: value`` overrides. A grid needs levels or
    categories; sampled designs take all three (discrete ones are drawn with equal chances).
    """

    levels: Annotated[list[Any], Field(min_length=1)] | None = None
    range: tuple[float, float] | None = None
    distribution: Literal["uniform", "loguniform", "integer"] | None = None
    categories: Annotated[dict[str, Annotated[dict[str, Any], Field(min_length=1)]],
                          Field(min_length=1)] | None = None
    label: str | None = Field(None, description="axis label in plots (default: the name)")

    @field_validator("levels")
    @classmethod
    def _scalar_levels(cls, levels: list[Any] | None) -> list[Any] | None:
        if levels is None:
            return levels
        kinds = {"text" if isinstance(v, str) else "true/false" if isinstance(v, bool)
                 else "number" if isinstance(v, int | float) else "other" for v in levels}
        if "other" in kinds or len(kinds) > 1:
            raise ValueError("levels must all be numbers, all text or all true/false; "
                             "use categories for presets of several keys or whole mappings")
        if len(set(map(repr, levels))) < len(levels):
            raise ValueError("levels must differ")
        return levels

    @model_validator(mode="after")
    def _one_form(self) -> Parameter:
        forms = [
            name for name in ("levels", "range", "categories") if getattr(self, name) is not None
        ]
        if len(forms) != 1:
            raise ValueError("give exactly one of levels, range or categories"
                             + (f" (got {', '.join(forms)})" if forms else ""))
        if self.distribution is not None and self.range is None:
            raise ValueError("distribution applies to a range")
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range low {low:g} must be below high {high:g}")
            if self.distribution == "loguniform" and low <= 0:
                raise ValueError("a loguniform range must be positive")
            if self.distribution == "integer" and not (low.is_integer() and high.is_integer()):
                raise ValueError("an integer range needs whole-number bounds")
        return self

    @property
    def discrete(self) -> bool:
        return self.range is None

    @property
    def choices(self) -> list:
        """The discrete values (levels, or category names) of a discrete parameter."""
        return list(self.categories) if self.categories is not None else list(self.levels or [])


class DesignSpec(Strict):
    """How design points are chosen. ``samples`` is the number of points for ``lhs``, the base
    sample N (a power of two; N * (k + 2) points, N * (2k + 2) with second order) for
    ``sobol`` (Saltelli), and the number of trajectories (N * (k + 1) points) for ``morris``."""

    method: Literal["grid", "lhs", "sobol", "morris"]
    samples: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    second_order: bool = Field(False, description="sobol: also sample for second-order indices")
    morris_levels: Annotated[int, Field(ge=2, le=100)] = Field(4, description="morris: grid levels")

    @model_validator(mode="after")
    def _samples(self) -> DesignSpec:
        if self.method == "grid" and self.samples is not None:
            raise ValueError("a grid takes every combination of levels; remove samples")
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"a {self.method} design needs samples")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol samples must be a power of two (got {self.samples})")
        if self.method == "morris" and self.morris_levels % 2:
            raise ValueError("morris_levels must be even")
        return self


class PrimSpec(Strict):
    """Scenario discovery for one condition: PRIM boxes where the condition holds."""

    condition: str
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.8, description="density a box should reach; the chosen box is the widest that does")
    peel_alpha: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.05
    mass_min: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.05

    @field_validator("condition")
    @classmethod
    def _condition(cls, text: str) -> str:
        return str(parse_condition(text))


class AnalysisSpec(Strict):
    prim: list[PrimSpec] = []

    @field_validator("prim", mode="before")
    @classmethod
    def _plain_conditions(cls, items: Any) -> Any:
        """Allow a bare condition string for a PRIM entry with default settings."""
        if isinstance(items, list):
            return [{"condition": item} if isinstance(item, str) else item for item in items]
        return items


class SweepSpec(Strict):
    """A complete sweep file."""

    name: PathName
    description: str = ""
    base: str = Field(description="the base scenario file, relative to the sweep file")
    set: list[str] = Field([], description="--set overrides applied to the base for every run")
    parameters: Annotated[dict[str, Parameter], Field(min_length=1)]
    design: DesignSpec
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1
    common_random_numbers: bool = Field(
        True, description="the same replication seeds at every design point")
    outcomes: Annotated[list[OutcomeText], Field(min_length=1)]
    analysis: AnalysisSpec = AnalysisSpec()

    @field_validator("outcomes")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"outcome '{duplicates[0]}' is listed twice")
        return names

    @field_validator("design")
    @classmethod
    def _grid_levels(cls, design: DesignSpec, info: ValidationInfo) -> DesignSpec:
        parameters = info.data.get("parameters") or {}
        continuous = [name for name, parameter in parameters.items() if not parameter.discrete]
        if design.method == "grid" and continuous:
            raise ValueError(f"a grid needs levels or categories; parameter '{continuous[0]}' "
                             "has a range")
        return design

    @field_validator("analysis")
    @classmethod
    def _known_outcomes(cls, analysis: AnalysisSpec, info: ValidationInfo) -> AnalysisSpec:
        outcomes = info.data.get("outcomes") or []
        for prim in analysis.prim:
            outcome = parse_condition(prim.condition).outcome
            if outcomes and outcome not in outcomes:
                raise ValueError(f"the condition '{prim.condition}' uses '{outcome}', which is "
                                 f"not among the outcomes: {', '.join(outcomes)}")
        return analysis


# --- loading ----------------------------------------------------------------------------------

def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; problems raise a ScenarioError naming file, line and key."""
    return load_model_file(path, SweepSpec)


def spec_line(path: str | Path, key_path: tuple[str, ...]) -> int | None:
    """The line of the sweep file that sets ``key_path`` (or its nearest parent)."""
    _, origins = read_yaml(path)
    return next(origins[key_path[:depth]].line for depth in range(len(key_path), -1, -1)
                if key_path[:depth] in origins)
