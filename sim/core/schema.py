"""The scenario schema: every setting a scenario file may hold, its type, range and meaning.

The module holds one idea, what a valid scenario is, block by block (population, signals,
vendors, economics, behaviour, posterior), which is why it is long. Parameters are validated here
and nowhere else. Each block says which force of the source article
it carries. Data (population mix, signal paths, vendor hazards) has no defaults in code: it lives
in ``scenarios/`` files with a ``source`` and ``confidence``. Loading files (``extends:``,
``--set``, error messages with file and line) is :mod:`sim.core.scenario`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.core.paths import deterministic_path
from sim.core.quarters import format_quarter, parse_quarter
from sim.core.signal_table import SIGNALS, SignalSpec

SECTOR_NAMES = (
    "banking", "insurance", "healthcare", "defence",
    "technology", "retail", "manufacturing", "professional_services",
)
REGIONS = ("eu", "north_america", "apac")
SIZES = ("small", "mid", "large")
WORKLOAD_CLASSES = (
    "customer_facing",
    "exploratory",
    "internal_high_volume",
    "privacy_sensitive",
    "domain_specific",
    "coding_agents",
)
EVENT_TYPES = ("price_change", "deprecation", "policy_change", "withdrawal")


@dataclass(frozen=True)
class Unit:
    """A setting's unit, kept in its field's metadata: ``Annotated[float, Unit("USD per
    year")]``. The documentation's key reference and parameter tables show it (a number outside
    0..1 must say its unit; tests/test_docs.py checks)."""

    text: str


Share = Annotated[float, Field(ge=0.0, le=1.0)]
MIN_POSITIVE = 1e-6
Positive = Annotated[float, Field(ge=MIN_POSITIVE)]
"""A positive setting: at least ``MIN_POSITIVE``, a millionth of its unit (no setting is anywhere
near). Settings divide one another (tokens per GPU-hour, a large model's size over a small one's)
and scale volumes that costs are divided by; with a floor they cannot round to 0 or overflow."""
NonNegative = Annotated[float, Field(ge=0.0)]
Confidence = Literal["high", "medium", "low", "claimed", "assumption"]
QuarterText = Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$", description="a quarter, YYYYQn")]

_MIX_TOLERANCE = 1e-6
MAX_PLANNING_HORIZON = 12
MAX_MULTIPLICATIVE_SD = 3.0  # multiplicative noise: exp(3) is a factor of 20
MAX_VOLUME_LOG_SD = 4.0
MAX_DEMAND_ELASTICITY = 4.0
MAX_WORKLOADS_PER_ENTERPRISE = 1000  # initial, and new ones a year
MAX_PRICE_MOVE = 100.0  # a vendor's price move, and its price relative to the market's
MAX_MAGNITUDE = 1e12  # no setting is anywhere near; beyond it a number is a typo or an attack
MAX_NAME_LENGTH = 100
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _path_name(name: str) -> str:
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"the name becomes a folder name: use letters, digits, '_', '.' and '-', "
                         f"starting with a letter or digit, at most {MAX_NAME_LENGTH} characters "
                         f"(got {name[:40]!r})")
    return name


PathName = Annotated[str, AfterValidator(_path_name)]
"""A name that becomes a path component (a scenario's or a sweep's folder): never ``.``, ``..``,
a hidden name or one holding a path separator."""


def _numbers(value: Any):
    """Every float in ``value`` and the mappings and lists inside it (not in nested models,
    which check their own)."""
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


class Strict(BaseModel):
    """Base for every block: unknown keys are errors, values are checked on assignment too, and
    every number is finite (no .nan, .inf) and within ``MAX_MAGNITUDE``, also inside free-form
    values (sweep levels and presets)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _sane_numbers(cls, value: Any) -> Any:
        for number in _numbers(value):
            if not math.isfinite(number):
                raise ValueError(f"{number} is not a finite number")
            if abs(number) > MAX_MAGNITUDE:
                raise ValueError(
                    f"{number:g} is beyond the cap of {MAX_MAGNITUDE:g} on the size of any number"
                )
        return value


class Provenance(Strict):
    """Where a sourced figure comes from, so a reader can tell measured numbers from claims."""

    source: str | None = Field(None, description="where the figures of this block come from")
    confidence: Confidence | None = Field(
        None, description="high, medium or low: measured data; claimed: stated without primary "
        "data; assumption: set by us")


def _check_mix(shares: dict[str, float], what: str) -> None:
    total = sum(shares.values())
    if abs(total - 1.0) > _MIX_TOLERANCE:
        raise ValueError(f"{what} shares must sum to 1 (they sum to {total:.6g})")


class Horizon(Strict):
    """The quarters a run reports, one step each."""

    start: QuarterText = Field("2024Q1", description="first reported quarter")
    end: QuarterText = Field("2030Q4", description="last reported quarter")

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if parse_quarter(self.end) < parse_quarter(self.start):
            raise ValueError(f"horizon end {self.end} is before start {self.start}")
        return self

    @property
    def quarter_count(self) -> int:
        return parse_quarter(self.end) - parse_quarter(self.start) + 1


# --- population -------------------------------------------------------------------------------

class Sector(Provenance):
    """A sector's weight in the population; regulated sectors (banking, insurance, healthcare,
    defence) face data-sovereignty duties that penalise closed APIs for sensitive data. Sectors
    also differ in AI maturity: ``ml_capacity_shift`` moves the in-house ML capacity of the
    sector's enterprises (a technology firm has more ML engineers than a retailer of its size)."""

    share: Share = Field(description="share of the enterprises; the sectors' shares sum to 1")
    regulated: bool = Field(description="faces data-sovereignty duties (feels the compliance "
        "penalty fully)")
    ml_capacity_shift: Annotated[float, Field(ge=-0.5, le=0.5), Unit("ML capacity (0..1)")] = Field(
        0.0,
        description="added to the size band's mean ML capacity (the mean stays within 0.02..0.98)",
    )


class Size(Provenance):
    """Enterprise size band: share, in-house ML capacity, AI entry timing and portfolio
    growth."""

    share: Share = Field(description="share of the enterprises; the bands' shares sum to 1")
    ml_capacity_mean: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        description="mean in-house ML engineering capacity of the band's enterprises")
    platform_staff_multiplier: Annotated[Positive, Unit("multiplier")] = Field(
        description="scales the engineers an open platform needs (economics.platform_fte)")
    volume_multiplier: Annotated[Positive, Unit("multiplier")] = Field(
        description="scales every workload's token volume")
    initial_workloads: Annotated[float, Field(ge=0.0, le=MAX_WORKLOADS_PER_ENTERPRISE),
                                 Unit("workloads")] = Field(
        description="mean extra workloads at AI entry (beyond one); at most "
        f"{MAX_WORKLOADS_PER_ENTERPRISE:,}, more than any enterprise runs: every workload is "
        "simulated, and its arrays held in memory")
    new_workloads_per_year: Annotated[
        float, Field(ge=0.0, le=MAX_WORKLOADS_PER_ENTERPRISE), Unit("workloads per year")] = Field(
        description="mean workloads an enterprise using AI adds each year; at most "
        f"{MAX_WORKLOADS_PER_ENTERPRISE:,}, as initial_workloads")
    ai_use_at_start: Share = Field(description="share using generative AI at the horizon start")
    ai_use_ceiling: Share = Field(description="share that eventually uses generative AI")
    ai_use_midpoint: QuarterText = Field(description="quarter at which half the ceiling is reached")
    ai_use_steepness: Annotated[Positive, Unit("per year")] = Field(
        description="logistic steepness of AI entry")


