"""The adoption model: a Mesa model of enterprises choosing closed, open and hybrid AI stacks.

:class:`AdoptionModel` owns the population (Mesa agents on a peer network, with their attributes
and workloads as struct-of-arrays), the signal paths, the vendor market and the random streams,
and runs one quarter per :meth:`AdoptionModel.step` in the order its docstring gives. It knows
nothing of files, the command line or plots.
"""

from __future__ import annotations

import dataclasses
import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain

import mesa
import networkx as nx
import numpy as np
from mesa.agent import AgentSet
from mesa.discrete_space import Network

from sim.core import kernel
from sim.core.agents import Enterprise
from sim.core.kernel import NOT_DEPLOYED, STACK_CLOSED, QuarterContext, QuarterDecision
from sim.core.metrics import MetricCollector
from sim.core.population import build_population
from sim.core.schema import SIZES, Scenario
from sim.core.signals import expected_signal_paths, signal_paths
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


def peer_graph(sector: np.ndarray, neighbours: int, rewire_probability: float,
               rng: np.random.Generator) -> tuple[nx.Graph, np.ndarray]:
    """A Watts-Strogatz small world whose ring is ordered by sector, so that most ties link
    enterprises of the same sector. Returns the graph (nodes are ring positions) and
    ``enterprise_at``: the enterprise sitting at each ring position."""
    enterprise_at = np.lexsort((rng.random(sector.size), sector))
    seed = int(rng.integers(2**31))
    if (
        neighbours >= sector.size
    ):  # degenerate sizes: networkx's own rules (error or complete graph)
        return nx.watts_strogatz_graph(
            sector.size, neighbours, rewire_probability, seed=seed
        ), enterprise_at
    ring = nx.Graph()
    ring.add_nodes_from(range(sector.size))
    # Private networkx internal, kept for speed: networkx has no public way to hand a graph a
    # ready adjacency (``add_edges_from`` and ``nx.Graph(dict_of_dicts)`` make a call per edge).
    # ``Graph._adj`` (node -> {neighbour: edge data}, one data dict shared by both ends) is the
    # storage its "Subclasses (Advanced)" documentation describes; the adjacency dicts replace the
    # empty ones in place. test_model.py's test_peer_graph_is_networkx_watts_strogatz fails if
    # this stops giving networkx's own graph.
    ring._adj.update(enumerate(watts_strogatz_adjacency(sector.size, neighbours, rewire_probability,
                                                        seed)))
    return ring, enterprise_at


