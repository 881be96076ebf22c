"""Tests for sim.core.model: kernel-vs-reference equivalence, determinism, state invariants, Mesa
wiring, burn-in and common random numbers."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import fields

import numpy as np
import pytest
from conftest import BASELINE, baseline, no_vendor_hazards

from sim.core import agents, kernel
from sim.core.agents import Enterprise
from sim.core.kernel import (
    CLOSED,
    FINETUNED,
    NOT_DEPLOYED,
    OPEN,
    OPTIONS,
    STACK_CLOSED,
    STACK_HYBRID,
    STACK_OPEN,
)
from sim.core.metric_table import deployment_metric
from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.model import STEP_ORDER, AdoptionModel
from sim.core.scenario import ScenarioError, load_scenario
from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES

EVENTS = ("scheduled_events=["
          "{quarter: 2025Q3, vendor: vendor_b, type: policy_change},"
          "{quarter: 2026Q1, vendor: vendor_a, type: withdrawal, region: eu},"
          "{quarter: 2026Q3, vendor: vendor_c, type: price_change, price_multiplier: 2.5},"
          "{quarter: 2027Q2, vendor: vendor_b, type: deprecation}]")


def value(values: np.ndarray, metric: str, segment: str = "all") -> np.ndarray:
    return values[..., METRIC_INDEX[metric], SEGMENTS.index(segment)]


def run(scenario, seed, engine="vectorized") -> AdoptionModel:
    model = AdoptionModel(scenario, seed=seed, engine=engine)
    model.run()
    return model


# --- (a) the vectorized kernel and the per-agent reference agree ---------------------------------

class CheckedModel(AdoptionModel):
    """The reference engine, with the vectorized kernel deciding on the very same context every
    quarter (the burn-in included): the two decisions must be identical. Records the quarters
    checked and how often each mechanism acted, so the comparison cannot pass vacuously."""

    def __init__(self, scenario, seed):
        self.checked: list[int] = []
        self.acted: Counter = Counter()
        self.cache: kernel.KernelCache | None = None
        super().__init__(scenario, seed=seed, engine="reference")

    def decide(self, context, outlook):
        slow = super().decide(context, outlook)
        if self.cache is None:
            self.cache = kernel.KernelCache(self.population, self.behaviour)
        fast = kernel.decide_quarter(self.population, context, self.behaviour, outlook,
                                     cache=self.cache)
        for field in fields(slow):
            np.testing.assert_array_equal(getattr(fast, field.name), getattr(slow, field.name),
                                          err_msg=f"quarter {self.quarter}: {field.name}")
        self.checked.append(self.quarter)
        self._tally(context, outlook, slow)
        return slow

    def _tally(self, context, outlook, decision) -> None:
        population, b, acted = self.population, self.behaviour, self.acted
        existing = context.stack != NOT_DEPLOYED
        active = context.active
        new = active & (context.deployment == NOT_DEPLOYED)
        has_new = np.bincount(population.owner[new], minlength=existing.size) > 0
        has_active = np.bincount(population.owner[active], minlength=existing.size) > 0
        moved = active & ~new & (decision.deployment != context.deployment)
        pressure = np.asarray(context.signals.regulatory_pressure)[population.region]
        exposure = np.where(population.regulated, 1.0, b.unregulated_compliance_share)
        compliance = (b.compliance_weight * population.sensitivity
                      * (pressure * exposure)[population.owner])
        acted["review"] += int(np.sum(context.review & existing))
        acted["entry"] += int(np.sum(~existing & has_active))
        acted["placing"] += int(np.sum(existing & ~context.review & has_new))
        acted["reallocation"] += int(np.sum(moved))
        acted["switch"] += int(np.sum(decision.switched))
        acted["plans"] += int(np.sum(decision.plans_to_expand))
        acted["finetuned"] += int(np.sum(decision.deployment == FINETUNED))
        acted["peer"] += int(np.sum(context.peer > 0))
        full_migration = b.migration_cost_usd / b.payback_quarters
        acted["migration_cost"] += int(np.sum(
            moved & (context.migration_usd > 0)[population.owner]))
        acted["migration_relief"] += int(np.sum(existing
                                                & (context.migration_usd < full_migration)))
        acted["perceived_risk"] += int(np.sum(context.perceived_risk > 0))
        acted["vendor_price"] += int(np.ptp(context.price_multiplier) > 0)
        acted["compliance"] += int(np.sum(compliance[active] > 0))
        acted["outlook"] += int(outlook is not None and not np.array_equal(
            outlook.signals.benchmark_gap, context.signals.benchmark_gap))


@pytest.mark.parametrize("seed", [3, 2024])
def test_vectorized_and_reference_engines_agree_every_quarter(seed, monkeypatch):
    scenario = baseline(EVENTS, enterprises=300)
    flips = Counter()
    allocate = agents.best_allocation

    def counting_allocation(stack, utilities, current, movable):
        allocation = allocate(stack, utilities, current, movable)
        if stack == STACK_HYBRID and allocation is not None:
            flips["hybrid_fix"] += any(allocation[w] != agents.best_any(utilities[w])
                                       for w in movable)
        return allocation

    monkeypatch.setattr(agents, "best_allocation", counting_allocation)
    checked = CheckedModel(scenario, seed)
    fast = AdoptionModel(scenario, seed=seed, engine="vectorized")
    # the burn-in ran in both; the checked model compared every burn-in quarter
    assert checked.checked == list(range(-scenario.burn_in_quarters, 0))
    np.testing.assert_array_equal(fast.deployment, checked.deployment)
    np.testing.assert_array_equal(fast.stack, checked.stack)
    while fast.quarter < fast.quarter_count:
        fast.step()
        checked.step()
        quarter = fast.quarter - 1
        np.testing.assert_array_equal(
            fast.deployment, checked.deployment, err_msg=f"quarter {quarter}"
        )
        np.testing.assert_array_equal(fast.stack, checked.stack, err_msg=f"quarter {quarter}")
        np.testing.assert_array_equal(fast.plans_to_expand, checked.plans_to_expand,
                                      err_msg=f"quarter {quarter}")
    assert checked.checked == list(
        range(-scenario.burn_in_quarters, scenario.horizon.quarter_count)
    )
    np.testing.assert_array_equal(fast.metrics.values, checked.metrics.values)

    # every mechanism acted during the comparison
    behaviour = scenario.behaviour
    assert behaviour.open_affinity_sd > 0 and np.ptp(fast.population.open_affinity) > 0
    assert behaviour.workload_taste_sd > 0 and behaviour.planning_horizon > 0
    acted = checked.acted
    for mechanism in ("review", "entry", "placing", "reallocation", "switch", "plans", "finetuned",
                      "peer", "migration_cost", "migration_relief", "perceived_risk",
                      "vendor_price", "compliance", "outlook"):
        assert acted[mechanism] > 0, (mechanism, dict(acted))
    assert flips["hybrid_fix"] > 0
    assert set(np.unique(fast.stack)) >= {STACK_CLOSED, STACK_OPEN, STACK_HYBRID}
    assert not fast.vendors.available[0, 0]
    for quarter, kind in (("2025Q3", "policy_change"), ("2026Q1", "withdrawal"),
                          ("2026Q3", "price_change"), ("2027Q2", "deprecation")):
        row = fast.metrics.values[scenario.quarters.index(quarter)]
        assert value(row, "vendor_events", f"event={kind}") >= 1, (quarter, kind)


# --- (b) determinism ----------------------------------------------------------------------------

def test_same_seed_same_metrics_different_seed_different(small_baseline):
    first = run(small_baseline, 11).metrics.values
    again = run(small_baseline, 11).metrics.values
    other = run(small_baseline, 12).metrics.values
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(
        value(first, "workload_share_closed"), value(other, "workload_share_closed")
    )


def test_seed_sequence_and_int_seed_are_both_accepted(small_baseline):
    sequence = np.random.SeedSequence(5).spawn(2)[1]
    first = run(small_baseline, sequence).metrics.values
    again = run(small_baseline, np.random.SeedSequence(5).spawn(2)[1]).metrics.values
    np.testing.assert_array_equal(first, again)


def test_unknown_engine_is_rejected(small_baseline):
    with pytest.raises(ValueError, match="engine"):
        AdoptionModel(small_baseline, seed=1, engine="turbo")


# --- (c) state invariants -----------------------------------------------------------------------

def expected_stacks(model: AdoptionModel, quarter: int) -> np.ndarray:
    """Each enterprise's stack recomputed from the deployment of its active workloads."""
    population = model.population
    active = population.arrival_quarter <= quarter
    n = population.enterprises
    closed = np.bincount(population.owner[active & (model.deployment == CLOSED)], minlength=n)
    opened = np.bincount(population.owner[active & (model.deployment > CLOSED)], minlength=n)
    return np.select([(closed > 0) & (opened > 0), closed > 0, opened > 0],
                     [STACK_HYBRID, STACK_CLOSED, STACK_OPEN], NOT_DEPLOYED)


