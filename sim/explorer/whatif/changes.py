"""A strategist's changes to a scenario: checked against the controls, written as the scenario
keys their bindings give, and applied to the chosen scenario as ``--set`` overrides.

``changes`` maps control keys (:data:`sim.explorer.whatif.controls.CONTROLS`) to values.
:func:`effective_changes` checks them (a known control, a number within its range or one of its
choices) and leaves out those equal to the scenario's current values; :func:`scenario_keys`
gives the nested scenario keys that make them. :func:`apply_changes` applies them as ``--set``
overrides of the chosen scenario, read and checked exactly as the command line reads them (a
calibrated parameter they set leaves the posterior draws), and the same keys make the YAML file
the page saves (:mod:`sim.explorer.whatif.scenario_files`). The overrides are written so that
they change the scenario exactly as that file, merged over it, does (:func:`_leaves`). A bad
value raises a :class:`~sim.core.settings_file.ScenarioError` whose ``key_path`` is the
control's key, so the page shows it by that control.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from sim.core.scenario import load_scenario
from sim.core.schema import Scenario
from sim.core.settings_file import ScenarioError
from sim.explorer.whatif.controls import CONTROLS, CONTROLS_BY_KEY, controls_for, current_values
from sim.workflows import resolve


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


def scenario_keys(scenario: Scenario, changes: dict[str, Any]) -> dict:
    """The scenario keys (a nested mapping) that make ``changes`` to ``scenario``: each binding
    a changed control has writes every control it binds, the unchanged ones at their current
    values."""
    current = current_values(scenario)
    keys: dict = {}
    for binding in dict.fromkeys(control.binding for control in CONTROLS
                                 if control.key in changes):
        values = {control.key: changes.get(control.key, current[control.key])
                  for control in CONTROLS if control.binding is binding}
        merge_keys(keys, binding.write(scenario, values))
    return keys


def merge_keys(into: dict, keys: dict) -> None:
    """Merge nested scenario keys into ``into`` in place, as files merge (mapping by mapping)."""
    for key, value in keys.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_keys(into[key], value)
        else:
            into[key] = value


def _leaves(keys: dict, base: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """``(dotted key path, value)`` pairs: the ``--set`` overrides that change ``base`` (the
    scenario as a mapping) as a file holding ``keys`` merged over it would (a mapping merges
    into a mapping key by key; anything else replaces what is there)."""
    found = []
    for key, value in keys.items():
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


def changed_document(reference: Scenario, changes: dict[str, Any], name: str | None) -> dict:
    """What the changed scenario sets over the reference: name, description and the keys."""
    return {"name": name or default_name(reference),
            "description": describe(reference, changes), **scenario_keys(reference, changes)}


def _control_of(error: ScenarioError, changes: dict[str, Any]) -> str:
    """The changed control whose scenario keys the error is about (the first changed one when
    none is named)."""
    path = tuple((error.key_path or "").split("."))
    for key in changes:
        for written in CONTROLS_BY_KEY[key].binding.paths:
            keys = tuple(written.split("."))
            if path[:len(keys)] == keys or keys[:len(path)] == path:
                return key
    return next(iter(changes), error.key_path)


def changed_scenario(reference: Scenario, checked: dict[str, Any], name: str | None,
                     settings: list[str], source: str | Path) -> Scenario:
    """The resolved ``reference`` (loaded from ``source``) with the checked changes
    (:func:`effective_changes`) and ``settings`` (more ``--set`` overrides) applied as
    ``--set`` overrides: a parameter of the posterior draws that they set is pinned, as by a
    file that extends the source."""
    try:
        document = changed_document(reference, checked, name)
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
    return changed_scenario(reference, effective_changes(reference, changes, source), name, [],
                            source)
