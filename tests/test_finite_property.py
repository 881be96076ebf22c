"""Property test over the schema's numeric ranges (hypothesis): any valid scenario drawn from the
schema runs without a floating-point overflow, division by zero or invalid operation anywhere,
to metrics that are finite, or missing (NaN) only where the metric table allows it, with every
signal within its range and every share triple summing to 1 where defined.

The scenarios start from the baseline and perturb many numeric settings at once, each within
the bounds the schema declares for it (``Field(ge=..., le=...)``, read from the pydantic
fields' metadata; a number without bounds within the schema's cap on any number,
``MAX_MAGNITUDE``), the signals within the signal table's ranges (dated points, logistic curves,
noise of either form up to the schema's caps), scheduled price moves, and the mixes (sectors,
regions, sizes, workload classes, vendors) as random weights normalised to sum to 1. Only the
size of the run is kept small, for time: 20 to 60 enterprises, at most 10 workloads an
enterprise at entry and a year, a horizon of 4 to 8 quarters and a burn-in of 0 to 2. The 200
examples are derandomized (the same every run) and take about 15 s on two idle cores.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import annotated_types
import numpy as np
from conftest import BASELINE
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.core.metric_table import SHARE_FAMILIES, deployment_metric, stack_metric
from sim.core.metrics import METRIC_CELLS, METRIC_INDEX, VALUE_REQUIRED
from sim.core.quarters import format_quarter, parse_quarter
from sim.core.scenario import load_scenario
from sim.core.schema import (
    MAX_MAGNITUDE,
    MAX_MULTIPLICATIVE_SD,
    REGIONS,
    Logistic,
    Noise,
    Scenario,
    ScheduledEvent,
)
from sim.core.signal_table import SIGNALS
from sim.running.runner import simulate

BASE = load_scenario(BASELINE)
START = parse_quarter(BASE.horizon.start)
QUARTER_RANGE = (4, 8)
BURN_IN_RANGE = (0, 2)
ENTERPRISE_RANGE = (20, 60)
MAX_WORKLOADS = 10.0
#: Settings drawn apart from their schema bounds: the run's size, seeds and the mixes.
SIZE_KEYS = {("seed",), ("replications",), ("burn_in_quarters",), ("population", "enterprises"),
             ("population", "network", "neighbours")}
WORKLOAD_KEYS = {"initial_workloads", "new_workloads_per_year"}
MIXES = (("population", "sectors"), ("population", "sizes"), ("population", "workload_classes"),
         ("population", "regions"), ("vendors",))
SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Knob:
    """A numeric setting: where it is in the scenario's data, and the bounds the schema gives."""

    path: tuple
    low: float
    high: float
    exclude_low: bool
    exclude_high: bool
    integer: bool

    def strategy(self) -> st.SearchStrategy:
        if self.integer:
            return st.integers(int(self.low) + self.exclude_low, int(self.high) - self.exclude_high)
        return st.floats(self.low, self.high, exclude_min=self.exclude_low,
                         exclude_max=self.exclude_high, allow_nan=False, allow_infinity=False)


def _metadata(annotation) -> list:
    """The constraints (annotated_types) of a value of type ``annotation``: of the value type
    for a mapping or list, of the number for an optional number."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return [item for info in args[1:] for item in getattr(info, "metadata", [info])]
    if origin in (dict, list):
        return _metadata(args[-1])
    if args:   # a union: the first member that is not None
        return _metadata(next(arg for arg in args if arg is not type(None)))
    return []


def _knob(path: tuple, metadata: list, integer: bool) -> Knob:
    bounds = {"low": -MAX_MAGNITUDE, "high": MAX_MAGNITUDE, "exclude_low": False,
              "exclude_high": False}
    for item in metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            bounds["low"] = getattr(item, "ge", getattr(item, "gt", None))
            bounds["exclude_low"] = isinstance(item, annotated_types.Gt)
        if isinstance(item, annotated_types.Le | annotated_types.Lt):
            bounds["high"] = min(getattr(item, "le", getattr(item, "lt", None)), MAX_MAGNITUDE)
            bounds["exclude_high"] = isinstance(item, annotated_types.Lt)
    return Knob(path, integer=integer, **bounds)


def knobs(model: BaseModel, path: tuple = ()) -> typing.Iterator[Knob]:
    """Every number of ``model`` (the models, mappings and lists inside it too), with the
    bounds its field declares."""
    for name, info in type(model).model_fields.items():
        value, here = getattr(model, name), path + (name,)
        if isinstance(value, BaseModel):
            yield from knobs(value, here)
        elif isinstance(value, dict | list):
            for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
                if isinstance(item, BaseModel):
                    yield from knobs(item, here + (key,))
                elif isinstance(item, float):
                    yield _knob(here + (key,), _metadata(info.annotation), integer=False)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield _knob(here, info.metadata or _metadata(info.annotation),
                        integer=isinstance(value, int))


def _in_a_mix(path: tuple) -> bool:
    return any(path[:len(mix)] == mix and (len(path) == len(mix) + 1
                                           or path[-1] in ("share", "market_share"))
               for mix in MIXES)


KNOBS = [knob for knob in knobs(BASE)
         if knob.path[0] not in ("signals", "posterior") and knob.path not in SIZE_KEYS
         and not _in_a_mix(knob.path)]


def _put(data: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@st.composite
def signal_paths(draw, spec, planned: int) -> dict | None:
    """A path for one signal within its range: the baseline's (None), or dated points or a
    logistic curve over the planned quarters, maybe with noise up to the schema's caps."""
    value = st.floats(spec.low, spec.high, allow_nan=False)
    form = draw(st.sampled_from(["baseline", "points", "logistic"]))
    quarters = st.integers(START - 4, START + planned + 4).map(format_quarter)
    path: dict = {}
    if form == "points":
        path = {"points": draw(st.dictionaries(quarters, value, min_size=1, max_size=3))}
    elif form == "logistic":
        steepness = _knob((), Logistic.model_fields["steepness"].metadata, False)
        path = {"logistic": {"lower": draw(value), "upper": draw(value),
                             "midpoint": draw(quarters), "steepness": draw(steepness.strategy())}}
    if path:
        path.update({name: None for name in ("points", "trend", "logistic", "extend", "after")
                     if name not in path})
    if draw(st.booleans()):
        noise_form = draw(st.sampled_from(["additive", "multiplicative"]))
        cap = spec.width if noise_form == "additive" else MAX_MULTIPLICATIVE_SD
        persistence = _knob((), Noise.model_fields["persistence"].metadata, False)
        path["noise"] = {"form": noise_form, "sd": draw(st.floats(0.0, cap)),
                         "persistence": draw(persistence.strategy())}
    return path or None


