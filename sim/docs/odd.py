"""The generated parts of the ODD model description (``docs/model.md``): the quarter's schedule,
read from :data:`sim.core.model.STEP_ORDER` and :meth:`sim.core.model.AdoptionModel.step`'s
docstring; the parameter tables, read from the schema (units, ranges, meanings) and from the
baseline scenario the project ships (values, ``source`` and ``confidence``, and for calibrated
parameters the prior and the posterior's 90% interval); the input data, every signal's baseline
path and its source; and the panel of observations the model is fitted to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from sim.core.model import STEP_ORDER, AdoptionModel
from sim.core.schema import Provenance, Scenario, Signal
from sim.core.signal_table import SIGNALS
from sim.docs.keys import Key, scenario_keys
from sim.docs.tables import code, table

_STEP = re.compile(r"^\s*- (\w+): (.*?)(?=^\s*- \w+: |\n\s*\n|\Z)", re.MULTILINE | re.DOTALL)


def steps() -> list[tuple[str, str]]:
    """(name, what it does) of each step of a quarter, from ``AdoptionModel.step``'s docstring;
    a ValueError if the docstring and :data:`STEP_ORDER` disagree."""
    described = [(name, " ".join(text.split())) for name, text in
                 _STEP.findall(AdoptionModel.step.__doc__)]
    if tuple(name for name, _ in described) != STEP_ORDER:
        raise ValueError(f"AdoptionModel.step's docstring describes "
                         f"{[name for name, _ in described]}, STEP_ORDER is {list(STEP_ORDER)}")
    return described


def schedule() -> str:
    """The quarter's steps as a numbered list, then what the docstring says after them."""
    doc = AdoptionModel.step.__doc__
    closing = " ".join(doc.strip().split("\n\n")[-1].split())
    lines = [f"{number}. **{name}**: {text}" for number, (name, text) in
             enumerate(steps(), start=1)]
    return "\n".join(lines) + "\n\n" + closing


# --- parameter tables -------------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """The shipped baseline scenario, and its calibration's priors."""

    scenario: Scenario
    priors: dict[str, tuple[float, float]]

    def calibrated(self, path: str) -> str:
        """How the calibration set ``path`` and the keys under it, or "" if it did not."""
        posterior = self.scenario.posterior
        if posterior is None:
            return ""
        notes = []
        for index, name in enumerate(posterior.parameters):
            if name != path and not name.startswith(f"{path}."):
                continue
            low, high = np.percentile(np.asarray(posterior.draws)[:, index], [5, 95])
            prior = self.priors.get(name)
            within = f"; prior [{prior[0]:g}, {prior[1]:g}]" if prior else ""
            notes.append(f"{name.removeprefix(path).lstrip('.')} calibrated: posterior median, "
                         f"90% of draws in [{low:.3g}, {high:.3g}]{within}".lstrip())
        return "; ".join(notes)


def load_baseline(root: Path) -> Baseline:
    """The project's ``scenarios/baseline.yaml`` and the priors of ``scenarios/targets.yaml``."""
    from sim.calibration import load_targets
    from sim.core.scenario import load_scenario

    targets = load_targets(root / "scenarios" / "targets.yaml")
    priors = {name: (prior.low, prior.high)
              for name, prior in targets.calibration.parameters.items()}
    return Baseline(load_scenario(root / "scenarios" / "baseline.yaml"), priors)


_KEY_BY_PATH = {key.path: key for key in scenario_keys()}


def _key(path: str) -> Key:
    """The documented key of a concrete path (``population.sizes.small.share`` is
    ``population.sizes.<size>.share``)."""
    return next(key for key in _KEY_BY_PATH.values() if key.matches(path))


