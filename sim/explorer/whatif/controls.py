"""The explorer's controls: one table (:data:`CONTROLS`) in which each control carries what the
page shows (key, label, unit, help, range or choices, step) and how it reads and writes the
scenario (its :class:`Binding`).

A control is one setting a strategist reasons about, labelled in the article's units. The
article's forces each have one:

* "what to watch", the capability gap: the MMLU benchmark gap reached by 2027Q4 (the watch
  library's reopening date) and held after it;
* "what to watch", open tooling: the ceiling and the half-way quarter of the tooling-maturity
  curve;
* costs: the yearly change of closed API prices and of inference hardware cost after 2025;
* data sovereignty: the EU's regulatory pressure reached by 2027Q4 (the AI Act's high-risk
  duties);
* vendor risk: one scheduled vendor event (vendor, kind, quarter, region, price multiplier);
* behaviour: the review rate and the switching cost (both calibrated; setting one fixes it in
  every replication, where the calibration's draws varied it).

Every control changes the future only, from the quarter after the end of history
(:data:`sim.core.quarters.HISTORY_END`, 2025Q4) on, and leaves the measured 2024-2025 history
that the calibration fitted as it is: signals that are dated points get the point at 2027Q4 set
(in whichever path runs then: the signal's own or a scenario's revision, ``after``); trends and
the tooling curve get a revision from 2026Q1 that starts where the path stands at 2025Q4, so the
path is continuous. Controls written together (the tooling curve's ceiling and half-way quarter,
the vendor shock's fields) share one binding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.core.paths import deterministic_path
from sim.core.posterior import value_at
from sim.core.quarters import HISTORY_END, format_quarter, parse_quarter, quarter_range
from sim.core.schema import EVENT_TYPES, REGIONS, Logistic, Scenario, Signal
from sim.core.settings_file import ScenarioError

REVISION_QUARTER = format_quarter(parse_quarter(HISTORY_END) + 1)  # controls change paths from it
TARGET_QUARTER = "2027Q4"    # level controls: the level reached by then
NO_SHOCK = "none"
SHOCK_DEFAULTS = {"vendor_shock.vendor": NO_SHOCK, "vendor_shock.type": "price_change",
                  "vendor_shock.quarter": "2026Q3", "vendor_shock.price_multiplier": 1.8,
                  "vendor_shock.region": "all"}
TOOLING_CEILING = "signals.tooling_maturity.upper"
TOOLING_MIDPOINT = "signals.tooling_maturity.midpoint"
RATE_UNIT = "change a year (-0.30: 30% lower each year)"
SIGNIFICANT_DIGITS = 6             # of the values current_values reports


@dataclass(frozen=True)
class Binding:
    """How controls are tied to the scenario: ``read(scenario, key)`` gives control ``key``'s
    value in a resolved scenario (None where the scenario cannot express it); ``write(scenario,
    values)`` gives the scenario keys (a nested mapping) that set every control bound here to
    ``values`` (by control key); ``paths`` are the scenario key paths it writes."""

    paths: tuple[str, ...]
    read: Callable[[Scenario, str], Any]
    write: Callable[[Scenario, dict[str, Any]], dict]


@dataclass(frozen=True)
class Control:
    """One setting on the page. ``key`` names it (in ``changes`` and in the ``key_path`` of a
    :class:`ScenarioError` about it); ``kind`` is "number" (``low``..``high`` by ``step``) or
    "choice" (one of ``choices``; :func:`controls_for` fills the scenario's vendors and
    quarters); ``binding`` reads and writes it in the scenario (see the module docstring)."""

    key: str
    label: str
    unit: str
    kind: str
    help: str
    binding: Binding
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()

    def read(self, scenario: Scenario) -> Any:
        """The control's value in a resolved scenario (None where it cannot be expressed)."""
        return self.binding.read(scenario, self.key)


# --- reading and writing signal paths ---------------------------------------------------------

