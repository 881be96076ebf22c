"""The peer network: who each enterprise watches when it weighs running open models.

Enterprises sit on a Watts-Strogatz small world whose ring is ordered by sector, so most ties
link enterprises of one sector (diffusion by social proof travels mostly within an industry) and
a few rewired ties cross sectors. The model reads the network only as compressed-sparse-row
neighbour lists (``offsets``, ``neighbours``): the share of an enterprise's peers running open
models is one vectorized reduction over them (:meth:`sim.core.model.AdoptionModel.peer_share`).
"""

from __future__ import annotations

import random
from itertools import chain

import numpy as np


def peer_lists(sector: np.ndarray, neighbours: int, rewire_probability: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The peer network of enterprises of the given ``sector`` codes, as (offsets, neighbours):
    enterprise ``i``'s peers are ``neighbours[offsets[i]:offsets[i + 1]]``.

    A Watts-Strogatz small world (each enterprise tied to its ``neighbours`` nearest on the ring,
    each tie rewired with ``rewire_probability``) on a ring ordered by sector, the enterprises of
    a sector in random order. ``neighbours`` must be below the number of enterprises (the
    scenario schema ensures it).
    """
    enterprise_count = sector.size
    if neighbours >= enterprise_count:
        raise ValueError(f"neighbours ({neighbours}) must be below the number of enterprises "
                         f"({enterprise_count})")
    enterprise_at = np.lexsort((rng.random(enterprise_count), sector))
    seed = int(rng.integers(2**31))
    ring = watts_strogatz_adjacency(enterprise_count, neighbours, rewire_probability, seed)
    return neighbour_lists(ring, enterprise_at)


def watts_strogatz_adjacency(node_count: int, neighbours: int, rewire_probability: float,
                             seed: int) -> list[dict[int, None]]:
    """The adjacency of ``networkx.watts_strogatz_graph(node_count, neighbours,
    rewire_probability, seed=seed)`` (``node_count > neighbours``): for each node, its neighbours
    (the keys) in networkx's order. The same algorithm making the same draws from
    ``random.Random(seed)``, on plain dicts, without networkx's per-edge method calls (most of its
    time); ``tests/test_peers.py`` checks it against networkx, edge for edge."""
    rng = random.Random(seed)
    adjacency: list[dict[int, None]] = [{} for _ in range(node_count)]
    for distance in range(1, neighbours // 2 + 1):      # the ring: each node to its next ones
        for node in range(node_count):
            other = (node + distance) % node_count
            adjacency[node][other] = None
            adjacency[other][node] = None
    nodes = list(range(node_count))
    draw, choice = rng.random, rng.choice
    for distance in range(1, neighbours // 2 + 1):      # rewire each ring edge, in ring order
        for node in range(node_count):
            if draw() < rewire_probability:
                near = adjacency[node]
                target = choice(nodes)
                while target == node or target in near:   # no self loops or multiple edges
                    target = choice(nodes)
                    if len(near) >= node_count - 1:
                        break                             # skip this rewiring
                else:
                    other = (node + distance) % node_count
                    del near[other]
                    del adjacency[other][node]
                    near[target] = None
                    adjacency[target][node] = None
    return adjacency


def neighbour_lists(ring: list[dict[int, None]],
                    enterprise_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compressed-sparse-row neighbour lists (offsets, neighbours) indexed by enterprise, from
    the adjacency of ring positions 0..n-1 and ``enterprise_at``, the enterprise at each position.

    Each enterprise's neighbours come in the order of the graph's edges (networkx's
    ``Graph.edges()``: each edge once, from its lower end, node by node)."""
    degree = np.fromiter(map(len, ring), dtype=np.int64, count=len(ring))
    neighbour = np.fromiter(chain.from_iterable(ring), dtype=np.int64, count=int(degree.sum()))
    node = np.repeat(np.arange(len(ring), dtype=np.int64), degree)
    lower = neighbour > node
    edges = enterprise_at[np.column_stack([node[lower], neighbour[lower]])]
    source = np.concatenate([edges[:, 0], edges[:, 1]])
    target = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.argsort(source, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(source, minlength=enterprise_at.size))])
    return offsets, target[order]