class WorkloadClass(Provenance):
    """A workload class and its typical attributes (0..1 scales): the article's five, and coding
    and agentic work, 2025's largest enterprise use case (FACTS.md, "Adoption").

    ``share`` is the class's share of the workloads present at the horizon start. ``share_path``
    gives its share of *newly added* workloads at dated quarters (interpolated, flat outside the
    points; shares are renormalised across classes each quarter): the workload mix drifting over
    time, for example toward work that needs the closed frontier."""

    share: Share = Field(description="share of the workloads present at the horizon start; the "
        "classes' shares sum to 1")
    share_path: dict[QuarterText, Share] | None = Field(
        None, description="share of newly added workloads at dated quarters")
    stakes: Share = Field(description="how much capability matters")
    frontier_need: Share = Field(description="how much complex multi-step reasoning matters")
    sensitivity: Share = Field(description="data sensitivity (drives the compliance penalty)")
    domain_specificity: Share = Field(description="how much fine-tuning on own data helps")
    volume_mtok_median: Annotated[Positive, Unit("million tokens per quarter")] = Field(
        description="median token volume at the horizon start")
    volume_log_sd: Annotated[float, Field(ge=0.0, le=MAX_VOLUME_LOG_SD), Unit("natural log")] = \
        Field(description="log-normal spread of the token volume; at most "
              f"{MAX_VOLUME_LOG_SD:g}, already a factor of e^16 (9 million) between the median "
              "and a workload 4 standard deviations above it: wider, the volumes (and the costs "
              "and utilities made of them) overflow")
    demand_elasticity: Annotated[float, Field(ge=0.0, le=MAX_DEMAND_ELASTICITY),
                                 Unit("exponent")] = Field(
        1.0, description="the class's tokens grow as the token demand index raised to this "
        "power (above 1: faster than the average workload, as coding and agents did); at most "
        f"{MAX_DEMAND_ELASTICITY:g}, so that the index at the top of its range (1e6) still "
        "gives a finite volume")
    attribute_spread: Annotated[NonNegative, Unit("0..1 scale")] = Field(
        0.1, description="standard deviation of each workload's stakes/sensitivity/domain draws")