def _signal(scenario: Scenario, names: tuple[str, ...]) -> Signal:
    signal: Any = scenario.signals
    for name in names:
        signal = signal[name] if isinstance(signal, dict) else getattr(signal, name)
    return signal


def _value(signal: Signal, quarter: str) -> float:
    """The signal's noise-free value at ``quarter``
    (:func:`sim.core.paths.deterministic_path`)."""
    return float(deterministic_path(signal, np.array([float(parse_quarter(quarter))]))[0])


def _governing(signal: Signal, quarter: str) -> tuple[tuple[str, ...], Signal]:
    """The path the signal follows at ``quarter`` (its own, or a revision's, ``after.path``),
    and the keys leading to it."""
    keys: tuple[str, ...] = ()
    while signal.after is not None \
            and parse_quarter(signal.after.quarter) <= parse_quarter(quarter):
        keys, signal = keys + ("after", "path"), signal.after.path
    return keys, signal


def _revision(signal: Signal, path: dict) -> dict:
    """An ``after`` revision from 2026Q1 following ``path``, written so that, merged over the
    signal's own revision (files deep-merge), none of that revision's path forms remain."""
    old = signal.after.path if signal.after is not None else None
    cleared = {form: None for form in ("points", "trend", "logistic", "extend", "after")
               if old is not None and getattr(old, form) is not None and form not in path}
    return {"quarter": REVISION_QUARTER, "path": {**cleared, **path}}


def _nest(keys: tuple[str, ...], value: Any) -> dict:
    for key in reversed(keys):
        value = {key: value}
    return value


# --- the bindings -------------------------------------------------------------------------------

def _level(*names: str) -> Binding:
    """A signal's level at 2027Q4: the point of the path running then, or a revision from
    2026Q1 to it when that path is not dated points. When the signal's own points have none
    from 2025Q4 up to 2027Q4, its 2025Q4 value is written as a point too, so the history before
    it keeps its values."""
    def read(scenario, key):
        return _value(_signal(scenario, names), TARGET_QUARTER)

    def write(scenario, values):
        (level,) = values.values()
        signal = _signal(scenario, names)
        keys, governing = _governing(signal, TARGET_QUARTER)
        if governing.points is not None:
            points = {TARGET_QUARTER: level}
            if not keys and not any(
                    parse_quarter(HISTORY_END) <= parse_quarter(q) < parse_quarter(TARGET_QUARTER)
                    for q in governing.points):
                points = {HISTORY_END: _value(signal, HISTORY_END), **points}
            return _nest(("signals", *names, *keys, "points"), points)
        return _nest(("signals", *names, "after"),
                     _revision(signal, {"points": {TARGET_QUARTER: level}}))

    return Binding((".".join(("signals", *names)),), read, write)


def _rate(name: str) -> Binding:
    """A signal's average yearly change from 2025Q4 to the horizon's end; written as an
    exponential trend from its 2025Q4 value."""
    def read(scenario, key):
        signal = _signal(scenario, (name,))
        years = (parse_quarter(scenario.horizon.end) - parse_quarter(HISTORY_END)) / 4
        if years <= 0:
            return None
        ratio = _value(signal, scenario.horizon.end) / _value(signal, HISTORY_END)
        return ratio ** (1 / years) - 1

    def write(scenario, values):
        (rate,) = values.values()
        signal = _signal(scenario, (name,))
        trend = {"start": HISTORY_END, "start_value": _value(signal, HISTORY_END),
                 "annual_rate": rate, "form": "exponential"}
        return _nest(("signals", name, "after"), _revision(signal, {"trend": trend}))

    return Binding((f"signals.{name}.after",), read, write)


def _tooling_curve(scenario: Scenario) -> Logistic | None:
    """The logistic curve tooling follows after 2025: a revision's, else the signal's own."""
    signal = scenario.signals.tooling_maturity
    return _governing(signal, REVISION_QUARTER)[1].logistic or signal.logistic


