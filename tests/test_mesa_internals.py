"""The Mesa internals the model relies on (sim.core.mesa_internals): each test fails if a Mesa
release stops providing a private thing the module uses or changes what it means, so an upgrade
past the pinned minor version is caught here rather than by a subtly different model."""

from __future__ import annotations

import gc
import weakref

import mesa
from mesa.agent import AgentSet

from sim.core.agents import Enterprise
from sim.core.mesa_internals import create_agents
from sim.core.model import AdoptionModel


class Indexed(mesa.Agent):
    """A plain Mesa agent made as the model makes its enterprises: ``Indexed(model, index)``."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index


def test_agent_ids_come_from_the_weak_counters(small_baseline):
    """``forget_finished_models`` shadows Mesa's private ``Agent._ids`` (a plain dict of
    per-model counters that keeps every model alive) with weak counters: Mesa's
    ``Agent.__init__`` must draw ``unique_id`` from it, and a finished model must be freed."""
    assert isinstance(vars(mesa.Agent).get("_ids"), dict), "Mesa no longer keeps Agent._ids"
    model = AdoptionModel(small_baseline, seed=6)
    assert sorted(agent.unique_id for agent in model.agents) == list(
        range(1, model.population.enterprises + 1))
    assert model in Enterprise._ids and model not in mesa.Agent._ids
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None, "the agent id counters keep a finished model alive"


def _footprint(value):
    return len(value) if hasattr(value, "__len__") else id(value)


def test_bulk_registration_fills_what_mesa_register_agent_fills(small_baseline):
    """``create_agents`` writes Mesa's private registries: Mesa's own ``register_agent`` must
    fill exactly those three, behind the public ``agents`` and ``agents_by_type``, and the bulk
    path must leave a model as registering each agent leaves it."""
    plain = mesa.Model(rng=1)
    before = {name: _footprint(value) for name, value in vars(plain).items()}
    agent = mesa.Agent(plain)
    changed = {name for name, value in vars(plain).items() if _footprint(value) != before.get(name)}
    assert changed == {"_agents", "_agents_by_type", "_all_agents"}
    assert plain._agents == {agent: None}
    assert plain.agents is plain._all_agents and plain.agents_by_type is plain._agents_by_type
    assert list(plain.agents) == [agent] and list(plain.agents_by_type[mesa.Agent]) == [agent]

    one_by_one, bulk = mesa.Model(rng=1), mesa.Model(rng=1)
    each = [Indexed(one_by_one, index) for index in range(5)]
    made = create_agents(bulk, Indexed, 5)
    for model, agents in ((one_by_one, each), (bulk, made)):
        assert list(model._agents) == list(model.agents) == agents
        assert list(model.agents_by_type) == [Indexed]
        assert list(model.agents_by_type[Indexed]) == agents
        assert isinstance(model.agents, AgentSet)
    assert [(agent.unique_id, agent.index) for agent in made] == [
        (agent.unique_id, agent.index) for agent in each]
    assert vars(bulk).keys() == vars(one_by_one).keys()
    more = create_agents(bulk, Indexed, 2)          # a second batch joins the first
    assert list(bulk.agents) == list(bulk.agents_by_type[Indexed]) == made + more

    model = AdoptionModel(small_baseline, seed=6)
    everyone = list(model.agents)
    assert len(everyone) == model.population.enterprises
    assert list(model._agents) == everyone == list(model.agents_by_type[Enterprise])
    assert [agent.index for agent in everyone] == list(range(len(everyone)))


def test_bulk_registration_bypasses_register_agent(monkeypatch):
    """``create_agents`` collects the agents by shadowing ``register_agent`` on the model
    instance: Mesa's ``Agent.__init__`` must call it through the instance, so Mesa's own
    ``Model.register_agent`` never runs, and the shadow is gone afterwards."""
    def register_agent(self, agent):
        raise AssertionError("Model.register_agent ran: the bulk registration is bypassed")

    monkeypatch.setattr(mesa.Model, "register_agent", register_agent)
    model = mesa.Model(rng=1)
    made = create_agents(model, Indexed, 4)
    assert [agent.index for agent in model.agents] == [0, 1, 2, 3] == [
        agent.index for agent in made]
    assert "register_agent" not in vars(model)