class Network(Strict):
    """Peer network: a small world clustered by sector (neighbours on the ring share a sector)."""

    neighbours: Annotated[int, Field(ge=2, le=50), Unit("enterprises")] = Field(
        6, description="neighbours of each enterprise on the ring before rewiring")
    rewire_probability: Share = Field(
        0.1, description="probability that an edge is rewired to a random enterprise")


class Population(Provenance):
    """The synthetic population: how many enterprises, their mix of sectors, regions and sizes,
    and the workload classes their portfolios hold."""

    enterprises: Annotated[int, Field(ge=10, le=2_000_000), Unit("enterprises")] = Field(
        description="simulated enterprises")
    sectors: dict[str, Sector]
    regions: dict[str, Share] = Field(
        description="share of the enterprises in each region; the shares sum to 1")
    sizes: dict[str, Size]
    workload_classes: dict[str, WorkloadClass]
    ml_capacity_concentration: Annotated[Positive, Unit("beta concentration")] = Field(
        description="beta concentration of ML capacity around its size mean")
    risk_aversion_mean: Annotated[float, Field(ge=MIN_POSITIVE, le=1.0 - MIN_POSITIVE)] = Field(
        description=f"mean risk aversion, which scales perceived vendor risk; within "
        f"{MIN_POSITIVE:g} of neither end: a beta draw with parameters the mean, and one minus "
        "it, times the concentration, which must not round to 0")
    risk_aversion_concentration: Annotated[Positive, Unit("beta concentration")] = Field(
        description="beta concentration of risk aversion around its mean")
    regulated_privacy_multiplier: Annotated[Positive, Unit("multiplier")] = Field(
        description="how much more often regulated sectors' workloads are privacy-sensitive")
    network: Network = Network()
    represents: Annotated[Positive, Unit("real enterprises")] | None = Field(
        None, description="real enterprises the simulated population stands for: totals of "
        "spend and tokens are scaled to them, whatever the number simulated, so they can be "
        "set beside market figures; unset, each simulated enterprise stands for itself")

    @model_validator(mode="after")
    def _network_fits(self) -> Population:
        if self.network.neighbours >= self.enterprises:
            raise ValueError(f"network.neighbours ({self.network.neighbours}) must be below the "
                             f"number of enterprises ({self.enterprises})")
        return self

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, sectors: dict[str, Sector]) -> dict[str, Sector]:
        _check_keys(sectors, SECTOR_NAMES, "sector")
        _check_mix({k: v.share for k, v in sectors.items()}, "sector")
        return sectors

    @field_validator("regions")
    @classmethod
    def _regions(cls, regions: dict[str, float]) -> dict[str, float]:
        _check_keys(regions, REGIONS, "region", require_all=True)
        _check_mix(regions, "region")
        return regions

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, sizes: dict[str, Size]) -> dict[str, Size]:
        _check_keys(sizes, SIZES, "size", require_all=True)
        _check_mix({k: v.share for k, v in sizes.items()}, "size")
        return sizes

    @field_validator("workload_classes")
    @classmethod
    def _classes(cls, classes: dict[str, WorkloadClass]) -> dict[str, WorkloadClass]:
        _check_keys(classes, WORKLOAD_CLASSES, "workload class", require_all=True)
        _check_mix({k: v.share for k, v in classes.items()}, "workload class")
        _check_new_work_mix(classes)
        return classes


def _check_new_work_mix(classes: dict[str, WorkloadClass]) -> None:
    """New workloads take their class from the classes' shares at their quarter (``share_path``,
    or ``share`` for a class without one), renormalised: shares that are all 0 at some quarter
    leave nothing to renormalise. Their sum is piecewise linear and never negative, so it is
    0 somewhere only if it is 0 at one of the dated quarters."""
    dated = {quarter for spec in classes.values() for quarter in spec.share_path or ()}
    for quarter in sorted(dated, key=parse_quarter):
        if not any(_new_work_share(spec, parse_quarter(quarter)) for spec in classes.values()):
            raise ValueError(f"every workload class's share of new workloads is 0 at {quarter} "
                             "(share_path, or share for a class without one), so new workloads "
                             "there would have no class; give one class a positive share")


def _new_work_share(spec: WorkloadClass, quarter: int) -> float:
    """A class's share of new workloads at ``quarter``: its ``share_path`` interpolated (flat
    outside its points), or its ``share``, as :func:`sim.core.population.class_mix` reads it."""
    if not spec.share_path:
        return spec.share
    points = sorted((parse_quarter(dated), value) for dated, value in spec.share_path.items())
    for (start, low), (end, high) in zip(points, points[1:]):
        if start <= quarter <= end:
            return low + (high - low) * (quarter - start) / (end - start)
    return points[0][1] if quarter < points[0][0] else points[-1][1]


