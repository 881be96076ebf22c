"""Every place where adoptsim relies on Mesa's private internals, and nowhere else.

Mesa offers no public way to do either of these; the model and the agents call the two functions
below and touch nothing private themselves. Each function says which private thing it relies on,
why, and which test in ``tests/test_mesa_internals.py`` fails if a Mesa release changes its
meaning. ``pyproject.toml`` pins Mesa to the minor version they were checked against (3.3).
"""

from __future__ import annotations

import itertools
import weakref
from typing import TypeVar

import mesa
from mesa.agent import AgentSet

AgentClass = TypeVar("AgentClass", bound=type[mesa.Agent])


class _WeakIdCounters(weakref.WeakKeyDictionary):
    """Per-model counters of agent ids (each counting from 1) that forget a model once it is
    gone."""

    def __getitem__(self, model):
        if model not in self:
            self[model] = itertools.count(1)
        return super().__getitem__(model)


def forget_finished_models(agent_class: AgentClass) -> AgentClass:
    """Class decorator: ``agent_class`` draws its agents' ``unique_id`` from per-model counters
    that do not keep a finished model alive.

    Why, a leak: ``Agent.__init__`` draws ``unique_id`` from ``next(self._ids[model])``, and
    Mesa's private class attribute ``Agent._ids`` is a plain ``defaultdict`` keyed by the model,
    so it keeps every model ever built alive, with all its arrays: a replication's worth of
    memory lost per replication in long calibrations and sweeps. The decorator shadows that
    attribute on ``agent_class`` with a weak dictionary.
    Guarded by ``test_agent_ids_come_from_the_weak_counters``.
    """
    agent_class._ids = _WeakIdCounters()
    return agent_class


def create_agents(model: mesa.Model, agent_class: type[mesa.Agent],
                  count: int) -> list[mesa.Agent]:
    """``agent_class(model, index)`` for index 0..count-1, registered with the model as
    ``Model.register_agent`` registers each agent, but in bulk.

    Why, speed: ``Agent.__init__`` calls ``model.register_agent(agent)``, which does one
    weak-reference insert per registry and formats a log message per agent, a noticeable share of
    the set-up of a large population; Mesa has no public bulk registration. While the agents are
    made, an instance attribute shadows ``model.register_agent`` to collect them; then they are
    written into the three private registries that ``register_agent`` fills: ``_agents`` (the
    hard references), ``_agents_by_type`` (an ``AgentSet`` per class, behind the public
    ``agents_by_type``) and ``_all_agents`` (behind the public ``agents``).
    Guarded by ``test_bulk_registration_fills_what_mesa_register_agent_fills`` and
    ``test_bulk_registration_bypasses_register_agent``.
    """
    made: list[mesa.Agent] = []
    model.register_agent = made.append
    try:
        for index in range(count):
            agent_class(model, index)
    finally:
        del model.register_agent
    model._agents.update(dict.fromkeys(made))
    if agent_class in model._agents_by_type:
        for agent in made:
            model._agents_by_type[agent_class].add(agent)
    else:
        model._agents_by_type[agent_class] = AgentSet(made, random=model.random)
    if len(model._all_agents) == 0:
        model._all_agents = AgentSet(made, random=model.random)
    else:
        for agent in made:
            model._all_agents.add(agent)
    return made