def _show(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{name}: {_show(item)}" for name, item in value.items())
    return "" if value is None else str(value)


def _leaves(model: BaseModel, prefix: str) -> list[tuple[str, object]]:
    """(path, value) of a block's settings, nested blocks included, mappings of blocks not."""
    found = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in ("source", "confidence") and isinstance(model, Provenance):
            continue
        if isinstance(value, BaseModel):
            found += _leaves(value, f"{prefix}{name}.")
        elif not (isinstance(value, dict) and value
                  and isinstance(next(iter(value.values())), BaseModel)):
            found.append((f"{prefix}{name}", value))
    return found


def _provenance(model: BaseModel, parts: list[str] = ()) -> tuple[str, str]:
    """(source, confidence) of the innermost block on the way down ``parts`` that has them."""
    found = ("", "")
    for part in ["", *parts]:
        model = getattr(model, part) if part else model
        if isinstance(model, Provenance) and (model.source or model.confidence):
            found = (model.source or "", model.confidence or "")
    return found


def block_table(baseline: Baseline, block: str) -> str:
    """One row per setting of a block of the baseline (``economics``, ``behaviour``,
    ``population``...): its value, unit, range, meaning, source and confidence."""
    model = getattr(baseline.scenario, block)
    rows = []
    for path, value in _leaves(model, f"{block}."):
        key = _key(path)
        source, confidence = _provenance(model, path.split(".")[1:-1])
        calibrated = baseline.calibrated(path)
        rows.append((code(path), _show(value), key.unit, key.allowed, key.description,
                     calibrated or source, "posterior" if calibrated else confidence))
    return table(["key", "baseline", "unit", "allowed", "meaning", "source", "confidence"], rows)


def entries_table(baseline: Baseline, path: str) -> str:
    """A mapping of blocks (``population.sectors``, ``vendors``...) as one row per entry and
    one column per setting, with each entry's source and confidence."""
    mapping = baseline.scenario
    for part in path.split("."):
        mapping = getattr(mapping, part)
    names = list(mapping)
    columns = [leaf for leaf, _ in _leaves(mapping[names[0]], "")]
    header = [f"{path.split('.')[-1]}"]
    for column in columns:
        key = _key(f"{path}.{names[0]}.{column}")
        header.append(f"{column} ({key.unit})" if key.unit else column)
    rows = []
    for name in names:
        values = dict(_leaves(mapping[name], ""))
        notes = [baseline.calibrated(f"{path}.{name}.{column}") for column in columns]
        source, confidence = _provenance(mapping[name])
        source = "; ".join(filter(None, [source, *(f"{column}: {note}" for column, note in
                                                   zip(columns, notes) if note)]))
        rows.append((code(name), *(_show(values[column]) for column in columns), source,
                     confidence))
    return table([*header, "source", "confidence"], rows)


# --- input data and the panel -----------------------------------------------------------------

def describe_path(signal: Signal) -> str:
    """A signal's path in words: its form and numbers, its continuation and revision."""
    if signal.points is not None:
        text = "points " + ", ".join(f"{quarter}: {value:g}"
                                     for quarter, value in signal.points.items())
        if signal.extend is not None:
            text += (f"; then {signal.extend.annual_rate:+g} a year "
                     f"({signal.extend.form})")
    elif signal.trend is not None:
        trend = signal.trend
        text = (f"trend from {trend.start_value:g} at {trend.start}, {trend.annual_rate:+g} a "
                f"year ({trend.form})")
    else:
        curve = signal.logistic
        text = (f"logistic from {curve.lower:g} to {curve.upper:g}, half-way at "
                f"{curve.midpoint}, steepness {curve.steepness:g} a year")
    if signal.noise is not None:
        text += f"; {signal.noise.form} noise, sd {signal.noise.sd:g}"
    if signal.after is not None:
        text += f"; from {signal.after.quarter}: {describe_path(signal.after.path)}"
    return text


def input_data(baseline: Baseline) -> str:
    """Every signal's baseline path, unit, source and confidence."""
    rows = []
    for spec in SIGNALS:
        given = getattr(baseline.scenario.signals, spec.name)
        paths = given.items() if spec.regional else [("", given)]
        for region, signal in paths:
            name = f"{spec.name}.{region}" if region else spec.name
            calibrated = baseline.calibrated(f"signals.{name}")
            rows.append((code(name), spec.unit, describe_path(signal),
                         "; ".join(filter(None, [signal.source, calibrated])),
                         signal.confidence or ""))
    return table(["signal", "unit", "baseline path", "source", "confidence"], rows)


def panel(root: Path) -> str:
    """The observations the calibration fits (``scenarios/targets.yaml``)."""
    from sim.calibration import load_targets

    targets = load_targets(root / "scenarios" / "targets.yaml")
    rows = []
    for target in targets.targets:
        bound = {"upper_bound": "at most ", "lower_bound": "at least "}.get(target.kind, "")
        segment = "" if target.segment == "all" else f"[{target.segment}]"
        rows.append((target.counts, code(f"{target.metric}{segment}"), target.quarter,
                     f"{bound}{target.value:g} ± {target.tolerance:g}", target.source,
                     target.confidence))
    return table(["what was counted", "metric", "quarter", "observed", "source", "confidence"],
                 rows)


def priors(root: Path) -> str:
    """The calibration's free parameters and their uniform priors (``scenarios/targets.yaml``)."""
    from sim.calibration import load_targets

    parameters = load_targets(root / "scenarios" / "targets.yaml").calibration.parameters
    return table(["free parameter", "unit", "prior (uniform)", "meaning"],
                 [(code(name), _key(name).unit, f"[{prior.low:g}, {prior.high:g}]",
                   _key(name).description) for name, prior in parameters.items()])