def _check_keys(
    mapping: dict, allowed: tuple[str, ...], what: str, require_all: bool = False
) -> None:
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} '{unknown[0]}'; allowed: {', '.join(allowed)}")
    if require_all:
        missing = [k for k in allowed if k not in mapping]
        if missing:
            raise ValueError(f"missing {what} '{missing[0]}'; give all of: {', '.join(allowed)}")


# --- signals ----------------------------------------------------------------------------------

class Growth(Strict):
    """Growth at ``annual_rate`` a year: compound (exponential, ``(1 + annual_rate) ** years``,
    so the rate must be above -1: -1 would take the path to 0 at once, below it to no number)
    or by ``annual_rate`` each year (linear)."""

    form: Literal["exponential", "linear"] = Field(
        "exponential", description="compound growth, or a fixed change each year")
    annual_rate: Annotated[float, Unit("per year (exponential) or signal units a year (linear)")] \
        = Field(description="-0.3: 30% lower each year (exponential); 0.5 more each year (linear)")

    @field_validator("annual_rate")
    @classmethod
    def _compounds(cls, rate: float, info: ValidationInfo) -> float:
        if info.data.get("form", "exponential") == "exponential" and rate <= -1.0:
            raise ValueError(f"{rate:g} must be above -1 for an exponential path (-0.3 is 30% "
                             f"lower each year)")
        return rate


class Trend(Growth):
    """value(t) = start_value * (1 + annual_rate) ** years (exponential) or
    start_value + annual_rate * years (linear), years counted from ``start``."""

    start: QuarterText = Field(description="quarter of start_value")
    start_value: Annotated[float, Unit("the signal's unit")] = Field(
        description="the path's value at start")


class Logistic(Strict):
    """value(t) = lower + (upper - lower) / (1 + exp(-steepness * (years - midpoint)))."""

    lower: Annotated[float, Unit("the signal's unit")] = Field(description="value long before")
    upper: Annotated[float, Unit("the signal's unit")] = Field(description="value long after")
    midpoint: QuarterText = Field(description="quarter half-way between lower and upper")
    steepness: Annotated[Positive, Unit("per year")] = Field(description="how fast it rises")


class Extension(Growth):
    """How a dated-points path continues after its last point."""


class Noise(Strict):
    """Seeded AR(1) noise around the path, additive or multiplicative (in log scale), folded back
    into the signal's range at its bounds (:func:`sim.core.paths.with_noise`): a noisy path is
    always finite and within the range, and never held at a bound."""

    form: Literal["additive", "multiplicative"] = Field(
        "additive", description="added to the path, or multiplying it")
    sd: Annotated[NonNegative, Unit("the signal's unit (additive), log scale (multiplicative)")] \
        = Field(description=(
            "standard deviation of the noise each quarter: additive, in the signal's units and at "
            "most the width of its range (wider noise would fold back and forth until the path "
            f"is lost in it); multiplicative, in log units and at most {MAX_MULTIPLICATIVE_SD:g} "
            "(a factor of about 20 either way), so the noise itself stays far from overflowing"))
    persistence: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.7, description="share of last quarter's noise carried into this one (AR(1))")

    @field_validator("sd")
    @classmethod
    def _finite_factor(cls, sd: float, info: ValidationInfo) -> float:
        if info.data.get("form") == "multiplicative" and sd > MAX_MULTIPLICATIVE_SD:
            raise ValueError(f"{sd:g} is too large: multiplicative noise's sd must be within "
                             f"0..{MAX_MULTIPLICATIVE_SD:g} (log units)")
        return sd


class Revision(Strict):
    """From ``quarter`` on, the signal follows ``path`` instead: a future that departs from the
    history. A points path without a point the quarter before ``quarter`` starts from the
    original path's value there, so the departure is continuous."""

    quarter: QuarterText = Field(description="first quarter of the new path")
    path: Signal = Field(description="the new path, a signal path of its own (any form)")


class Signal(Provenance):
    """An exogenous quarterly path in the article's own units. Exactly one of ``points`` (dated
    values, linearly interpolated, held flat before the first), ``trend`` or ``logistic``;
    optionally revised from some quarter on (``after``)."""

    unit: str | None = Field(None, description="the unit, in words, for readers (the model uses "
        "the signal table's)")
    points: Annotated[dict[QuarterText, float] | None, Unit("the signal's unit")] = Field(
        None, description="dated values, interpolated linearly, flat before the first and (without "
        "extend) after the last")
    extend: Extension | None = None
    trend: Trend | None = None
    logistic: Logistic | None = None
    noise: Noise | None = None
    after: Revision | None = None
    note: str | None = Field(None, description="a remark for readers")

    @model_validator(mode="after")
    def _one_form(self) -> Signal:
        forms = [
            name for name in ("points", "trend", "logistic") if getattr(self, name) is not None
        ]
        if len(forms) != 1:
            raise ValueError("give exactly one of points, trend or logistic"
                             + (f" (got {', '.join(forms)})" if forms else ""))
        if self.extend is not None and self.points is None:
            raise ValueError("extend continues a points path; it needs points")
        if self.points is not None and not self.points:
            raise ValueError("points needs at least one dated value")
        return self