def test_stacks_are_derived_from_deployments(small_baseline):
    model = AdoptionModel(small_baseline, seed=8)
    population = model.population
    while model.quarter < model.quarter_count:
        model.step()
        quarter = model.quarter - 1
        active = population.arrival_quarter <= quarter
        # every active workload is deployed, inactive ones are not
        assert np.all(model.deployment[active] != NOT_DEPLOYED), quarter
        assert np.all(model.deployment[~active] == NOT_DEPLOYED), quarter
        np.testing.assert_array_equal(
            model.stack, expected_stacks(model, quarter), err_msg=f"quarter {quarter}"
        )
        # metrics agree with the state
        stacks = model.stack[model.stack != NOT_DEPLOYED]
        row = model.metrics.values[quarter]
        assert value(row, "enterprises_using_ai") == stacks.size
        assert value(row, "stack_share_hybrid") == pytest.approx(np.mean(stacks == STACK_HYBRID))
        assert value(row, "workloads") == active.sum()
        assert value(row, "workload_share_closed") == pytest.approx(
            np.mean(model.deployment[active] == CLOSED))


def test_enterprise_entry_follows_entry_quarter(small_baseline):
    model = AdoptionModel(small_baseline, seed=4)
    entry = model.population.entry_quarter
    for _ in range(6):
        model.step()
        quarter = model.quarter - 1
        using = model.stack != NOT_DEPLOYED
        np.testing.assert_array_equal(using, entry <= quarter)