def _tooling() -> Binding:
    """Tooling maturity's ceiling and half-way quarter: a logistic revision from 2026Q1 whose
    lower asymptote is chosen so that the curve passes through the 2025Q4 value."""
    fields = {TOOLING_CEILING: "upper", TOOLING_MIDPOINT: "midpoint"}

    def read(scenario, key):
        curve = _tooling_curve(scenario)
        return curve and getattr(curve, fields[key])

    def write(scenario, values):
        curve = _tooling_curve(scenario)
        signal = scenario.signals.tooling_maturity
        upper, midpoint = values[TOOLING_CEILING], values[TOOLING_MIDPOINT]
        # share of the way from lower to upper that a curve with this midpoint has gone at 2025Q4
        gone = _value(Signal(logistic=Logistic(lower=0.0, upper=1.0, midpoint=midpoint,
                                               steepness=curve.steepness)), HISTORY_END)
        if gone > 0.99:
            raise ScenarioError(f"a curve half-way by {midpoint} is already past 99% of "
                                f"its rise at {HISTORY_END}; choose a later quarter",
                                key_path=TOOLING_MIDPOINT)
        start = _value(signal, HISTORY_END)
        lower = (start - upper * gone) / (1.0 - gone)
        logistic = {"lower": lower, "upper": upper, "midpoint": midpoint,
                    "steepness": curve.steepness}
        return _nest(("signals", "tooling_maturity", "after"),
                     _revision(signal, {"logistic": logistic}))

    return Binding(("signals.tooling_maturity.after",), read, write)


def _vendor_shock() -> Binding:
    """One more scheduled vendor event. Lists replace rather than merge, so the scenario's own
    scheduled events are written again before it. It reads "none" (no shock): it adds an event
    to those the scenario has."""
    def read(scenario, key):
        return SHOCK_DEFAULTS[key]

    def write(scenario, values):
        if values["vendor_shock.vendor"] == NO_SHOCK:
            return {}
        kind = values["vendor_shock.type"]
        event = {"quarter": values["vendor_shock.quarter"],
                 "vendor": values["vendor_shock.vendor"], "type": kind,
                 "region": values["vendor_shock.region"], "note": "what if: a vendor shock"}
        if kind == "price_change":
            event["price_multiplier"] = values["vendor_shock.price_multiplier"]
        own = [e.model_dump(mode="json", exclude_none=True) for e in scenario.scheduled_events]
        return {"scheduled_events": [*own, event]}

    return Binding(("scheduled_events",), read, write)


def _behaviour(path: str) -> Binding:
    """A behaviour parameter, read and written as it is (:func:`sim.core.posterior.value_at`)."""
    def write(scenario, values):
        (value,) = values.values()
        return _nest(tuple(path.split(".")), value)

    return Binding((path,), lambda scenario, key: value_at(scenario, path), write)


# --- the table ----------------------------------------------------------------------------------

_TOOLING = _tooling()
_SHOCK = _vendor_shock()