Revision.model_rebuild()


def _regional(pressure: dict[str, Signal]) -> dict[str, Signal]:
    _check_keys(pressure, REGIONS, "region", require_all=True)
    return pressure


Regional = Annotated[dict[str, Signal], AfterValidator(_regional)]
"""A regional signal: one path per region, every region given."""


Signals = create_model(
    "Signals",
    __base__=Strict,
    __doc__="The article's forces as exogenous paths, one key per signal of the signal table "
            "(:data:`sim.core.signal_table.SIGNALS`), in its units.",
    **{spec.name: (Regional if spec.regional else Signal,
                   Field(description=f"{spec.description} ({spec.unit}; {spec.range_text})"))
       for spec in SIGNALS},
)


def _signal_range_errors(signal: Signal, spec: SignalSpec, key: str,
                         quarters: np.ndarray) -> Iterator[tuple[str, str]]:
    """(key path, problem) of each part of ``signal`` whose values leave ``spec``'s range over
    ``quarters`` (absolute quarter numbers): a dated point, a trend's start, a logistic bound,
    or the path a trend or an extension draws. (Points are interpolated and a logistic curve
    stays between its bounds, so those paths stay in the range when their values do.)"""
    allowed = f"{spec.name} must be {spec.range_text}"
    given = [(f"points.{quarter}", value) for quarter, value in (signal.points or {}).items()]
    if signal.trend is not None:
        given.append(("trend.start_value", signal.trend.start_value))
    if signal.logistic is not None:
        given += [("logistic.lower", signal.logistic.lower),
                  ("logistic.upper", signal.logistic.upper)]
    for part, value in given:
        if not spec.allows(value):
            yield f"{key}.{part}", f"{value:g} is outside the range: {allowed}"
    revised_from = np.inf if signal.after is None else parse_quarter(signal.after.quarter)
    if signal.trend is not None or signal.extend is not None:
        own = quarters[quarters < revised_from]
        path = deterministic_path(signal.model_copy(update={"after": None}), own)
        outside = [index for index, value in enumerate(path) if not spec.allows(value)]
        if outside:
            part = "trend.annual_rate" if signal.trend is not None else "extend.annual_rate"
            yield f"{key}.{part}", (
                f"the path reaches {path[outside[0]]:g} by {format_quarter(int(own[outside[0]]))}, "
                f"outside the range: {allowed}")
    if signal.after is not None:
        yield from _signal_range_errors(signal.after.path, spec, f"{key}.after.path",
                                        quarters[quarters >= revised_from])
    yield from _noise_errors(signal, spec, key)


def _noise_errors(signal: Signal, spec: SignalSpec, key: str) -> Iterator[tuple[str, str]]:
    """(key path, problem) of a noise setting ``spec`` does not allow: additive noise wider than
    the signal's range, or noise in a revision (noise is the whole signal's)."""
    noise = signal.noise
    if noise is None:
        return
    if key.endswith(".after.path"):
        yield f"{key}.noise", ("noise applies to the whole signal: give it beside the signal's "
                               "own path, not in a revision")
    elif noise.form == "additive" and noise.sd > spec.width:
        yield f"{key}.noise.sd", (
            f"{noise.sd:g} is too large: additive noise's sd must be within 0..{spec.width:g}, "
            f"the width of {spec.name}'s range {spec.low:g}..{spec.high:g}")


# --- vendors ----------------------------------------------------------------------------------

PriceMove = Annotated[float, Field(
    ge=1.0 / MAX_PRICE_MOVE, le=MAX_PRICE_MOVE,
    description=f"a price multiplier, within {1.0 / MAX_PRICE_MOVE:g}..{MAX_PRICE_MOVE:g}: a "
    "vendor's price relative to the market's stays within those bounds too (folded back)")]


class Hazards(Strict):
    """Per-quarter probability of each kind of vendor event."""

    price_change: Annotated[Share, Unit("probability per quarter")] = Field(
        0.0, description="a price change (see vendor_events.price_change)")
    deprecation: Annotated[Share, Unit("probability per quarter")] = Field(
        0.0, description="a model deprecation")
    policy_change: Annotated[Share, Unit("probability per quarter")] = Field(
        0.0, description="a change of acceptable-use or data policy")
    withdrawal: Annotated[Share, Unit("probability per quarter")] = Field(
        0.0, description="access withdrawn")


class Vendor(Provenance):
    """A closed-model vendor: its market share among enterprises and its event hazards."""

    market_share: Share = Field(description="share of the enterprises whose primary closed vendor "
        "it is; the vendors' shares sum to 1")
    hazards: Hazards