# --- (d) Mesa agents and peers --------------------------------------------------------------------

def test_one_agent_per_enterprise(small_baseline):
    model = AdoptionModel(small_baseline, seed=6)
    n = model.population.enterprises
    agents = list(model.agents)
    assert len(agents) == n
    assert all(isinstance(agent, Enterprise) for agent in agents)
    assert [agent.index for agent in agents] == list(range(n))
    assert list(model.agents_by_type[Enterprise]) == list(model.enterprise_agents) == agents
    # attribute views read the live arrays
    agent = agents[0]
    assert agent.sector in small_baseline.population.sectors
    assert agent.stack in {"closed", "open", "hybrid", None}
    assert agent.ml_capacity == pytest.approx(model.population.ml_capacity[agent.index])


def test_peer_share_counts_neighbours_running_open(small_baseline):
    model = AdoptionModel(small_baseline, seed=6)
    model.stack[:] = STACK_CLOSED
    np.testing.assert_array_equal(model.peer_share(), 0.0)
    model.stack[:] = STACK_HYBRID
    np.testing.assert_array_equal(model.peer_share(), 1.0)
    model.stack[:] = NOT_DEPLOYED
    model.stack[0] = STACK_OPEN
    expected = np.zeros(model.population.enterprises)
    for i in range(expected.size):
        neighbours = model.peer_neighbours[model.peer_offsets[i]:model.peer_offsets[i + 1]]
        expected[i] = np.mean(neighbours == 0)
    np.testing.assert_allclose(model.peer_share(), expected)


# --- the step order -------------------------------------------------------------------------------

def test_step_docstring_describes_the_steps_in_step_order():
    """The step order is stated once, ``STEP_ORDER``; ``AdoptionModel.step``'s docstring
    describes each step under its name, in that order."""
    described = re.findall(r"^\s*- (\w+): ", AdoptionModel.step.__doc__, flags=re.MULTILINE)
    assert tuple(described) == STEP_ORDER


def test_steps_are_referred_to_by_names_of_the_step_order():
    """Wherever the code, the tests, the README or the docs name a step (step "intentions", steps
    "utilities" and "choice"), the name is one of ``STEP_ORDER``; no step is referred to by
    number."""
    root = BASELINE.parents[1]
    sources = [*sorted((root / "sim").rglob("*.py")), *sorted((root / "tests").rglob("*.py"))]
    texts = [path.read_text() for path in sources]
    texts += [path.read_text() for path in [root / "README.md",
                                            *sorted((root / "docs").rglob("*.md"))]]
    cited = {name for text in texts
             for mention in re.findall(r'\bsteps?\s+((?:"\w+"(?:,?\s+and\s+|,\s+)?)+)', text)
             for name in re.findall(r'"(\w+)"', mention)}
    assert cited and cited <= set(STEP_ORDER), cited - set(STEP_ORDER)
    numbered = [match for text in texts for match in
                re.findall(r"\bsteps? \d[\d, and-]*|# \d\. |#(?: \d,?)+$", text, re.MULTILINE)]
    assert numbered == []