def _mix(draw, names) -> dict[str, float]:
    weights = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=len(names),
                                     max_size=len(names))))
    if weights.sum() == 0:
        weights[0] = 1.0
    return dict(zip(names, (weights / weights.sum()).tolist()))


@st.composite
def scenarios(draw) -> Scenario:
    """A valid scenario: the baseline with many settings drawn within their declared bounds."""
    data = BASE.model_dump()
    quarters = draw(st.integers(*QUARTER_RANGE))
    enterprises = draw(st.integers(*ENTERPRISE_RANGE))
    data.update(posterior=None, replications=1, seed=draw(st.integers(0, 2**32)),
                burn_in_quarters=draw(st.integers(*BURN_IN_RANGE)),
                horizon={"start": BASE.horizon.start, "end": format_quarter(START + quarters - 1)})
    data["scheduled_events"] = [event for event in data["scheduled_events"]
                                if parse_quarter(event["quarter"]) < START + quarters]
    moves = _knob((), _metadata(ScheduledEvent.model_fields["price_multiplier"].annotation), False)
    for quarter in draw(st.lists(st.integers(START, START + quarters - 1), max_size=3)):
        data["scheduled_events"].append({
            "quarter": format_quarter(quarter), "vendor": draw(st.sampled_from(list(BASE.vendors))),
            "type": "price_change", "price_multiplier": draw(moves.strategy())})
    population = data["population"]
    population["enterprises"] = enterprises
    population["network"]["neighbours"] = draw(st.integers(2, min(50, enterprises - 1)))
    for knob in KNOBS:
        if draw(st.booleans()):
            strategy = (st.floats(0.0, MAX_WORKLOADS) if knob.path[-1] in WORKLOAD_KEYS
                        else knob.strategy())
            _put(data, knob.path, draw(strategy))
    for mix in MIXES:
        members = data[mix[0]] if len(mix) == 1 else data[mix[0]][mix[1]]
        if draw(st.booleans()):
            for name, share in _mix(draw, list(members)).items():
                if isinstance(members[name], dict):
                    members[name]["market_share" if mix == ("vendors",) else "share"] = share
                else:
                    members[name] = share
    price_change = data["vendor_events"]["price_change"]
    low, high = sorted((price_change["multiplier_low"], price_change["multiplier_high"]))
    price_change.update(multiplier_low=low, multiplier_high=high)
    planned = quarters + data["behaviour"]["planning_horizon"]
    for spec in SIGNALS:
        for region in (REGIONS if spec.regional else (None,)):
            path = draw(signal_paths(spec, planned))
            if path:
                signal = data["signals"][spec.name]
                (signal[region] if region else signal).update(path)
    return Scenario.model_validate(data)


def _shares_sum_to_one(values: np.ndarray, names: list[str]) -> None:
    total = sum(values[:, METRIC_INDEX[name]] for name in names)
    defined = ~np.isnan(total)
    np.testing.assert_allclose(total[defined], 1.0, atol=SHARE_TOLERANCE, err_msg=str(names))
    for name in names:
        shares = values[:, METRIC_INDEX[name]]
        assert np.all((shares[defined] >= 0) & (shares[defined] <= 1)), name


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(scenario=scenarios())
def test_any_valid_scenario_gives_finite_metrics_and_shares_that_sum_to_one(scenario):
    # nothing in the run overflows, divides by zero or makes a NaN (numpy raises if it does),
    # and the guard raises NonFiniteMetric on a value not finite
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        values = simulate(scenario, scenario.seed)
    assert not np.isinf(values).any()
    assert not np.isnan(values[:, VALUE_REQUIRED]).any()
    assert np.isnan(values[:, ~METRIC_CELLS]).all()
    for family in SHARE_FAMILIES:
        _shares_sum_to_one(values, [deployment_metric(family, option).name
                                    for option in ("closed", "open", "open_finetuned")])
        _shares_sum_to_one(values, [deployment_metric(family, option).name
                                    for option in ("closed", "open_any")])
    _shares_sum_to_one(values, [stack_metric(stack).name for stack in ("closed", "open", "hybrid")])
    for spec in SIGNALS:
        path = values[:, METRIC_INDEX[spec.metric]][:, METRIC_CELLS[METRIC_INDEX[spec.metric]]]
        assert np.all((path >= spec.low) & (path <= spec.high)), spec.name
