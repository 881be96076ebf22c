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

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Confidence = Literal["high", "medium", "low", "claimed", "assumption"]
QuarterText = Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$", description="a quarter, YYYYQn")]

_MIX_TOLERANCE = 1e-6
MAX_PLANNING_HORIZON = 12
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

    source: str | None = None
    confidence: Confidence | None = None


def _check_mix(shares: dict[str, float], what: str) -> None:
    total = sum(shares.values())
    if abs(total - 1.0) > _MIX_TOLERANCE:
        raise ValueError(f"{what} shares must sum to 1 (they sum to {total:.6g})")


class Horizon(Strict):
    start: QuarterText = "2024Q1"
    end: QuarterText = "2030Q4"

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

    share: Share
    regulated: bool
    ml_capacity_shift: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(
        0.0,
        description="added to the size band's mean ML capacity (the mean stays within 0.02..0.98)",
    )


class Size(Provenance):
    """Enterprise size band: share, in-house ML capacity, AI entry timing and portfolio growth."""

    share: Share
    ml_capacity_mean: Annotated[float, Field(gt=0.0, lt=1.0)]
    platform_cost_multiplier: Positive = Field(
        description="scales the fixed cost of running an open platform (falls with size)")
    volume_multiplier: Positive = Field(description="scales every workload's token volume")
    initial_workloads: NonNegative = Field(
        description="mean extra workloads at AI entry (beyond one)"
    )
    new_workloads_per_year: NonNegative
    ai_use_at_start: Share = Field(description="share using generative AI at the horizon start")
    ai_use_ceiling: Share = Field(description="share that eventually uses generative AI")
    ai_use_midpoint: QuarterText = Field(description="quarter at which half the ceiling is reached")
    ai_use_steepness: Positive = Field(description="logistic steepness of AI entry, per year")


class WorkloadClass(Provenance):
    """A workload class and its typical attributes (0..1 scales): the article's five, and coding
    and agentic work, 2025's largest enterprise use case (FACTS.md, "Adoption").

    ``share`` is the class's share of the workloads present at the horizon start. ``share_path``
    gives its share of *newly added* workloads at dated quarters (interpolated, flat outside the
    points; shares are renormalised across classes each quarter): the workload mix drifting over
    time, for example toward work that needs the closed frontier."""

    share: Share
    share_path: dict[QuarterText, Share] | None = Field(
        None, description="share of newly added workloads at dated quarters")
    stakes: Share = Field(description="how much capability matters")
    frontier_need: Share = Field(description="how much complex multi-step reasoning matters")
    sensitivity: Share = Field(description="data sensitivity (drives the compliance penalty)")
    domain_specificity: Share = Field(description="how much fine-tuning on own data helps")
    volume_mtok_median: Positive = Field(description="median token volume, millions per quarter")
    volume_log_sd: NonNegative = Field(description="log-normal spread of the token volume")
    attribute_spread: NonNegative = Field(
        0.1, description="standard deviation of each workload's stakes/sensitivity/domain draws")


class Network(Strict):
    """Peer network: a small world clustered by sector (neighbours on the ring share a sector)."""

    neighbours: Annotated[int, Field(ge=2, le=50)] = 6
    rewire_probability: Share = 0.1


class Population(Strict):
    enterprises: Annotated[int, Field(ge=10, le=2_000_000)]
    sectors: dict[str, Sector]
    regions: dict[str, Share]
    sizes: dict[str, Size]
    workload_classes: dict[str, WorkloadClass]
    ml_capacity_concentration: Positive = Field(
        description="beta concentration of ML capacity around its size mean")
    risk_aversion_mean: Annotated[float, Field(gt=0.0, lt=1.0)]
    risk_aversion_concentration: Positive
    regulated_privacy_multiplier: Positive = Field(
        description="how much more often regulated sectors' workloads are privacy-sensitive")
    network: Network = Network()
    source: str | None = None
    confidence: Confidence | None = None

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

    form: Literal["exponential", "linear"] = "exponential"
    annual_rate: float

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

    start: QuarterText
    start_value: float


class Logistic(Strict):
    """value(t) = lower + (upper - lower) / (1 + exp(-steepness * (years - midpoint)))."""

    lower: float
    upper: float
    midpoint: QuarterText
    steepness: Positive = Field(description="per year")


class Extension(Growth):
    """How a dated-points path continues after its last point."""


class Noise(Strict):
    """Seeded AR(1) noise around the path; additive or multiplicative (log-scale)."""

    sd: NonNegative
    persistence: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.7
    form: Literal["additive", "multiplicative"] = "additive"


class Revision(Strict):
    """From ``quarter`` on, the signal follows ``path`` instead: a future that departs from the
    history. A points path without a point the quarter before ``quarter`` starts from the
    original path's value there, so the departure is continuous."""

    quarter: QuarterText
    path: Signal


class Signal(Provenance):
    """An exogenous quarterly path in the article's own units. Exactly one of ``points`` (dated
    values, linearly interpolated, held flat before the first), ``trend`` or ``logistic``;
    optionally revised from some quarter on (``after``)."""

    unit: str | None = None
    points: dict[QuarterText, float] | None = None
    extend: Extension | None = None
    trend: Trend | None = None
    logistic: Logistic | None = None
    noise: Noise | None = None
    after: Revision | None = None
    note: str | None = None

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


# --- vendors ----------------------------------------------------------------------------------