# --- (e) burn-in --------------------------------------------------------------------------------

def test_burn_in_starts_from_the_choice_rule(small_baseline):
    model = AdoptionModel(small_baseline, seed=9)
    assert model.quarter == 0
    assert np.isnan(model.metrics.values).all()  # the burn-in is not reported
    model.step()
    row = model.metrics.values[0]
    closed_share = value(row, "stack_share_closed")
    assert 0.0 < closed_share < 0.95
    assert value(row, "stack_share_open") + value(row, "stack_share_hybrid") > 0.05
    assert value(row, "workload_share_open_any") > 0.05
    # without a burn-in the first quarter is also the first choice: all enterprises using AI
    # at the start have a stack either way
    cold = AdoptionModel(baseline("burn_in_quarters=0"), seed=9)
    assert (cold.stack == NOT_DEPLOYED).all()
    cold.step()
    np.testing.assert_array_equal(cold.stack != NOT_DEPLOYED, model.stack != NOT_DEPLOYED)


def test_burn_in_draws_no_random_vendor_events():
    """The burn-in holds the world at its start: with hazards of several events a quarter, six
    burn-in quarters leave prices, availability and perceived risk untouched."""
    model = AdoptionModel(baseline("burn_in_quarters=6"), seed=2)
    assert model.vendors.hazards.sum() > 0.5
    assert (model.vendors.price_multiplier == 1.0).all()
    assert model.vendors.available.all()
    assert (model.vendors.perceived_risk == 0.0).all()
    np.testing.assert_array_equal(model.vendors.customer_vendor, model.population.vendor)


# --- (f) common random numbers -----------------------------------------------------------------

def population_arrays(model: AdoptionModel) -> dict[str, np.ndarray]:
    return {field.name: getattr(model.population, field.name) for field in fields(model.population)}


@pytest.mark.parametrize("override", ["behaviour.cost_weight=0.3", "behaviour.review_rate=0.6",
                                      "signals.tooling_maturity={points: {2024Q1: 0.9}}"])
def test_behaviour_changes_leave_the_population_identical(override):
    reference = AdoptionModel(baseline(), seed=21)
    changed = AdoptionModel(baseline(override), seed=21)
    for name, array in population_arrays(reference).items():
        np.testing.assert_array_equal(array, population_arrays(changed)[name], err_msg=name)
    np.testing.assert_array_equal(reference.peer_neighbours, changed.peer_neighbours)
    reference.run()
    changed.run()
    # ... while the outcome does change
    assert not np.array_equal(reference.deployment, changed.deployment)


def test_population_draws_stay_aligned_when_a_mix_parameter_changes():
    """Changing the ML capacity of a size band changes ML capacity only: risk aversion, vendors
    and portfolios are drawn from the same positions of their streams."""
    base = load_scenario(BASELINE, ["population.enterprises=300"])
    changed = load_scenario(base, ["population.sizes.small.ml_capacity_mean=0.5"])
    first, second = (
        AdoptionModel(base, seed=5).population,
        AdoptionModel(changed, seed=5).population,
    )
    small = first.size_band == 0
    assert (second.ml_capacity[small] > first.ml_capacity[small]).mean() > 0.9
    np.testing.assert_array_equal(first.ml_capacity[~small], second.ml_capacity[~small])
    for name in (
        "risk_aversion",
        "vendor",
        "sector",
        "region",
        "owner",
        "base_volume",
        "workload_class",
    ):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_a_network_larger_than_the_population_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="network.neighbours"):
        load_scenario(BASELINE, ["population.enterprises=10", "population.network.neighbours=20"])


# --- (e) spend-weighted shares -------------------------------------------------------------------

def segment_members(population) -> dict[str, np.ndarray]:
    """Each workload segment of the metrics ("all", "sector=...", "region=...", "size=...",
    "class=...") as a mask over workloads, from the population's own codes."""
    owner = population.owner
    codes = {"sector": (SECTOR_NAMES, population.sector[owner]),
             "region": (REGIONS, population.region[owner]),
             "size": (SIZES, population.size_band[owner]),
             "class": (WORKLOAD_CLASSES, population.workload_class)}
    members = {"all": np.ones(owner.size, dtype=bool)}
    for dimension, (names, code) in codes.items():
        members.update({f"{dimension}={name}": code == index for index, name in enumerate(names)})
    return members


