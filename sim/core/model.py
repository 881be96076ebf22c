"""The adoption model: a Mesa model of enterprises choosing closed, open and hybrid AI stacks.

:class:`AdoptionModel` owns the population (Mesa agents, with their attributes and workloads as
struct-of-arrays, and their peer network as neighbour lists), the signal paths, the vendor market
and the random streams, and runs one quarter per :meth:`AdoptionModel.step`, the steps of
:data:`STEP_ORDER` in order. It knows nothing of files, the command line or plots.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager

import mesa
import numpy as np

from sim.core import kernel, market
from sim.core.agents import Enterprise
from sim.core.economics import token_volume, workload_break_even
from sim.core.kernel import NOT_DEPLOYED, STACK_CLOSED, QuarterContext, QuarterDecision
from sim.core.mesa_internals import create_agents
from sim.core.metrics import MetricCollector
from sim.core.peers import peer_lists
from sim.core.population import build_population
from sim.core.schema import Scenario
from sim.core.signals import expected_paid_signal_paths, paid_signal_paths, signal_paths
from sim.core.vendors import VendorMarket

STREAMS = (
    "population",
    "network",
    "signals",
    "vendor_events",
    "reviews",
    "choice",
    "growth",
    "mesa",
)
ENGINES = ("vectorized", "reference")
STEP_ORDER = ("signals", "vendor_events", "arrivals", "utilities", "intentions", "reviews",
              "choice", "metrics")
"""The steps of a quarter, in the order AdoptionModel.step runs them (its docstring says what each
does). The code and its documentation refer to a step by one of these names, never by number."""


def random_streams(seed: int | np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One independent generator per purpose, spawned from the replication's seed.

    Separate streams keep draws aligned across scenarios (common random numbers): changing how
    enterprises weigh prices does not change who exists, who reviews when, or which events occur.
    """
    if isinstance(seed, np.random.SeedSequence):
        sequence = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
    else:
        sequence = np.random.SeedSequence(seed)
    return {name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(STREAMS, sequence.spawn(len(STREAMS)))}


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many long-lived objects at once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class AdoptionModel(mesa.Model):
    """Enterprises choosing among closed, open and hybrid AI stacks, one quarter per step.

    Args:
        scenario: a validated scenario.
        seed: the replication's seed (an int or a spawned ``SeedSequence``).
        engine: "vectorized" (the numpy kernel) or "reference" (each agent's ``decide``).
    """

    def __init__(self, scenario: Scenario, seed: int | np.random.SeedSequence = 0,
                 engine: str = "vectorized"):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        self.streams = random_streams(seed)
        super().__init__(rng=self.streams["mesa"])
        self.scenario = scenario
        self.behaviour = scenario.behaviour
        self.engine = engine
        self.population = build_population(
            scenario, self.streams["population"], self.streams["growth"]
        )
        self.signals = signal_paths(scenario, self.streams["signals"])          # the market's
        self.paid_signals = paid_signal_paths(self.signals, scenario.behaviour)  # as decided on
        self.expected_signals = expected_paid_signal_paths(scenario)
        self.vendor_names = tuple(scenario.vendors)
        self.vendors = VendorMarket(scenario, self.population.vendor.copy(), self.population.region,
                                    self.streams["vendor_events"])

        with _collection_paused():
            self.peer_offsets, self.peer_neighbours = peer_lists(
                self.population.sector, scenario.population.network.neighbours,
                scenario.population.network.rewire_probability, self.streams["network"])
            create_agents(self, Enterprise, self.population.enterprises)
        self.enterprise_agents = self.agents_by_type[Enterprise]

        self.platform_staff = market.platform_staff(scenario, self.population.size_band)
        self.deployment = np.full(self.population.workloads, NOT_DEPLOYED, dtype=np.int8)
        self.stack = np.full(self.population.enterprises, NOT_DEPLOYED, dtype=np.int8)
        self.plans_to_expand = np.zeros(self.population.enterprises, dtype=bool)
        self.quarter = -scenario.burn_in_quarters
        self._kernel_cache: kernel.KernelCache | None = None
        self.metrics = MetricCollector(self.population, scenario.horizon.quarter_count,
                                       market.real_per_simulated(scenario.population))
        while self.quarter < 0:
            self.step()

    @property
    def quarter_count(self) -> int:
        """Number of reported quarters (the horizon's); the labels are ``scenario.quarters``."""
        return self.scenario.horizon.quarter_count

    def peer_share(self) -> np.ndarray:
        """Share of each enterprise's neighbours running open models (open or hybrid stack),
        read from the previous quarter's state: social proof, the imitation term of diffusion."""
        runs_open = (self.stack != NOT_DEPLOYED) & (self.stack != STACK_CLOSED)
        counts = np.add.reduceat(
            runs_open[self.peer_neighbours].astype(np.int64), self.peer_offsets[:-1]
        )
        degree = np.diff(self.peer_offsets)
        return np.where(degree > 0, counts / np.maximum(degree, 1), 0.0)

    def step(self) -> None:
        """One quarter: the steps of :data:`STEP_ORDER`, in that order (the burn-in holds the
        world at the horizon start):

        - signals: advance the signals to this quarter;
        - vendor_events: draw and apply vendor events (prices, forced reviews, perceived risk);
        - arrivals: entry, enterprises that start using AI; growth, new workloads join portfolios;
        - utilities: every workload's utility for every option, and every enterprise's stack
          values;
        - intentions: every enterprise's preferred allocation under the signals it expects
          ``planning_horizon`` quarters ahead, compared with what it runs;
        - reviews: who reviews this quarter (periodic draw, plus forced by vendor events);
        - choice: reviewing enterprises choose a stack by logit and reallocate; new workloads are
          placed;
        - metrics: collect metrics (reported quarters only).

        Peer shares are read from the previous quarter's state, so agent order never matters.
        """
        behaviour, population = self.behaviour, self.population
        reported = self.quarter >= 0
        now = max(self.quarter, 0)
        signals = self.paid_signals.at(now)                                       # signals
        events = self.vendors.step(self.quarter, draw_random=reported)            # vendor_events
        active = population.arrival_quarter <= now                                # arrivals
        terms = self._market(signals, now)
        review_draw = self.streams["reviews"].random(population.enterprises)      # reviews
        context = QuarterContext(
            **terms, active=active, deployment=self.deployment, stack=self.stack,
            perceived_risk=self.vendors.perceived_risk,
            peer=behaviour.peer_weight * self.peer_share(),
            migration_usd=market.migration_usd(behaviour, events.migration_relief),
            review=(review_draw < behaviour.review_rate) | events.forced_review,
            choice_uniform=self.streams["choice"].random(population.enterprises))
        outlook = None
        if behaviour.planning_horizon:                                            # intentions
            ahead = self.expected_signals.at(now + behaviour.planning_horizon)
            outlook = dataclasses.replace(context, **self._market(ahead, now))
        decision = self.decide(context, outlook)          # utilities, intentions, choice
        stack_before = self.stack
        self.deployment, self.stack = decision.deployment, decision.stack
        self.plans_to_expand = decision.plans_to_expand
        if reported:                                                              # metrics
            self.metrics.collect(
                self.quarter,
                deployment=self.deployment,
                stack=self.stack,
                stack_before=stack_before,
                plans=decision.plans_to_expand,
                switched=decision.switched,
                costs=kernel.workload_costs(population, context,
                                            population.active_workloads(self.quarter)),
                platform_usd=self.platform_usd(signals),
                break_even=[workload_break_even(need, context, self.scenario.economics)
                            for need in (0.0, 1.0)],
                events=events.events,
                signals=self.signals.at(now),
            )
        self.quarter += 1

    def _market(self, signals, quarter: int) -> dict:
        """What the options cost under some signals (the market an enterprise faces), for the
        workloads of ``quarter``: the terms of :class:`~sim.core.kernel.QuarterContext` that
        follow from prices, rents and tooling (:func:`sim.core.market.market_terms`), in dollars,
        and the open platform's team as a utility, its cost spread over the enterprise's
        tokens."""
        population = self.population
        active = population.active_workloads(quarter)
        tokens = np.bincount(population.owner.take(active), minlength=population.enterprises,
                             weights=token_volume(population.base_volume.take(active),
                                                  population.demand_elasticity.take(active),
                                                  signals.token_demand_index))
        terms = market.market_terms(signals, economics=self.scenario.economics,
                                    behaviour=self.behaviour,
                                    ml_capacity=population.ml_capacity,
                                    staff=self.platform_staff, tokens=tokens)
        del terms["platform_usd"]
        return {"signals": signals, "price_multiplier": self.vendors.closed_price_multiplier(),
                **terms}

    def platform_usd(self, signals) -> np.ndarray:
        """Each enterprise's quarterly cost, USD, of the team an open-model platform needs (its
        share of ``economics.platform_fte``, relieved by ML capacity and tooling): what running
        any open workload at all costs."""
        return market.platform_usd(self.platform_staff, self.population.ml_capacity, signals,
                                   self.scenario.economics, self.behaviour)

    def decide(self, context: QuarterContext, outlook: QuarterContext | None) -> QuarterDecision:
        """The quarter's decisions (steps "utilities", "intentions" and "choice") on this model's
        ``engine``."""
        if self.engine == "vectorized":
            if self._kernel_cache is None:
                self._kernel_cache = kernel.KernelCache(self.population, self.behaviour)
            return kernel.decide_quarter(self.population, context, self.behaviour, outlook,
                                         cache=self._kernel_cache)
        deployment = context.deployment.copy()
        stack = context.stack.copy()
        plans = np.zeros(stack.size, dtype=bool)
        for agent in self.enterprise_agents:
            decision = agent.decide(context, self.behaviour, outlook)
            plans[agent.index] = decision.plans_to_expand
            stack[agent.index] = decision.stack
            for workload, option in decision.deployment.items():
                deployment[workload] = option
        switched = (context.stack != NOT_DEPLOYED) & (stack != context.stack)
        return QuarterDecision(plans_to_expand=plans, deployment=deployment,
                               stack=stack, switched=switched)

    def run(self, quarter_count: int | None = None) -> np.ndarray:
        """Run the first ``quarter_count`` reported quarters (default: all); return the
        (quarters, metrics, segments) values, NaN for quarters not run."""
        stop = (
            self.quarter_count if quarter_count is None else min(quarter_count, self.quarter_count)
        )
        while self.quarter < stop:
            self.step()
        return self.metrics.values