class Hazards(Strict):
    """Per-quarter probability of each kind of vendor event."""

    price_change: Share = 0.0
    deprecation: Share = 0.0
    policy_change: Share = 0.0
    withdrawal: Share = 0.0


class Vendor(Provenance):
    """A closed-model vendor: its market share among enterprises and its event hazards."""

    market_share: Share
    hazards: Hazards


class EventEffect(Provenance):
    """What one kind of vendor event does to the customers it reaches: a perceived-risk shock
    (``severity``; everyone else feels ``severity * spillover``), whether it forces them to
    review their stack, and the share of the switching cost it waives for them (a deprecation
    means re-engineering anyway)."""

    severity: NonNegative
    forced_review: bool
    switching_cost_relief: Share = 0.0
    reach: Share = Field(1.0, description="share of the vendor's customers an event reaches "
                         "(for a deprecation: those using the retired model)")


class PriceChange(EventEffect):
    """A random price move: multiplier drawn log-uniformly between the bounds."""

    multiplier_low: Positive = 0.5
    multiplier_high: Positive = 1.5

    @model_validator(mode="after")
    def _bounds(self) -> PriceChange:
        if self.multiplier_high < self.multiplier_low:
            raise ValueError("multiplier_high must be at least multiplier_low")
        return self


class EventEffects(Strict):
    price_change: PriceChange
    deprecation: EventEffect
    policy_change: EventEffect
    withdrawal: EventEffect
    spillover: Share = Field(description="share of a shock felt by other vendors' customers")
    risk_decay: Share = Field(description="share of perceived vendor risk left after a quarter")


class ScheduledEvent(Strict):
    """An event fixed in time by the scenario (for example a price hike or a regional
    withdrawal)."""

    quarter: QuarterText
    vendor: str
    type: Literal["price_change", "deprecation", "policy_change", "withdrawal"]
    price_multiplier: Positive | None = None
    region: Literal["all", "eu", "north_america", "apac"] = "all"
    note: str | None = None

    @model_validator(mode="after")
    def _multiplier(self) -> ScheduledEvent:
        if self.type == "price_change" and self.price_multiplier is None:
            raise ValueError("a scheduled price_change needs price_multiplier")
        if self.type != "price_change" and self.price_multiplier is not None:
            raise ValueError("price_multiplier only applies to price_change events")
        return self


# --- behaviour --------------------------------------------------------------------------------

class Behaviour(Strict):
    """How enterprises weigh the forces. Utility units are arbitrary; costs are in thousands of
    USD per quarter times ``cost_weight``. The calibrated values live in scenarios/."""

    closed_preference: float = Field(description="per-workload constant favouring closed APIs "
                                     "(SLAs, managed infrastructure, habit)")
    capability_weight: NonNegative = Field(description="value of full capability at stakes 1")
    gap_sensitivity: NonNegative = Field(
        description="relative capability lost per benchmark-gap point"
    )
    frontier_sensitivity: NonNegative = Field(
        description="relative capability lost per frontier-gap point, at frontier need 1"
    )
    finetune_gain: NonNegative = Field(description="capability fine-tuning adds at domain "
                                       "specificity 1 and tooling maturity 1")
    closed_price_usd_per_mtok: Positive = Field(description="blended closed API price at the start")
    cost_weight: NonNegative = Field(description="utility per thousand USD per quarter")
    vendor_risk_weight: NonNegative
    base_vendor_risk: NonNegative = Field(description="perceived concentration risk with no events")
    compliance_weight: NonNegative
    unregulated_compliance_share: Share = Field(
        description="share of the compliance penalty unregulated sectors feel")
    ops_burden: NonNegative = Field(description="per-workload operational burden of self-hosting")
    finetune_burden: NonNegative = Field(description="extra burden of running a fine-tuned model")
    ml_capacity_relief: Share = Field(description="share of burden removed at ML capacity 1")
    tooling_relief: Share = Field(description="share of burden removed at tooling maturity 1")
    platform_cost: NonNegative = Field(description="fixed quarterly cost of an open platform")
    switching_cost: NonNegative
    peer_weight: NonNegative = Field(description="utility of open and hybrid stacks when every "
                                     "neighbour runs open")
    review_rate: Share = Field(description="per-quarter probability of a periodic stack review")
    planning_horizon: Annotated[int, Field(ge=0, le=MAX_PLANNING_HORIZON)] = Field(
        description="quarters ahead whose expected signals intentions are formed on")
    logit_scale: Positive = Field(description="scale of the stack choice's logit noise")
    workload_taste_sd: NonNegative = Field(description="spread of persistent workload-level tastes")
    open_affinity_sd: NonNegative = Field(
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

    file: str | None = None
    parameters: list[str] = Field(default_factory=list)
    draws: list[list[float]] = Field(default_factory=list)

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

    name: PathName
    description: str = ""
    axes: dict[str, str] = Field(default_factory=dict, description=(
        "where the scenario sits on the what-to-watch axes, e.g. {tooling: fast, gap: reopens}; "
        "`adoptsim compare` draws a matrix over two axes"))
    seed: Annotated[int, Field(ge=0)] = 0
    replications: Annotated[int, Field(ge=1, le=10_000)] = 20
    horizon: Horizon = Horizon()
    burn_in_quarters: Annotated[int, Field(ge=0, le=40)] = 8
    population: Population
    signals: Signals
    vendors: dict[str, Vendor]
    vendor_events: EventEffects
    scheduled_events: list[ScheduledEvent] = []
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