def test_spend_and_tokens_count_what_enterprises_pay():
    """Spend is the API bill for closed work (tokens times the price of the workload's tier) and,
    for open work, serving it (its own GPUs or a serverless provider, whichever costs less) plus
    its engineers plus the enterprise's platform team shared among its open workloads; all
    recomputed here by hand from the model's state, for every workload segment."""
    scenario = baseline(*no_vendor_hazards(), "scheduled_events=[]")
    model = AdoptionModel(scenario, seed=5)
    quarter = 2
    model.run(quarter_count=quarter + 1)
    population, behaviour, economics = model.population, scenario.behaviour, scenario.economics
    signals = model.paid_signals.at(quarter)   # bills at the prices enterprises have moved to
    deployment = np.where(population.arrival_quarter <= quarter, model.deployment, NOT_DEPLOYED)
    need = population.frontier_need
    volume = population.base_volume * signals.token_demand_index ** population.demand_elasticity
    price = (signals.fixed_capability_price_usd_per_mtok ** (1 - need)
             * signals.frontier_price_usd_per_mtok ** need)
    throughput = (economics.small_model.throughput_mtok_per_gpu_hour ** (1 - need)
                  * economics.large_model.throughput_mtok_per_gpu_hour ** need
                  * signals.serving_efficiency_index)
    minimum = (economics.small_model.minimum_gpus ** (1 - need)
               * economics.large_model.minimum_gpus ** need)
    busy = (economics.utilisation_floor
            + (economics.utilisation_ceiling - economics.utilisation_floor)
            * signals.tooling_maturity)
    hours = np.maximum(minimum * 24 * 365.25 / 4, volume / (throughput * busy))
    serving = np.minimum(hours * signals.gpu_rent_usd_per_hour,
                         volume * signals.gpu_rent_usd_per_hour / throughput
                         * economics.serverless_price_factor)
    burden = ((1 - behaviour.ml_capacity_relief * population.ml_capacity)
              * (1 - behaviour.tooling_relief * signals.tooling_maturity))
    engineer = economics.salary_usd_per_year / 4
    staff = (economics.workload_fte * burden * engineer)[population.owner]
    finetune = ((economics.finetune_fte * burden * engineer)[population.owner]
                + economics.finetune_gpu_hours_per_quarter * signals.gpu_rent_usd_per_hour)
    size_staff = np.array([scenario.population.sizes[name].platform_staff_multiplier
                           for name in SIZES])[population.size_band]
    platform = economics.platform_fte * size_staff * burden * engineer
    runs_open = deployment > CLOSED
    open_workloads = np.bincount(population.owner, weights=runs_open, minlength=platform.size)
    spend = np.select([deployment == CLOSED, deployment == OPEN, deployment == FINETUNED],
                      [volume * price, serving + staff, serving + staff + finetune], 0.0)
    spend += runs_open * (platform / np.maximum(open_workloads, 1))[population.owner]
    kinds = {**{kind: deployment == code for code, kind in enumerate(OPTIONS)},
             "open_any": runs_open}
    assert all(spend[paid].sum() > 0 for paid in kinds.values())  # every share has something
    represents = scenario.population.represents / scenario.population.enterprises
    values = model.metrics.values[quarter]
    members = segment_members(population)
    assert set(members) == {s for s in SEGMENTS if not s.startswith("event=")}
    for segment, member in members.items():
        total = spend[member & (deployment != NOT_DEPLOYED)].sum()
        for kind, paid in kinds.items():
            expected = spend[member & paid].sum() / total if total > 0 else np.nan
            assert value(values, deployment_metric("spend_share", kind).name,
                         segment) == pytest.approx(expected, nan_ok=True), (segment, kind)
        closed = member & (deployment == CLOSED)
        if closed.any():
            assert value(values, "spend_usd_closed", segment) == pytest.approx(
                spend[closed].sum() * represents), segment
            assert value(values, "tokens_mtok_closed", segment) == pytest.approx(
                volume[closed].sum() * represents), segment
            assert value(values, "price_paid_usd_per_mtok_closed", segment) == pytest.approx(
                spend[closed].sum() / volume[closed].sum()), segment