class EventEffect(Provenance):
    """What one kind of vendor event does to the customers it reaches: a perceived-risk shock
    (``severity``; everyone else feels ``severity * spillover``), whether it forces them to
    review their stack, and the share of the migration cost of moving their workloads it waives
    for them (a deprecation means re-engineering anyway)."""

    severity: Annotated[NonNegative, Unit("perceived-risk units")] = Field(
        description="perceived-risk shock to the customers it reaches")
    forced_review: bool = Field(description="its customers review their stack that quarter")
    migration_relief: Share = Field(
        0.0, description="share of the migration cost waived for the customers it reaches")
    reach: Share = Field(1.0, description="share of the vendor's customers an event reaches "
        "(for a deprecation: those using the retired model)")


class PriceChange(EventEffect):
    """A random price move of one vendor relative to the market's tier prices (which carry the
    trend): a multiplier drawn log-uniformly between the bounds, each within
    1/MAX_PRICE_MOVE..MAX_PRICE_MOVE. A vendor's price relative to the market, the product of
    its moves (random and scheduled), is folded back in log scale at 1/MAX_PRICE_MOVE and
    MAX_PRICE_MOVE (:func:`sim.core.vendors.relative_price`), so however many moves a long
    horizon brings it stays finite, and never sticks at a bound."""

    multiplier_low: Annotated[PriceMove, Unit("multiplier")] = Field(
        0.5, description="lowest price multiplier drawn")
    multiplier_high: Annotated[PriceMove, Unit("multiplier")] = Field(
        1.5, description="highest price multiplier drawn")

    @model_validator(mode="after")
    def _bounds(self) -> PriceChange:
        if self.multiplier_high < self.multiplier_low:
            raise ValueError("multiplier_high must be at least multiplier_low")
        return self


class EventEffects(Strict):
    """What vendor events do, by kind, and how their shock to perceived risk spreads and fades."""

    price_change: PriceChange
    deprecation: EventEffect
    policy_change: EventEffect
    withdrawal: EventEffect
    spillover: Share = Field(description="share of a shock felt by other vendors' customers")
    risk_decay: Share = Field(description="share of perceived vendor risk left after a quarter")


class ScheduledEvent(Strict):
    """An event fixed in time by the scenario (for example a price hike or a regional
    withdrawal)."""

    quarter: QuarterText = Field(description="when it happens")
    vendor: str = Field(description="one of the scenario's vendors")
    type: Literal["price_change", "deprecation", "policy_change", "withdrawal"] = Field(
        description="what happens (its effect: vendor_events.<type>)")
    price_multiplier: Annotated[PriceMove | None, Unit("multiplier")] = Field(
        None, description="the vendor's new price relative to its old (price_change only)")
    region: Literal["all", "eu", "north_america", "apac"] = Field(
        "all", description="the region whose customers it hits")
    note: str | None = Field(None, description="a remark for readers")

    @model_validator(mode="after")
    def _multiplier(self) -> ScheduledEvent:
        if self.type == "price_change" and self.price_multiplier is None:
            raise ValueError("a scheduled price_change needs price_multiplier")
        if self.type != "price_change" and self.price_multiplier is not None:
            raise ValueError("price_multiplier only applies to price_change events")
        return self


# --- economics --------------------------------------------------------------------------------

class OpenModel(Provenance):
    """An open-weight model a self-hosted workload runs: how many tokens one GPU serves in an
    hour at full load (with 2024Q1 hardware and software; the serving efficiency index scales
    it) and the smallest deployment that serves it."""

    throughput_mtok_per_gpu_hour: Annotated[Positive, Unit("million tokens per GPU-hour")] = Field(
        description="tokens one GPU serves in an hour at full load, 2024Q1")
    minimum_gpus: Annotated[Positive, Unit("GPUs")] = Field(
        description="GPUs of the smallest deployment (replicas "
        "included): what makes low volume uneconomic")


class Economics(Provenance):
    """What self-hosting costs, in dollars (the article's total cost of ownership).

    A self-hosted workload runs the open model its frontier need calls for, between the small
    model (need 0) and the large one (need 1) on a log scale. It rents GPUs for the hours its
    tokens take at the target utilisation, at least its model's minimum deployment, or pays a
    serverless provider per token for the same weights, whichever costs less; and it needs
    engineers (a share of an engineer per workload, more if fine-tuned, plus the platform's
    team), whose numbers fall with the enterprise's ML capacity and with tooling maturity."""

    small_model: OpenModel
    large_model: OpenModel
    utilisation_floor: Annotated[float, Field(ge=MIN_POSITIVE, le=1.0)] = Field(
        description="share of provisioned GPU time a deployment keeps busy with tooling at 0 "
        f"(at least {MIN_POSITIVE:g}: the GPU-hours a volume takes divide by it)")
    utilisation_ceiling: Annotated[float, Field(ge=MIN_POSITIVE, le=1.0)] = Field(
        description="the same with tooling at 1 (batching, autoscaling)")
    serverless_price_factor: Annotated[float, Field(ge=1.0), Unit("multiplier")] = Field(
        description="a serverless provider's price for serving open weights over the GPU rent "
        "its tokens take at full load (its idle capacity and margin)")
    salary_usd_per_year: Annotated[Positive, Unit("USD per year")] = Field(
        description="loaded yearly cost of one ML engineer")
    platform_fte: Annotated[NonNegative, Unit("engineers (FTE)")] = Field(
        description="engineers running an open-model platform at all (before relief)")
    workload_fte: Annotated[NonNegative, Unit("engineers (FTE) per workload")] = Field(
        description="engineers per self-hosted workload")
    finetune_fte: Annotated[NonNegative, Unit("engineers (FTE) per workload")] = Field(
        description="extra engineers per fine-tuned workload")
    finetune_gpu_hours_per_quarter: Annotated[NonNegative, Unit("GPU-hours per quarter")] = Field(
        description="GPU-hours of fine-tuning runs a fine-tuned workload takes each quarter")