CONTROLS: tuple[Control, ...] = (
    Control("signals.benchmark_gap.2027Q4", "Benchmark gap after 2025 (MMLU points)",
            "MMLU points, best closed minus best open", "number",
            "The gap reached by 2027Q4 and held after it (0.9 at the end of 2025; the "
            "gap-reopens scenario has 8).", _level("benchmark_gap"), 0.0, 20.0, 0.1),
    Control(TOOLING_CEILING, "Open tooling maturity: ceiling", "index 0..1", "number",
            "Where open fine-tuning and deployment tooling levels off after 2025 (it stands "
            "about 0.42 at the end of 2025); replaces the scenario's own tooling path after 2025.",
            _TOOLING, 0.3, 1.0, 0.01),
    Control(TOOLING_MIDPOINT, "Open tooling maturity: half-way quarter", "quarter", "choice",
            "When tooling is half-way to its ceiling: earlier means self-hosting gets easier "
            "sooner; replaces the scenario's own tooling path after 2025.",
            _TOOLING, choices=tuple(quarter_range("2025Q1", "2032Q4"))),
    Control("signals.closed_price_index.annual_rate", "Closed API prices after 2025",
            RATE_UNIT, "number",
            "Yearly change of closed API prices per token from 2026 (the baseline: -0.30).",
            _rate("closed_price_index"), -0.9, 0.5, 0.01),
    Control("signals.hardware_cost_index.annual_rate", "Inference hardware cost after 2025",
            RATE_UNIT, "number",
            "Yearly change of the hardware cost of self-hosting from 2026 (the baseline: -0.30).",
            _rate("hardware_cost_index"), -0.9, 0.5, 0.01),
    Control("signals.regulatory_pressure.eu.2027Q4", "EU regulatory pressure by 2027Q4",
            "index 0..1", "number",
            "Data-sovereignty pressure in the EU when the AI Act's high-risk duties apply; "
            "regulated sectors feel it fully on closed APIs.",
            _level("regulatory_pressure", "eu"), 0.0, 1.0, 0.01),
    Control("vendor_shock.vendor", "Vendor shock: vendor", "", "choice",
            "The closed vendor hit by one extra event; 'none' for no shock.",
            _SHOCK, choices=(NO_SHOCK,)),
    Control("vendor_shock.type", "Vendor shock: what happens", "", "choice",
            "A price change, a model deprecation, a policy change or a withdrawal of access.",
            _SHOCK, choices=EVENT_TYPES),
    Control("vendor_shock.quarter", "Vendor shock: when", "quarter", "choice",
            "The quarter the event happens.", _SHOCK,
            choices=tuple(quarter_range(REVISION_QUARTER, "2030Q4"))),
    Control("vendor_shock.price_multiplier", "Vendor shock: new price (price changes only)",
            "times the price before", "number",
            "1.8 is an 80% price rise, 0.5 a halving.", _SHOCK, 0.2, 5.0, 0.05),
    Control("vendor_shock.region", "Vendor shock: where", "", "choice",
            "The customers it reaches: everywhere or one region.", _SHOCK,
            choices=("all", *REGIONS)),
    Control("behaviour.review_rate", "Review rate", "share of enterprises a quarter", "number",
            "How often enterprises review their stack; set here, it no longer varies with the "
            "calibration's draws.", _behaviour("behaviour.review_rate"), 0.0, 1.0, 0.01),
    Control("behaviour.switching_cost", "Switching cost", "utility units", "number",
            "The cost of leaving a stack (re-platforming inertia); set here, it no longer "
            "varies with the calibration's draws.", _behaviour("behaviour.switching_cost"),
            0.0, 150.0, 1.0),
)
CONTROLS_BY_KEY = {control.key: control for control in CONTROLS}


def controls_for(scenario: Scenario) -> tuple[Control, ...]:
    """:data:`CONTROLS` with the scenario's own choices: its vendors, and its quarters from
    2026Q1 for the vendor shock."""
    shock_quarters = tuple(q for q in scenario.quarters
                           if parse_quarter(q) >= parse_quarter(REVISION_QUARTER))
    filled = {"vendor_shock.vendor": (NO_SHOCK, *scenario.vendors),
              "vendor_shock.quarter": shock_quarters}
    return tuple(replace(control, choices=filled[control.key]) if control.key in filled
                 else control for control in CONTROLS)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return value


def current_values(scenario: Scenario) -> dict[str, Any]:
    """Each control's value in a resolved scenario (numbers to 6 significant digits; None
    where the scenario cannot express the control, e.g. a tooling path that is no logistic
    curve). The vendor shock reads "none": it adds an event to those the scenario has."""
    return {control.key: _rounded(control.read(scenario)) for control in CONTROLS}

