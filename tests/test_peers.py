"""Tests for sim.core.peers: the peer network is networkx's Watts-Strogatz small world, ordered
by sector, read as neighbour lists."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim.core.model import AdoptionModel
from sim.core.peers import peer_lists, watts_strogatz_adjacency

SIZES = [(60, 4, 0.1), (40, 6, 0.6), (12, 10, 0.3), (30, 3, 0.0), (20, 1, 1.0)]


@pytest.mark.parametrize("n, k, p", SIZES)
def test_small_world_is_networkx_watts_strogatz(n, k, p):
    """The same graph as networkx's generator on the same seed, edge for edge and in neighbour
    order (the neighbour lists, and so the peer shares, follow that order). Fails if networkx
    changes its algorithm or its draws, and the docstrings' claim with it."""
    ours = watts_strogatz_adjacency(n, k, p, seed=7)
    expected = nx.watts_strogatz_graph(n, k, p, seed=7)
    assert [list(near) for near in ours] == [list(near) for _, near in expected.adjacency()]


@pytest.mark.parametrize("n, k, p", SIZES)
def test_peer_lists_are_the_graph_between_enterprises(n, k, p):
    """Each enterprise's peers are its ring position's neighbours, mapped to the enterprises at
    those positions: first the edges it is the lower end of, then the others, in edge order."""
    rng = np.random.default_rng(7)
    sector = rng.integers(0, 4, n)
    offsets, neighbours = peer_lists(sector, k, p, np.random.default_rng(11))

    draws = np.random.default_rng(11)
    enterprise_at = np.lexsort((draws.random(n), sector))
    graph = nx.watts_strogatz_graph(n, k, p, seed=int(draws.integers(2**31)))
    lower_end, upper_end = [[] for _ in range(n)], [[] for _ in range(n)]
    for u, v in graph.edges():
        lower_end[enterprise_at[u]].append(enterprise_at[v])
        upper_end[enterprise_at[v]].append(enterprise_at[u])
    assert offsets.tolist() == [0, *np.cumsum([graph.degree(position) for position in
                                               np.argsort(enterprise_at)]).tolist()]
    for enterprise in range(n):
        assert neighbours[offsets[enterprise]:offsets[enterprise + 1]].tolist() == (
            lower_end[enterprise] + upper_end[enterprise])
    assert np.all(np.diff(sector[enterprise_at]) >= 0), "the ring is not ordered by sector"


def test_a_network_as_large_as_the_population_is_refused():
    with pytest.raises(ValueError, match="must be below the number of enterprises"):
        peer_lists(np.zeros(6, dtype=np.int8), 6, 0.1, np.random.default_rng(0))


def test_peers_are_mutual_and_mostly_share_a_sector(small_baseline):
    model = AdoptionModel(small_baseline, seed=6)
    population, offsets = model.population, model.peer_offsets
    peers = [set(model.peer_neighbours[offsets[enterprise]:offsets[enterprise + 1]].tolist())
             for enterprise in range(population.enterprises)]
    same, ties = 0, 0
    for enterprise, near in enumerate(peers):
        assert all(enterprise in peers[other] for other in near)
        assert enterprise not in near
        assert len(near) >= small_baseline.population.network.neighbours // 2
        same += sum(population.sector[other] == population.sector[enterprise] for other in near)
        ties += len(near)
    shares = np.bincount(population.sector, minlength=8) / population.enterprises
    chance = float(np.sum(shares ** 2))
    assert chance < 0.2
    assert same / ties > 0.75  # with rewiring 0.1 about 0.9 of ties; chance is about 0.15