def watts_strogatz_adjacency(n: int, k: int, p: float, seed: int) -> list[dict[int, dict]]:
    """The adjacency of ``networkx.watts_strogatz_graph(n, k, p, seed=seed)`` (n > k): the same
    algorithm making the same draws from ``random.Random(seed)``, so the same graph with the same
    neighbour order, but on plain dicts, without networkx's per-edge method calls."""
    rng = random.Random(seed)
    adjacency: list[dict[int, dict]] = [{} for _ in range(n)]
    for j in range(1, k // 2 + 1):              # the ring: each node to its k/2 next neighbours
        for u in range(n):
            v = (u + j) % n
            edge = adjacency[u].get(v, {})
            adjacency[u][v] = edge
            adjacency[v][u] = edge
    nodes = list(range(n))
    draw, choice = rng.random, rng.choice
    for j in range(1, k // 2 + 1):              # rewire each ring edge with probability p
        for u in range(n):
            if draw() < p:
                near = adjacency[u]
                w = choice(nodes)
                while w == u or w in near:      # no self loops or multiple edges
                    w = choice(nodes)
                    if len(near) >= n - 1:
                        break                   # skip this rewiring
                else:
                    v = (u + j) % n
                    del near[v]
                    del adjacency[v][u]
                    edge = {}
                    near[w] = edge
                    adjacency[w][u] = edge
    return adjacency


class PeerNetwork(Network):
    """Mesa's network space, with each cell's connections set in one go from the graph.

    Overrides a private Mesa hook, for speed: ``Network.__init__`` calls ``_connect_cells``,
    which connects the cells one ``Cell.connect`` call per edge end, each clearing a
    neighbourhood cache that does not exist yet; Mesa offers no public bulk connection. The
    override reads ``_cells`` (coordinate -> cell), which the base class fills just before.
    test_model.py's test_peer_network_connects_cells_through_the_private_hook fails if Mesa
    stops calling the hook or the cells come out connected differently.
    """

    def _connect_cells(self) -> None:
        cells = self._cells
        for coordinate, neighbours in self.G.adjacency():
            cells[coordinate].connections = {node: cells[node] for node in neighbours}


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


def adjacency(graph: nx.Graph, enterprise_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compressed-sparse-row neighbour lists (offsets, neighbours) indexed by enterprise.

    ``graph``'s nodes are the ring positions 0..n-1 in order; its edges are read in
    ``graph.edges()`` order (each edge from its lower end) without iterating the edge view."""
    lists = [neighbours for _, neighbours in graph.adjacency()]
    degree = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    neighbour = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(degree.sum()))
    node = np.repeat(np.arange(len(lists), dtype=np.int64), degree)
    lower = neighbour > node
    edges = enterprise_at[np.column_stack([node[lower], neighbour[lower]])]
    source = np.concatenate([edges[:, 0], edges[:, 1]])
    target = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.argsort(source, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(source, minlength=enterprise_at.size))])
    return offsets, target[order]


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
        self.signals = signal_paths(scenario, self.streams["signals"])
        self.expected_signals = expected_signal_paths(scenario)
        self.vendor_names = tuple(scenario.vendors)
        self.vendors = VendorMarket(scenario, self.population.vendor.copy(), self.population.region,
                                    self.streams["vendor_events"])

        n, workloads = self.population.enterprises, self.population.workloads
        with _collection_paused():
            graph, enterprise_at = peer_graph(self.population.sector,
                                              scenario.population.network.neighbours,
                                              scenario.population.network.rewire_probability,
                                              self.streams["network"])
            self.network = PeerNetwork(graph, random=self.random)
            self.peer_offsets, self.peer_neighbours = adjacency(graph, enterprise_at)
            agents = self._create_enterprises(n)
            for position, enterprise in enumerate(enterprise_at.tolist()):
                agents[enterprise].cell = self.network[position]
        self.enterprise_agents = self.agents_by_type[Enterprise]

        self.platform_multiplier = np.array(
            [scenario.population.sizes[name].platform_cost_multiplier for name in SIZES]
        )[self.population.size_band]
        self.deployment = np.full(workloads, NOT_DEPLOYED, dtype=np.int8)
        self.stack = np.full(n, NOT_DEPLOYED, dtype=np.int8)
        self.plans_to_expand = np.zeros(n, dtype=bool)
        self.quarter = -scenario.burn_in_quarters
        self._kernel_cache: kernel.KernelCache | None = None
        self.metrics = MetricCollector(self.population, scenario.horizon.quarter_count)
        while self.quarter < 0:
            self.step()

    _pending_agents: list | None = None

    def register_agent(self, agent) -> None:
        """Mesa's registration of a new agent; while :meth:`_create_enterprises` runs, the
        agents are collected and registered together at its end."""
        if self._pending_agents is not None:
            self._pending_agents.append(agent)
        else:
            super().register_agent(agent)

    def _create_enterprises(self, n: int) -> list[Enterprise]:
        """One :class:`Enterprise` agent per enterprise (unique ids 1..n in index order),
        registered with the model as ``Model.register_agent`` would register each, but in bulk.

        Writes Mesa's private registries, for speed: ``Model.register_agent`` does one
        weak-reference insert per set and formats a log message per agent, a noticeable share of
        the set-up of a large population, and Mesa has no public bulk registration. The three
        registries are those ``register_agent`` fills (``_agents``: the hard references;
        ``_agents_by_type``: an ``AgentSet`` per class, behind ``agents_by_type``;
        ``_all_agents``: behind ``agents``). test_model.py's
        test_bulk_registration_fills_what_mesa_register_agent_fills fails if Mesa's registration
        changes what it fills."""
        self._pending_agents = agents = []
        try:
            for index in range(n):
                Enterprise(self, index)
        finally:
            self._pending_agents = None
        self._agents.update(dict.fromkeys(agents))
        if Enterprise in self._agents_by_type:
            for agent in agents:
                self._agents_by_type[Enterprise].add(agent)
        else:
            self._agents_by_type[Enterprise] = AgentSet(agents, random=self.random)
        if len(self._all_agents) == 0:
            self._all_agents = AgentSet(agents, random=self.random)
        else:
            for agent in agents:
                self._all_agents.add(agent)
        return agents

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
        """One quarter, in this order (the burn-in holds the world at the horizon start):

        1. advance the signals to this quarter;
        2. draw and apply vendor events (prices, forced reviews, perceived risk);
        3. entry: enterprises that start using AI; growth: new workloads join portfolios;
        4. compute every workload's utility for every option, and every enterprise's stack values;
        5. intentions: every enterprise's preferred allocation under the signals it expects
           ``planning_horizon`` quarters ahead, compared with what it runs;
        6. reviews: who reviews this quarter (periodic draw, plus forced by vendor events);
        7. reviewing enterprises choose a stack by logit and reallocate; new workloads are placed;
        8. collect metrics (reported quarters only).

        Peer shares are read from the previous quarter's state, so agent order never matters.
        """
        behaviour, population = self.behaviour, self.population
        reported = self.quarter >= 0
        now = max(self.quarter, 0)
        signals = self.signals.at(now)                                            # 1
        events = self.vendors.step(self.quarter, draw_random=reported)            # 2
        active = population.arrival_quarter <= now                                # 3
        market = self._market(signals)
        review_draw = self.streams["reviews"].random(population.enterprises)      # 6
        context = QuarterContext(
            **market, active=active, deployment=self.deployment, stack=self.stack,
            perceived_risk=self.vendors.perceived_risk,
            peer=behaviour.peer_weight * self.peer_share(),
            switching=np.where(self.stack != NOT_DEPLOYED,
                               behaviour.switching_cost * (1.0 - events.switching_relief), 0.0),
            review=(review_draw < behaviour.review_rate) | events.forced_review,
            choice_uniform=self.streams["choice"].random(population.enterprises))
        outlook = None
        if behaviour.planning_horizon:                                            # 5
            ahead = self.expected_signals.at(now + behaviour.planning_horizon)
            outlook = dataclasses.replace(context, **self._market(ahead))
        decision = self.decide(context, outlook)                                  # 4, 5, 7
        stack_before = self.stack
        self.deployment, self.stack = decision.deployment, decision.stack
        self.plans_to_expand = decision.plans_to_expand
        if reported:                                                              # 8
            self.metrics.collect(
                self.quarter,
                deployment=self.deployment,
                stack=self.stack,
                stack_before=stack_before,
                plans=decision.plans_to_expand,
                switched=decision.switched,
                closed_price=market["closed_price"],
                open_price=market["open_price"],
                platform_usd=self._platform_usd(market["platform"]),
                events=events.events,
                signals=signals,
            )
        self.quarter += 1

    def _market(self, signals) -> dict:
        """Prices and platform cost under some signals: the market an enterprise faces."""
        behaviour = self.behaviour
        return {
            "signals": signals,
            "closed_price": (behaviour.closed_price_usd_per_mtok * signals.closed_price_index
                             * self.vendors.closed_price_multiplier()),
            "open_price": (behaviour.closed_price_usd_per_mtok * signals.open_cost_ratio
                           * signals.hardware_cost_index),
            "platform": kernel.platform_cost(self.platform_multiplier, self.population.ml_capacity,
                                             signals.tooling_maturity, behaviour),
        }

    def _platform_usd(self, platform: np.ndarray) -> np.ndarray:
        """The open-platform cost in USD per quarter: utility is thousands of USD times
        ``cost_weight`` (no money at all when costs carry no weight)."""
        cost_weight = self.behaviour.cost_weight
        return platform * (1000.0 / cost_weight) if cost_weight > 0 else np.zeros_like(platform)

    def decide(self, context: QuarterContext, outlook: QuarterContext | None) -> QuarterDecision:
        """The quarter's decisions (steps 4, 5 and 7) on this model's ``engine``."""
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