# --- behaviour --------------------------------------------------------------------------------

class Behaviour(Strict):
    """How enterprises weigh the forces: behavioural weights, in utility units unless a key
    says USD. Costs are in dollars (``economics``) and weigh in per million tokens of the
    workload they serve, times ``cost_weight``. The calibrated values live in scenarios/."""

    closed_preference: Annotated[float, Unit("utility")] = Field(
        description="per-workload constant favouring closed APIs "
        "(SLAs, managed infrastructure, habit)")
    capability_weight: Annotated[NonNegative, Unit("utility")] = Field(
        description="value of full capability at stakes 1")
    gap_sensitivity: Annotated[NonNegative, Unit("per MMLU point")] = Field(
        description="relative capability lost per benchmark-gap point"
    )
    frontier_sensitivity: Annotated[NonNegative, Unit("per frontier-gap point")] = Field(
        description="relative capability lost per frontier-gap point, at frontier need 1"
    )
    finetune_gain: Annotated[NonNegative, Unit("relative capability")] = Field(
        description="capability fine-tuning adds at domain "
        "specificity 1 and tooling maturity 1")
    cost_weight: Annotated[NonNegative, Unit("utility per USD per million tokens")] = Field(
        description="utility of one USD per million tokens of a "
        "workload's cost (the exchange rate of money)")
    vendor_risk_weight: Annotated[NonNegative, Unit("utility per perceived-risk unit")] = Field(
        description="utility lost per unit of perceived vendor risk at risk aversion 1 (closed "
        "only)")
    base_vendor_risk: Annotated[NonNegative, Unit("perceived-risk units")] = Field(
        description="perceived concentration risk with no events")
    compliance_weight: Annotated[NonNegative, Unit("utility")] = Field(
        description="compliance penalty on closed APIs at data sensitivity 1 and regulatory "
        "pressure 1, in a regulated sector")
    unregulated_compliance_share: Share = Field(
        description="share of the compliance penalty unregulated sectors feel")
    ml_capacity_relief: Share = Field(
        description="share of the self-hosting staff removed at ML capacity 1")
    tooling_relief: Share = Field(
        description="share of the self-hosting staff removed at tooling maturity 1")
    migration_cost_usd: Annotated[NonNegative, Unit("USD per workload")] = Field(
        description="one-off cost, USD, of moving one deployed workload to another deployment "
        "(re-engineering, evaluation); new workloads are placed without it")
    price_adoption_rate: Annotated[Share, Unit("share per quarter")] = Field(
        description="share of the gap (log scale) between the fixed-capability price routine "
        "work pays and the market's that enterprises close each quarter, moving to cheaper "
        "closed tiers: 1 follows the market at once")
    payback_quarters: Annotated[Positive, Unit("quarters")] = Field(
        description="quarters over which an enterprise weighs a one-off migration against "
        "quarterly costs and values")
    peer_weight: Annotated[NonNegative, Unit("utility")] = Field(
        description="utility of open and hybrid stacks when every "
        "neighbour runs open")
    review_rate: Annotated[Share, Unit("probability per quarter")] = Field(
        description="per-quarter probability of a periodic stack review")
    planning_horizon: Annotated[int, Field(ge=0, le=MAX_PLANNING_HORIZON),
                                Unit("quarters")] = Field(
        description="quarters ahead whose expected signals intentions are formed on")
    logit_scale: Annotated[Positive, Unit("utility")] = Field(
        description="scale of the stack choice's logit noise")
    workload_taste_sd: Annotated[NonNegative, Unit("utility")] = Field(
        description="spread of persistent workload-level tastes")
    open_affinity_sd: Annotated[NonNegative, Unit("utility")] = Field(
        0.0, description="spread of enterprises' persistent leaning toward open models (per open "
        "workload): open use clusters in some enterprises, as surveys of large firms find")


# --- parameter uncertainty --------------------------------------------------------------------

