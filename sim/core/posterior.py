"""Parameter uncertainty: running replications on draws from the calibrated posterior.

``adoptsim calibrate`` leaves equally weighted draws of the free behaviour parameters in a CSV
that ``scenarios/calibrated.yaml`` names (:class:`sim.core.schema.Posterior`). Replication ``i``
of a
scenario that carries them runs with draw ``i``, so a run's 90% interval holds both chance (the
replication's seed) and what the data leave open about the parameters, and two scenarios run
with the same seeds use the same draw in the same replication (paired comparisons stay paired).
:func:`point_scenario` drops the draws: every replication then runs at the values written in the
scenario, the posterior median for the calibrated baseline (``--point``).
"""

from __future__ import annotations

from pydantic import BaseModel

from sim.core.schema import Scenario


def point_scenario(scenario: Scenario) -> Scenario:
    """The scenario without parameter draws (returned unchanged when it has none)."""
    if scenario.posterior is None:
        return scenario
    return scenario.model_copy(update={"posterior": None})


def draw_index(scenario: Scenario, replication: int) -> int | None:
    """The posterior draw replication ``replication`` runs with, or None without draws."""
    posterior = scenario.posterior
    if posterior is None or not posterior.parameters:
        return None
    return replication % len(posterior.draws)


def replication_scenario(scenario: Scenario, replication: int) -> Scenario:
    """The scenario replication ``replication`` runs: its posterior draw's values set, the draws
    themselves dropped (a replication runs at one point)."""
    index = draw_index(scenario, replication)
    point = point_scenario(scenario)
    if index is None:
        return point
    for name, value in zip(scenario.posterior.parameters, scenario.posterior.draws[index]):
        point = with_value(point, name.split("."), value)
    return point


def value_at(model, name: str) -> float:
    """The numeric value at a dotted key path of a scenario (``behaviour.switching_cost``)."""
    value = model
    for key in name.split("."):
        value = value[key] if isinstance(value, dict) else getattr(value, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} is not a number")
    return float(value)


def with_value(model, keys: list[str], value: float):
    """A copy of ``model`` with the number at ``keys`` replaced; the rest is shared, and
    unchanged values are not validated again."""
    key, *rest = keys
    if isinstance(model, dict):
        return {**model, key: with_value(model[key], rest, value) if rest else value}
    if isinstance(model, BaseModel):
        current = getattr(model, key)
        return model.model_copy(update={key: with_value(current, rest, value) if rest else value})
    raise TypeError(f"cannot set '{key}' inside a {type(model).__name__}")


def draws_record(scenario: Scenario) -> dict | None:
    """What a manifest records of the draws: the parameters, and each replication's draw."""
    posterior = scenario.posterior
    if posterior is None or not posterior.parameters:
        return None
    indices = [draw_index(scenario, r) for r in range(scenario.replications)]
    return {
        "file": posterior.file,
        "parameters": posterior.parameters,
        "draws": len(posterior.draws),
        "replication_draws": indices,
        "values": [posterior.draws[index] for index in indices],
    }
