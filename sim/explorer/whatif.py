"""What if: a strategist's change to a scenario, run paired with the scenario it changes.

A :class:`Control` is one setting a strategist reasons about, labelled in the article's units and
mapped to scenario keys (:data:`CONTROLS`). The article's forces each have one:

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

Every control changes the future only, from 2026Q1 on, and leaves the measured 2024-2025 history
that the calibration fitted as it is: signals that are dated points get the point at 2027Q4 set
(in whichever path runs then: the signal's own or a scenario's revision, ``after``); trends and
the tooling curve get a revision from 2026Q1 that starts where the path stands at 2025Q4, so the
path is continuous.

A change becomes ``--set`` overrides of the chosen scenario (:func:`apply_changes`), read and
checked exactly as the command line reads them (a calibrated parameter they set leaves the
posterior draws), and the same keys make the YAML file the page saves (:func:`saved_yaml`): it
``extends`` the chosen scenario and holds only those keys, so ``adoptsim run`` on it gives the
page's figures. The overrides are written so that they change the scenario exactly as that file,
merged over it, does (:func:`_leaves`). :class:`Ensemble` runs the chosen scenario (once,
then cached) and the changed one with the same seeds and posterior draws through
:func:`sim.workflows.run_scenario`, and tabulates the paired differences with
:func:`sim.running.compare.comparison_table`. Nothing here writes files except
:func:`start_full_run` (a run folder, through ``run_scenario``), nor draws plots.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.core.paths import deterministic_path
from sim.core.posterior import value_at
from sim.core.quarters import parse_quarter, quarter_range
from sim.core.scenario import ScenarioError, load_scenario, scenario_hash
from sim.core.schema import EVENT_TYPES, REGIONS, Logistic, Scenario, Signal
from sim.explorer.files import SAVED_FOLDER, safe_path
from sim.running import compare
from sim.views.style import COMPARE_METRICS
from sim.workflows import resolve, run_scenario

HISTORY_END = "2025Q4"       # the last quarter of the measured history the calibration fitted
REVISION_QUARTER = "2026Q1"  # controls change the paths from here on
TARGET_QUARTER = "2027Q4"    # level controls: the level reached by then
NO_SHOCK = "none"
SHOCK_DEFAULTS = {"vendor_shock.vendor": NO_SHOCK, "vendor_shock.type": "price_change",
                  "vendor_shock.quarter": "2026Q3", "vendor_shock.price_multiplier": 1.8,
                  "vendor_shock.region": "all"}
DEFAULT_REPLICATIONS = 8
DEFAULT_ENTERPRISES = 1000
WHATIF_METRICS = COMPARE_METRICS   # (metric, title) of the fan charts and the table
REFERENCES_KEPT = 4                # reference ensembles an Ensemble keeps in memory
SIGNIFICANT_DIGITS = 6             # of the values current_values reports


@dataclass(frozen=True)
class Control:
    """One setting on the page. ``key`` names it (in ``changes`` and in the ``key_path`` of a
    :class:`ScenarioError` about it); ``paths`` are the scenario key paths it writes (see the
    module docstring for how); ``kind`` is "number" (``low``..``high`` by ``step``) or "choice"
    (one of ``choices``; :func:`controls_for` fills the scenario's vendors and quarters)."""

    key: str
    label: str
    unit: str
    kind: str
    help: str
    paths: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()


RATE_UNIT = "change a year (-0.30: 30% lower each year)"

CONTROLS: tuple[Control, ...] = (
    Control("signals.benchmark_gap.2027Q4", "Benchmark gap after 2025 (MMLU points)",
            "MMLU points, best closed minus best open", "number",
            "The gap reached by 2027Q4 and held after it (0.9 at the end of 2025; the "
            "gap-reopens scenario has 8).", ("signals.benchmark_gap",), 0.0, 20.0, 0.1),
    Control("signals.tooling_maturity.upper", "Open tooling maturity: ceiling",
            "index 0..1", "number",
            "Where open fine-tuning and deployment tooling levels off after 2025 (it stands "
            "about 0.42 at the end of 2025); replaces the scenario's own tooling path after 2025.",
            ("signals.tooling_maturity.after",), 0.3, 1.0, 0.01),
    Control("signals.tooling_maturity.midpoint", "Open tooling maturity: half-way quarter",
            "quarter", "choice",
            "When tooling is half-way to its ceiling: earlier means self-hosting gets easier "
            "sooner; replaces the scenario's own tooling path after 2025.",
            ("signals.tooling_maturity.after",),
            choices=tuple(quarter_range("2025Q1", "2032Q4"))),
    Control("signals.closed_price_index.annual_rate", "Closed API prices after 2025",
            RATE_UNIT, "number",
            "Yearly change of closed API prices per token from 2026 (the baseline: -0.30).",
            ("signals.closed_price_index.after",), -0.9, 0.5, 0.01),
    Control("signals.hardware_cost_index.annual_rate", "Inference hardware cost after 2025",
            RATE_UNIT, "number",
            "Yearly change of the hardware cost of self-hosting from 2026 (the baseline: -0.30).",
            ("signals.hardware_cost_index.after",), -0.9, 0.5, 0.01),
    Control("signals.regulatory_pressure.eu.2027Q4", "EU regulatory pressure by 2027Q4",
            "index 0..1", "number",
            "Data-sovereignty pressure in the EU when the AI Act's high-risk duties apply; "
            "regulated sectors feel it fully on closed APIs.",
            ("signals.regulatory_pressure.eu",), 0.0, 1.0, 0.01),
    Control("vendor_shock.vendor", "Vendor shock: vendor", "", "choice",
            "The closed vendor hit by one extra event; 'none' for no shock.",
            ("scheduled_events",), choices=(NO_SHOCK,)),
    Control("vendor_shock.type", "Vendor shock: what happens", "", "choice",
            "A price change, a model deprecation, a policy change or a withdrawal of access.",
            ("scheduled_events",), choices=EVENT_TYPES),
    Control("vendor_shock.quarter", "Vendor shock: when", "quarter", "choice",
            "The quarter the event happens.", ("scheduled_events",),
            choices=tuple(quarter_range(REVISION_QUARTER, "2030Q4"))),
    Control("vendor_shock.price_multiplier", "Vendor shock: new price (price changes only)",
            "times the price before", "number",
            "1.8 is an 80% price rise, 0.5 a halving.", ("scheduled_events",), 0.2, 5.0, 0.05),
    Control("vendor_shock.region", "Vendor shock: where", "", "choice",
            "The customers it reaches: everywhere or one region.", ("scheduled_events",),
            choices=("all", *REGIONS)),
    Control("behaviour.review_rate", "Review rate", "share of enterprises a quarter", "number",
            "How often enterprises review their stack; set here, it no longer varies with the "
            "calibration's draws.", ("behaviour.review_rate",), 0.0, 1.0, 0.01),
    Control("behaviour.switching_cost", "Switching cost", "utility units", "number",
            "The cost of leaving a stack (re-platforming inertia); set here, it no longer "
            "varies with the calibration's draws.", ("behaviour.switching_cost",), 0.0, 150.0, 1.0),
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


# --- reading and writing the controls ---------------------------------------------------------

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


@dataclass(frozen=True)
class _Setting:
    """Controls read and written together: ``read`` gives their values in a scenario (None
    where the scenario cannot express them), ``write`` the scenario keys (a nested mapping) that
    give them ``values``."""

    keys: tuple[str, ...]
    read: Callable[[Scenario], dict[str, Any]]
    write: Callable[[Scenario, dict[str, Any]], dict]


def _level(key: str, names: tuple[str, ...]) -> _Setting:
    """A signal's level at 2027Q4: the point of the path running then, or a revision from
    2026Q1 to it when that path is not dated points. When the signal's own points have none
    from 2025Q4 up to 2027Q4, its 2025Q4 value is written as a point too, so the history before
    it keeps its values."""
    def read(scenario):
        return {key: _value(_signal(scenario, names), TARGET_QUARTER)}

    def write(scenario, values):
        signal = _signal(scenario, names)
        keys, governing = _governing(signal, TARGET_QUARTER)
        if governing.points is not None:
            points = {TARGET_QUARTER: values[key]}
            if not keys and not any(
                    parse_quarter(HISTORY_END) <= parse_quarter(q) < parse_quarter(TARGET_QUARTER)
                    for q in governing.points):
                points = {HISTORY_END: _value(signal, HISTORY_END), **points}
            return _nest(("signals", *names, *keys, "points"), points)
        return _nest(("signals", *names, "after"),
                     _revision(signal, {"points": {TARGET_QUARTER: values[key]}}))

    return _Setting((key,), read, write)


def _rate(key: str, name: str) -> _Setting:
    """A signal's average yearly change from 2025Q4 to the horizon's end; written as an
    exponential trend from its 2025Q4 value."""
    def read(scenario):
        signal = _signal(scenario, (name,))
        years = (parse_quarter(scenario.horizon.end) - parse_quarter(HISTORY_END)) / 4
        if years <= 0:
            return {key: None}
        ratio = _value(signal, scenario.horizon.end) / _value(signal, HISTORY_END)
        return {key: ratio ** (1 / years) - 1}

    def write(scenario, values):
        signal = _signal(scenario, (name,))
        trend = {"start": HISTORY_END, "start_value": _value(signal, HISTORY_END),
                 "annual_rate": values[key], "form": "exponential"}
        return _nest(("signals", name, "after"), _revision(signal, {"trend": trend}))

    return _Setting((key,), read, write)


def _tooling_curve(scenario: Scenario) -> Logistic | None:
    """The logistic curve tooling follows after 2025: a revision's, else the signal's own."""
    signal = scenario.signals.tooling_maturity
    return _governing(signal, REVISION_QUARTER)[1].logistic or signal.logistic


def _tooling() -> _Setting:
    """Tooling maturity's ceiling and half-way quarter: a logistic revision from 2026Q1 whose
    lower asymptote is chosen so that the curve passes through the 2025Q4 value."""
    upper, midpoint = "signals.tooling_maturity.upper", "signals.tooling_maturity.midpoint"

    def read(scenario):
        curve = _tooling_curve(scenario)
        return {upper: curve and curve.upper, midpoint: curve and curve.midpoint}

    def write(scenario, values):
        curve = _tooling_curve(scenario)
        signal = scenario.signals.tooling_maturity
        # share of the way from lower to upper that a curve with this midpoint has gone at 2025Q4
        gone = _value(Signal(logistic=Logistic(lower=0.0, upper=1.0, midpoint=values[midpoint],
                                               steepness=curve.steepness)), HISTORY_END)
        if gone > 0.99:
            raise ScenarioError(f"a curve half-way by {values[midpoint]} is already past 99% of "
                                f"its rise at {HISTORY_END}; choose a later quarter",
                                key_path=midpoint)
        start = _value(signal, HISTORY_END)
        lower = (start - values[upper] * gone) / (1.0 - gone)
        logistic = {"lower": lower, "upper": values[upper], "midpoint": values[midpoint],
                    "steepness": curve.steepness}
        return _nest(("signals", "tooling_maturity", "after"),
                     _revision(signal, {"logistic": logistic}))

    return _Setting((upper, midpoint), read, write)


def _vendor_shock() -> _Setting:
    """One more scheduled vendor event. Lists replace rather than merge, so the scenario's own
    scheduled events are written again before it."""
    def read(scenario):
        return dict(SHOCK_DEFAULTS)

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

    return _Setting(tuple(SHOCK_DEFAULTS), read, write)


def _behaviour(key: str) -> _Setting:
    return _Setting((key,), lambda scenario: {key: value_at(scenario, key)},
                    lambda scenario, values: _nest(tuple(key.split(".")), values[key]))


SETTINGS: tuple[_Setting, ...] = (
    _level("signals.benchmark_gap.2027Q4", ("benchmark_gap",)),
    _tooling(),
    _rate("signals.closed_price_index.annual_rate", "closed_price_index"),
    _rate("signals.hardware_cost_index.annual_rate", "hardware_cost_index"),
    _level("signals.regulatory_pressure.eu.2027Q4", ("regulatory_pressure", "eu")),
    _vendor_shock(),
    _behaviour("behaviour.review_rate"),
    _behaviour("behaviour.switching_cost"),
)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return value


def current_values(scenario: Scenario) -> dict[str, Any]:
    """Each control's value in a resolved scenario (numbers to 6 significant digits; None
    where the scenario cannot express the control, e.g. a tooling path that is no logistic
    curve). The vendor shock reads "none": it adds an event to those the scenario has."""
    values = {}
    for setting in SETTINGS:
        values.update(setting.read(scenario))
    return {control.key: _rounded(values[control.key]) for control in CONTROLS}


# --- changes as scenario keys -----------------------------------------------------------------

def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def effective_changes(scenario: Scenario, changes: dict[str, Any],
                      source: str | Path | None = None) -> dict[str, Any]:
    """``changes`` checked against the controls (known key, a number within its range or one of
    its choices) with those equal to the scenario's current value left out; a bad one raises a
    :class:`ScenarioError` whose ``key_path`` is the control's key."""
    controls = {control.key: control for control in controls_for(scenario)}
    current = current_values(scenario)
    file = None if source is None else str(source)
    kept = {}
    for key, value in changes.items():
        control = controls.get(key)
        if control is None:
            raise ScenarioError(f"unknown control; controls: {', '.join(controls)}", file=file,
                                key_path=key)
        if _same(value, current[key]):
            continue
        if current[key] is None:
            raise ScenarioError("this scenario's path cannot be set by this control; edit the "
                                "scenario file instead", file=file, key_path=key)
        if control.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not control.low <= value <= control.high:
                raise ScenarioError(f"{control.label}: give a number from {control.low:g} to "
                                    f"{control.high:g} ({control.unit}), not {value!r:.40}",
                                    file=file, key_path=key)
            value = float(value)
        elif value not in control.choices:
            raise ScenarioError(f"{control.label}: choose one of {', '.join(control.choices)}, "
                                f"not {value!r:.40}", file=file, key_path=key)
        kept[key] = value
    return kept


def _fragment(scenario: Scenario, changes: dict[str, Any]) -> dict:
    """The scenario keys (a nested mapping) that make ``changes`` to ``scenario``."""
    current = current_values(scenario)
    fragment: dict = {}
    for setting in SETTINGS:
        if any(key in changes for key in setting.keys):
            values = {key: changes.get(key, current[key]) for key in setting.keys}
            _merge(fragment, setting.write(scenario, values))
    return fragment


def _merge(into: dict, fragment: dict) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _leaves(fragment: dict, base: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """``(dotted key path, value)`` pairs: the ``--set`` overrides that change ``base`` (the
    scenario as a mapping) as a file holding ``fragment`` merged over it would (a mapping merges
    into a mapping key by key; anything else replaces what is there)."""
    found = []
    for key, value in fragment.items():
        below = base.get(key) if isinstance(base, dict) else None
        if isinstance(value, dict) and value and isinstance(below, dict):
            found += _leaves(value, below, prefix + (str(key),))
        else:
            found.append((".".join(prefix + (str(key),)), value))
    return found


def _yaml_value(value: Any) -> str:
    """``value`` as one line of YAML (what a ``--set`` override holds after its ``=``)."""
    return yaml.safe_dump([value], default_flow_style=True, width=10**9).strip()[1:-1]


def default_name(reference: Scenario) -> str:
    """The changed scenario's name: the reference's with ``-whatif``."""
    return f"{reference.name[:90]}-whatif"


def describe(reference: Scenario, changes: dict[str, Any]) -> str:
    """The changes in words, as the saved scenario's description."""
    current = current_values(reference)
    parts = [f"{CONTROLS_BY_KEY[key].label} = {value} (was {current[key]})"
             for key, value in changes.items()]
    return (f"What if, from {reference.name}: " + "; ".join(parts) + "."
            if parts else f"{reference.name}, unchanged.")


def _document(reference: Scenario, changes: dict[str, Any], name: str | None) -> dict:
    """What the changed scenario sets over the reference: name, description and the keys."""
    return {"name": name or default_name(reference),
            "description": describe(reference, changes), **_fragment(reference, changes)}


def _control_of(error: ScenarioError, changes: dict[str, Any]) -> str:
    """The changed control whose scenario keys the error is about (the first changed one when
    none is named)."""
    path = tuple((error.key_path or "").split("."))
    for key in changes:
        for written in CONTROLS_BY_KEY[key].paths:
            keys = tuple(written.split("."))
            if path[:len(keys)] == keys or keys[:len(path)] == path:
                return key
    return next(iter(changes), error.key_path)


def _changed(reference: Scenario, checked: dict[str, Any], name: str | None,
             settings: list[str], source: str | Path) -> Scenario:
    """The resolved ``reference`` (loaded from ``source``) with the checked changes
    (:func:`effective_changes`) and ``settings`` (more ``--set`` overrides) applied as
    ``--set`` overrides: a parameter of the posterior draws that they set is pinned, as by a
    file that extends the source."""
    try:
        document = _document(reference, checked, name)
        overrides = [f"{path}={_yaml_value(value)}"
                     for path, value in _leaves(document, reference.model_dump())]
        return load_scenario(reference, overrides + settings)
    except ScenarioError as error:
        key = _control_of(error, checked)
        where = f"{error.key_path}: " if error.key_path and error.key_path != key else ""
        raise ScenarioError(f"{where}{error.message}", file=str(source), key_path=key,
                            others=error.others) from None


def apply_changes(source: str | Path, changes: dict[str, Any], *,
                  name: str | None = None) -> Scenario:
    """The scenario file ``source`` with the controls' ``changes`` applied (as ``--set``
    overrides, validated like the command line's), named ``name`` (default: the source's name
    with ``-whatif``). A bad value raises :class:`ScenarioError` with the control's key as
    ``key_path``. Changes equal to the current values are no changes."""
    reference = resolve(source)
    return _changed(reference, effective_changes(reference, changes, source), name, [], source)


def saved_yaml(source: str | Path, changes: dict[str, Any], root: str | Path, *,
               replications: int, enterprises: int, name: str | None = None) -> str:
    """A scenario file that reproduces the page: it ``extends`` ``source`` and holds only the
    changed keys, a name and description, and the page's seed, replications and population
    size, so ``adoptsim run`` on it gives the page's figures (same size, same seeds).

    It is meant for ``root/scenarios/explore/`` (:func:`sim.explorer.files.save_scenario`
    writes it there): ``extends`` is relative to that folder, as a scenario file's is to itself.
    A changed scheduled event list holds the scenario's own events too (lists replace)."""
    reference = resolve(source)
    checked = effective_changes(reference, changes, source)
    enterprises = min(enterprises, reference.population.enterprises)
    folder = safe_path(root, Path(*SAVED_FOLDER))
    document = {"extends": Path(os.path.relpath(Path(source).resolve(), folder)).as_posix(),
                **_document(reference, checked, name), "seed": reference.seed,
                "replications": replications}
    _merge(document, {"population": {"enterprises": enterprises}})
    header = (f"# Saved by the adoptsim explorer: {reference.name} with {len(checked)} change(s),\n"
              f"# at the page's size ({replications} replications of {enterprises:,} enterprises)"
              f" and seed.\n# Keep it in {'/'.join(SAVED_FOLDER)}/ (extends is relative to that "
              "folder); `adoptsim run FILE`\n# gives the page's figures.\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def scenario_choices(root: str | Path) -> list[Path]:
    """The scenarios the page offers: ``scenarios/baseline.yaml``, then the watch library
    (``scenarios/watch/``), then every other ``*.yaml`` under ``scenarios/`` that loads as a
    scenario (not targets, sweep specs or fragments such as ``calibrated.yaml``); each inside
    the project's ``scenarios/`` (:func:`sim.explorer.files.safe_path`)."""
    folder = safe_path(root, "scenarios")
    first = [folder / "baseline.yaml", *sorted((folder / "watch").glob("*.yaml"))]
    rest = sorted(set(folder.rglob("*.yaml")) - set(first))
    chosen = []
    for path in [*first, *rest]:
        try:
            safe_path(root, Path("scenarios", path.relative_to(folder)))
            if path.name.startswith(".") or not path.is_file():
                continue
            load_scenario(path)
        except (ScenarioError, ValueError):
            continue
        chosen.append(path)
    return chosen


# --- running ------------------------------------------------------------------------------------

class Cancelled(Exception):
    """The run was cancelled (a newer change superseded it)."""


@dataclass
class WhatIf:
    """A changed scenario run paired with its reference (same seeds and posterior draws).

    ``table``: per metric of :data:`WHATIF_METRICS` at the horizon's end, the changed scenario's
    mean and 5-95% range and its paired difference from the reference with the 90% confidence
    interval (:func:`sim.running.compare.comparison_table`), and the metric's ``title``.
    ``smaller_population``: the ensemble ran fewer enterprises than the scenario has
    (``full_enterprises``)."""

    reference: Scenario
    scenario: Scenario
    changes: dict[str, Any]
    reference_frame: pd.DataFrame
    frame: pd.DataFrame
    table: pd.DataFrame
    smaller_population: bool
    full_enterprises: int
    seconds: float

    @property
    def frames(self) -> pd.DataFrame:
        """Both tidy frames, the reference first (for fan charts)."""
        return pd.concat([self.reference_frame, self.frame], ignore_index=True)


class Ensemble:
    """Runs what-ifs, keeping the last few reference ensembles (by the hash of the resolved
    reference at the page's size, which covers every file it extends) so that a redraw runs the
    changed scenario only. Replications run in this process unless ``workers`` says otherwise:
    at the page's size a process pool costs more to start than it saves (``adoptsim bench``)."""

    def __init__(self, *, workers: int | None = None, kept: int = REFERENCES_KEPT):
        self.workers = workers or 1
        self.kept = kept
        self._references: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, source: str | Path, changes: dict[str, Any], *,
            replications: int = DEFAULT_REPLICATIONS, enterprises: int = DEFAULT_ENTERPRISES,
            cancelled: Callable[[], bool] | None = None,
            progress: Callable[[int, int], None] | None = None) -> WhatIf:
        """Run ``source`` (unless cached) and ``source`` with ``changes``, ``replications``
        each of ``enterprises`` enterprises (at most the scenario's own), with the same seeds
        and posterior draws. ``progress(done, total)`` follows the replications;
        ``cancelled()``, asked before each scenario and after each replication, stops the run
        with :class:`Cancelled`. Bad changes raise :class:`ScenarioError` before anything
        runs."""
        started = time.perf_counter()
        full = resolve(source)
        size = [f"population.enterprises={min(enterprises, full.population.enterprises)}"]
        reference = resolve(full, replications=replications, overrides=size)
        checked = effective_changes(full, changes, source)
        changed = _changed(full, checked, None, size + [f"replications={replications}"], source)
        changed = compare.aligned([changed], reference)[0]
        digest = scenario_hash(reference)
        with self._lock:
            reference_frame = self._references.get(digest)
        total = replications * (1 if reference_frame is not None else 2)
        if reference_frame is None:
            reference_frame = self._run(reference, 0, total, cancelled, progress)
            with self._lock:
                self._references[digest] = reference_frame
                while len(self._references) > self.kept:
                    self._references.popitem(last=False)
        frame = self._run(changed, total - replications, total, cancelled, progress)
        metrics = [metric for metric, _ in WHATIF_METRICS]
        rows = [f[f["metric"].isin(metrics) & (f["quarter"] == reference.horizon.end)]
                for f in (reference_frame, frame)]
        table = compare.comparison_table(pd.concat(rows, ignore_index=True), reference.name,
                                         metrics, [reference.horizon.end])
        titles = dict(WHATIF_METRICS)
        table = (table[table["scenario"] == changed.name]
                 .assign(title=lambda rows: rows["metric"].map(titles))
                 .reset_index(drop=True))
        return WhatIf(reference=reference, scenario=changed,
                      changes=checked, reference_frame=reference_frame,
                      frame=frame, table=table,
                      smaller_population=reference.population.enterprises
                      < full.population.enterprises,
                      full_enterprises=full.population.enterprises,
                      seconds=time.perf_counter() - started)

    def _run(self, scenario: Scenario, done_before: int, total: int,
             cancelled: Callable[[], bool] | None,
             progress: Callable[[int, int], None] | None) -> pd.DataFrame:
        def finished(done: int) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled(f"cancelled after {done_before + done} of {total} replications")
            if progress is not None:
                progress(done_before + done, total)

        finished(0)
        return run_scenario(scenario, workers=self.workers, out=None, plots=False,
                            progress=finished).frame


_SHARED = Ensemble()


def run_whatif(source: str | Path, changes: dict[str, Any], *,
               replications: int = DEFAULT_REPLICATIONS, enterprises: int = DEFAULT_ENTERPRISES,
               workers: int | None = None, cancelled: Callable[[], bool] | None = None,
               progress: Callable[[int, int], None] | None = None) -> WhatIf:
    """:meth:`Ensemble.run` on an ensemble shared by the process (one per ``workers``)."""
    ensemble = _SHARED if (workers or 1) == _SHARED.workers else Ensemble(workers=workers)
    return ensemble.run(source, changes, replications=replications, enterprises=enterprises,
                        cancelled=cancelled, progress=progress)


# --- the full-size run ----------------------------------------------------------------------------

class FullRun:
    """A full-size run in a background thread (:func:`start_full_run`). ``done`` once it has
    finished; then ``folder`` is the run folder and ``report`` its report.html, or ``error``
    says what went wrong."""

    def __init__(self, scenario: Scenario, out: Path, workers: int | None, plots: bool):
        self.scenario = scenario
        self.folder: Path | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(out, workers, plots),
                                        daemon=True, name=f"adoptsim-run-{scenario.name}")
        self._thread.start()

    def _run(self, out: Path, workers: int | None, plots: bool) -> None:
        try:
            self.folder = run_scenario(self.scenario, workers=workers, out=out,
                                       plots=plots).folder
        except Exception as error:  # noqa: BLE001 - reported to the page, not raised in a thread
            self.error = str(error) or type(error).__name__

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @property
    def report(self) -> Path | None:
        return None if self.folder is None else self.folder / "report.html"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: until it ends); whether it has finished."""
        self._thread.join(timeout)
        return self.done


def start_full_run(scenario: Scenario | str | Path, out: str | Path, *,
                   workers: int | None = 1, plots: bool = True) -> FullRun:
    """Start ``run_scenario(scenario, out=out)`` in a background thread, at the scenario's own
    size and replications (for the page: ``apply_changes(source, changes)``, or a saved file),
    writing its run folder and report under ``out``. The scenario and the output folder are
    checked first, so a bad one raises here. ``workers`` defaults to 1, in this process (a
    pool forked from a threaded web server is not safe); ``plots`` as for ``run_scenario``
    (without them the report has no figures)."""
    from sim.running import storage

    resolved = resolve(scenario)
    storage.output_folder(out, resolved.name)
    return FullRun(resolved, Path(out), workers, plots)