class Posterior(Strict):
    """Equally weighted draws of calibrated parameters (written by ``adoptsim calibrate``).

    A scenario file gives only ``file`` (a CSV relative to that file: a ``draw`` column, then
    one column per parameter, a dotted scenario key); loading fills ``parameters`` and ``draws``.
    Replication ``i`` runs with draw ``i`` (cycling when there are more replications than
    draws), so every scenario that extends the calibrated baseline, run with the same seeds, uses
    the same draw in the same replication and paired differences stay paired. A parameter that a
    later file or ``--set`` pins is left out of the draws."""

    file: str | None = Field(None, description="CSV of the draws, relative to the scenario file")
    parameters: list[str] = Field(default_factory=list, description=(
        "the drawn parameters' key paths (filled from file)"))
    draws: list[list[float]] = Field(default_factory=list, description=(
        "one row per draw, one value per parameter (filled from file)"))

    @model_validator(mode="after")
    def _rectangular(self) -> Posterior:
        if any(len(row) != len(self.parameters) for row in self.draws):
            raise ValueError(f"every draw needs one value per parameter ({len(self.parameters)})")
        if self.parameters and not self.draws:
            raise ValueError("a posterior with parameters needs at least one draw")
        return self


def planned_quarter_count(scenario: Scenario) -> int:
    """Quarters from the horizon start whose signals the model reads: the horizon, and the
    ``planning_horizon`` quarters beyond its end that intentions look ahead to."""
    return scenario.horizon.quarter_count + scenario.behaviour.planning_horizon


class Scenario(Strict):
    """A complete, resolved scenario."""

    name: PathName = Field(description="the scenario's name, also its output folder's: letters, "
        "digits, '_', '.' and '-', starting with a letter or digit")
    description: str = Field("", description="what the scenario assumes, in words")
    axes: dict[str, str] = Field(default_factory=dict, description=(
        "where the scenario sits on the what-to-watch axes, e.g. {tooling: fast, gap: reopens}; "
        "`adoptsim compare` draws a matrix over two axes"))
    seed: Annotated[int, Field(ge=0), Unit("seed")] = Field(
        0, description="seed of the replications' random streams")
    replications: Annotated[int, Field(ge=1, le=10_000), Unit("runs")] = Field(
        20, description="runs of the model, each with its own seed (and posterior draw)")
    horizon: Horizon = Horizon()
    burn_in_quarters: Annotated[int, Field(ge=0, le=40), Unit("quarters")] = Field(
        8, description="quarters run under the horizon start's signals, not reported, from which "
        "the starting deployments follow")
    population: Population
    signals: Signals
    vendors: dict[str, Vendor]
    vendor_events: EventEffects
    scheduled_events: list[ScheduledEvent] = Field(
        default_factory=list, description="vendor events the scenario fixes in time")
    economics: Economics
    behaviour: Behaviour
    posterior: Posterior | None = Field(None, description=(
        "calibrated parameter draws, one per replication; absent or null: every replication runs "
        "at the values above (the posterior median for the calibrated baseline)"))

    @field_validator("vendors")
    @classmethod
    def _vendors(cls, vendors: dict[str, Vendor]) -> dict[str, Vendor]:
        if not vendors:
            raise ValueError("name at least one closed vendor")
        _check_mix({k: v.market_share for k, v in vendors.items()}, "vendor market")
        return vendors

    @field_validator("scheduled_events")
    @classmethod
    def _events(cls, events: list[ScheduledEvent], info: ValidationInfo) -> list[ScheduledEvent]:
        vendors, horizon = info.data.get("vendors"), info.data.get("horizon")
        for index, event in enumerate(events):
            if vendors is not None and event.vendor not in vendors:
                raise ValueError(f"event {index} names unknown vendor '{event.vendor}'; "
                                 f"vendors: {', '.join(vendors)}")
            if horizon is not None and not (
                parse_quarter(horizon.start)
                <= parse_quarter(event.quarter)
                <= parse_quarter(horizon.end)
            ):
                raise ValueError(f"event {index} at {event.quarter} is outside the horizon "
                                 f"{horizon.start}..{horizon.end}")
        return events

    @model_validator(mode="after")
    def _signals_in_range(self) -> Scenario:
        """Every signal's path stays within its range over the horizon and the quarters
        enterprises plan ahead; a value outside is an error naming its key, never clamped."""
        start = parse_quarter(self.horizon.start)
        quarters = np.arange(start, start + planned_quarter_count(self), dtype=float)
        for spec in SIGNALS:
            given = getattr(self.signals, spec.name)
            signals = ({f"{spec.name}.{region}": signal for region, signal in given.items()}
                       if spec.regional else {spec.name: given})
            for key, signal in signals.items():
                for path, problem in _signal_range_errors(signal, spec, f"signals.{key}",
                                                          quarters):
                    raise PydanticCustomError("signal_range", problem, {"key": path})
        return self

    @property
    def quarters(self) -> list[str]:
        from sim.core.quarters import quarter_range

        return quarter_range(self.horizon.start, self.horizon.end)
