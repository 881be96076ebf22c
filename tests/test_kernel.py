"""Pure-function tests of the decision arithmetic on tiny hand-made cases: the per-agent reference
path (sim.core.agents) and the vectorized kernel (sim.core.kernel)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import agents, kernel
from sim.core.kernel import (
    CLOSED,
    FINETUNED,
    NOT_DEPLOYED,
    OPEN,
    STACK_CLOSED,
    STACK_HYBRID,
    STACK_OPEN,
)

INF = np.inf


# --- open_relative_capability ------------------------------------------------------------------

def capability(
    gap=0.0, parity=0.875, frontier_gap=0.0, need=0.0, gap_sens=0.02, frontier_sens=0.03
):
    return kernel.open_relative_capability(gap, parity, frontier_gap, need, gap_sens, frontier_sens)


def test_no_gap_gives_task_parity():
    assert capability(gap=0.0, frontier_gap=0.0) == pytest.approx(0.875)
    assert capability(gap=0.0, frontier_gap=10.0, need=0.0) == pytest.approx(0.875)


def test_capability_decreases_in_benchmark_gap():
    gaps = np.array([0.0, 1.0, 5.0, 17.5, 40.0])
    values = capability(gap=gaps)
    assert np.all(np.diff(values) < 0)
    assert values[3] == pytest.approx(0.875 * np.exp(-0.02 * 17.5))


def test_frontier_gap_matters_only_with_frontier_need():
    no_need = capability(gap=2.0, frontier_gap=np.array([0.0, 5.0, 20.0]), need=0.0)
    np.testing.assert_allclose(no_need, no_need[0])
    needs = capability(gap=2.0, frontier_gap=np.array([0.0, 5.0, 20.0]), need=0.8)
    assert np.all(np.diff(needs) < 0)
    assert needs[0] == pytest.approx(no_need[0])
    # more need, more loss at the same gap
    assert capability(frontier_gap=10.0, need=0.9) < capability(frontier_gap=10.0, need=0.3)


# --- stack values and allocations: the reference path and the kernel ----------------------------
# Each case is stated for one or more enterprises as rows of (closed, open, open_finetuned)
# utilities with the owner of each row; the reference path (sim.core.agents.stack_values, one
# enterprise at a time) and, where every workload is movable, the kernel's every_options (all
# enterprises at once) must both give the hand-computed values.

def reference(utilities, owner, enterprise, movable=None, deployment=None, platform=0.0, peer=0.0):
    """(values, allocations) of one enterprise by the reference path."""
    rows = [row for row, who in enumerate(owner) if who == enterprise]
    utilities = {row: tuple(utilities[row]) for row in rows}
    current = {row: NOT_DEPLOYED if deployment is None else deployment[row] for row in rows}
    movable = set(rows) if movable is None else {row for row in rows if movable[row]}
    return agents.stack_values(utilities, current, movable, platform, peer)


def every(utilities, owner, n, platform=None, peer=None) -> kernel.EveryOptions:
    """The kernel's stack values of every enterprise with all workloads movable."""
    utilities = np.ascontiguousarray(np.asarray(utilities, dtype=float).T)
    owner = np.asarray(owner, dtype=np.intp)
    active = kernel.ActiveWorkloads(order=np.arange(owner.size), owner=owner,
                                    count=np.bincount(owner, minlength=n), terms={})
    platform = np.zeros(n) if platform is None else np.asarray(platform, dtype=float)
    peer = np.zeros(n) if peer is None else np.asarray(peer, dtype=float)
    return kernel.every_options(utilities, active, n, platform, peer)


def hybrid_allocation(options: kernel.EveryOptions, owner) -> list[int]:
    """The kernel's hybrid allocation: each workload's best option, then the flips."""
    closed, open_, finetuned = options.utilities
    best_open = np.where(finetuned > open_, FINETUNED, OPEN)
    allocation = np.where(options.closed_best, CLOSED, best_open)
    for enterprise in range(options.values.shape[0]):
        if options.flip_to_open[enterprise] >= 0:
            row = options.flip_to_open[enterprise]
            allocation[row] = best_open[row]
        if options.flip_to_closed[enterprise] >= 0:
            allocation[options.flip_to_closed[enterprise]] = CLOSED
    return allocation.tolist()


def test_stack_values_are_hand_computed_sums():
    # enterprise 0: two workloads; enterprise 1: one workload
    utilities = [[5.0, 3.0, 4.0],
                 [1.0, 2.0, 0.0],
                 [2.0, 1.0, 1.5]]
    owner = [0, 0, 1]
    values, allocations = reference(utilities, owner, 0, platform=1.0, peer=0.5)
    # closed: 5 + 1; open: max(3,4) + max(2,0) - 1 + 0.5; hybrid: 5 + 2 - 1 + 0.5
    assert values == pytest.approx([6.0, 5.5, 6.5])
    assert allocations[STACK_CLOSED] == {0: CLOSED, 1: CLOSED}
    assert allocations[STACK_OPEN] == {0: FINETUNED, 1: OPEN}
    assert allocations[STACK_HYBRID] == {0: CLOSED, 1: OPEN}
    # enterprise 1: closed 2; open 1.5 - 0.25 + 2; hybrid impossible with one workload
    values, allocations = reference(utilities, owner, 1, platform=0.25, peer=2.0)
    assert values == pytest.approx([2.0, 3.25, -INF])
    assert allocations[STACK_HYBRID] is None
    fast = every(utilities, owner, 2, platform=[1.0, 0.25], peer=[0.5, 2.0])
    np.testing.assert_allclose(fast.values, [[6.0, 5.5, 6.5], [2.0, 3.25, -INF]])
    assert hybrid_allocation(fast, owner)[:2] == [CLOSED, OPEN]


def test_hybrid_flip_to_open_picks_least_loss_workload():
    # every workload prefers closed; losses of moving to the best open option: 4, 0.5, 1
    utilities = [[5.0, 1.0, 0.0],
                 [4.0, 3.5, 0.0],
                 [6.0, 2.0, 5.0]]
    owner = [0, 0, 0]
    values, allocations = reference(utilities, owner, 0, platform=0.3, peer=0.1)
    assert allocations[STACK_HYBRID] == {0: CLOSED, 1: OPEN, 2: CLOSED}
    expected = [15.0, 1 + 3.5 + 5 - 0.3 + 0.1, 5 + 3.5 + 6 - 0.3 + 0.1]
    assert values == pytest.approx(expected)
    fast = every(utilities, owner, 1, platform=[0.3], peer=[0.1])
    assert fast.values[0].tolist() == pytest.approx(expected)
    assert fast.flip_to_open.tolist() == [1] and fast.flip_to_closed.tolist() == [-1]
    assert hybrid_allocation(fast, owner) == [CLOSED, OPEN, CLOSED]


def test_hybrid_flip_to_closed_picks_least_loss_workload():
    # every workload prefers an open option; losses of moving to closed: 3, 2, 0.25
    utilities = [[1.0, 4.0, 0.0],
                 [0.0, 1.0, 2.0],
                 [2.0, 2.25, 1.0]]
    owner = [0, 0, 0]
    values, allocations = reference(utilities, owner, 0)
    assert allocations[STACK_HYBRID] == {0: OPEN, 1: FINETUNED, 2: CLOSED}
    assert values[STACK_HYBRID] == pytest.approx(4 + 2 + 2)
    fast = every(utilities, owner, 1)
    assert fast.values[0, STACK_HYBRID] == pytest.approx(4 + 2 + 2)
    assert hybrid_allocation(fast, owner) == [OPEN, FINETUNED, CLOSED]


def test_hybrid_flip_tie_takes_first_workload_and_is_per_enterprise():
    # enterprise 0 ties (loss 1 and 1): the first is flipped; enterprise 1 flips its second
    utilities = [[3.0, 2.0, 0.0],
                 [3.0, 2.0, 0.0],
                 [3.0, 0.0, 0.0],
                 [3.0, 2.9, 0.0]]
    owner = [0, 0, 1, 1]
    first, first_allocations = reference(utilities, owner, 0)
    second, second_allocations = reference(utilities, owner, 1)
    assert first_allocations[STACK_HYBRID] == {0: OPEN, 1: CLOSED}
    assert second_allocations[STACK_HYBRID] == {2: CLOSED, 3: OPEN}
    assert [first[STACK_HYBRID], second[STACK_HYBRID]] == pytest.approx([5.0, 5.9])
    fast = every(utilities, owner, 2)
    assert hybrid_allocation(fast, owner) == [OPEN, CLOSED, CLOSED, OPEN]
    assert fast.values[:, STACK_HYBRID].tolist() == pytest.approx([5.0, 5.9])


def test_hybrid_infeasible_with_one_workload():
    values, _ = reference([[1.0, 5.0, 0.0]], [0], 0)
    assert np.isfinite(values[:2]).all() and values[STACK_HYBRID] == -INF
    fast = every([[1.0, 5.0, 0.0]], [0], 1)
    assert np.isfinite(fast.values[0, :2]).all() and fast.values[0, STACK_HYBRID] == -INF


def test_frozen_workloads_constrain_stacks():
    # enterprise 0: a frozen closed workload and a new one; enterprise 1: a frozen open workload
    # and a new one; enterprise 2: frozen closed and frozen fine-tuned
    utilities = [[1.0, 9.0, 0.0],   # frozen on closed, although open would be far better
                 [2.0, 1.0, 0.0],   # new, prefers closed
                 [0.0, 0.0, 7.0],   # frozen on open (plain), although fine-tuned is better
                 [1.0, 3.0, 0.0],   # new, prefers open
                 [1.0, 1.0, 5.0],   # frozen closed
                 [1.0, 1.0, 5.0]]   # frozen fine-tuned
    owner = [0, 0, 1, 1, 2, 2]
    movable = [False, True, False, True, False, False]
    deployment = [CLOSED, NOT_DEPLOYED, OPEN, NOT_DEPLOYED, CLOSED, FINETUNED]
    results = [reference(utilities, owner, enterprise, movable=movable, deployment=deployment)
               for enterprise in range(3)]
    (values0, allocations0), (values1, allocations1), (values2, allocations2) = results
    # a frozen closed workload rules out the open stack; a frozen open one the closed stack
    assert values0[STACK_OPEN] == -INF and values1[STACK_CLOSED] == -INF
    assert values2[STACK_CLOSED] == -INF and values2[STACK_OPEN] == -INF
    # frozen workloads keep their deployment under every feasible stack
    assert [allocations0[stack][0] for stack in (STACK_CLOSED, STACK_HYBRID)] == [CLOSED] * 2
    assert [allocations1[stack][2] for stack in (STACK_OPEN, STACK_HYBRID)] == [OPEN] * 2
    assert allocations2[STACK_HYBRID] == {4: CLOSED, 5: FINETUNED}
    assert values0[STACK_CLOSED] == pytest.approx(1 + 2)
    assert values1[STACK_OPEN] == pytest.approx(0 + 3)
    # hybrid: the new workload must supply the missing kind, whatever it prefers
    assert allocations0[STACK_HYBRID][1] == OPEN and values0[STACK_HYBRID] == pytest.approx(1 + 1)
    assert allocations1[STACK_HYBRID][3] == CLOSED and values1[STACK_HYBRID] == pytest.approx(0 + 1)
    assert values2[STACK_HYBRID] == pytest.approx(1 + 5)


def test_frozen_workload_is_never_flipped():
    # the frozen closed workload would lose least by opening, but only the movable one may move
    values, allocations = reference([[1.0, 0.9, 0.0], [5.0, 1.0, 0.0]], [0, 0], 0,
                                    movable=[False, True], deployment=[CLOSED, NOT_DEPLOYED])
    assert allocations[STACK_HYBRID] == {0: CLOSED, 1: OPEN}
    assert values[STACK_HYBRID] == pytest.approx(2.0)


def test_only_frozen_kind_without_movable_makes_hybrid_infeasible():
    values, _ = reference([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [0, 0], 0, movable=[False, False],
                          deployment=[CLOSED, CLOSED])
    assert values == [2.0, -INF, -INF]


def test_enterprise_without_workloads_has_no_feasible_stack():
    values, allocations = reference([[1.0, 2.0, 3.0]], [1], 0)
    assert values == [-INF] * 3 and allocations == [None] * 3
    fast = every([[1.0, 2.0, 3.0]], [1], 3)
    assert np.all(fast.values[[0, 2]] == -INF)
    assert np.isfinite(fast.values[1, :2]).all()


def test_migration_cost_spares_the_deployed_option_and_new_workloads():
    utilities = (np.array([1.0, 1.0, 1.0]), np.array([2.0, 2.0, 2.0]), np.array([3.0, 3.0, 3.0]))
    deployment = np.array([OPEN, NOT_DEPLOYED, CLOSED])
    moved = kernel.with_migration(utilities, deployment, np.array([0.5, 9.0, 1.0]))
    np.testing.assert_array_equal(np.stack(moved), [[0.5, 1.0, 1.0], [2.0, 2.0, 1.0],
                                                    [2.5, 3.0, 2.0]])
    # one workload at a time, as the reference path calls it
    assert [float(u) for u in kernel.with_migration((1.0, 2.0, 3.0), FINETUNED, 0.25)] == [
        0.75, 1.75, 3.0]


# --- logit choice ---------------------------------------------------------------------------

def softmax(values, scale):
    values = np.asarray(values, dtype=float)
    weights = np.exp((values - np.max(values)) / scale)
    return weights / weights.sum()


def test_logit_weights_are_softmax_and_infeasible_gets_zero():
    weights = kernel.logit_weights([1.0, 3.0, -INF], 2.0)
    assert weights[2] == 0.0
    np.testing.assert_allclose(weights / weights.sum(), softmax([1.0, 3.0, -INF], 2.0))
    rows = kernel.logit_weights(np.array([[0.0, 1.0, 2.0], [-INF, 5.0, 5.0]]), 1.0)
    np.testing.assert_allclose(rows[0] / rows[0].sum(), softmax([0, 1, 2], 1.0))
    np.testing.assert_allclose(rows[1], [0.0, 1.0, 1.0])
    # large values do not overflow
    assert np.isfinite(kernel.logit_weights([1e4, 1e4 + 1, 0.0], 0.5)).all()


@pytest.mark.parametrize("values, scale", [
    ([1.0, 0.0, -1.0], 1.0),
    ([0.3, 2.0, 1.0], 2.0),
    ([-INF, 1.0, 0.0], 0.7),
    ([2.0, -INF, 1.5], 1.0),
])
def test_draws_match_softmax(values, scale):
    draws = 200_000
    uniforms = np.random.default_rng(42).random(draws)
    weights = np.broadcast_to(kernel.logit_weights(values, scale), (draws, 3))
    chosen = kernel.draw_from_weights(weights, uniforms)
    frequencies = np.bincount(chosen, minlength=3) / draws
    expected = softmax(values, scale)
    # binomial standard error is at most 0.0011; five of them
    np.testing.assert_allclose(frequencies, expected, atol=0.0056)
    for stack in np.flatnonzero(np.isneginf(values)):
        assert frequencies[stack] == 0.0


def test_draw_thresholds_are_exact():
    weights = np.array([[1.0, 1.0, 2.0]] * 5)
    uniforms = np.array([0.0, 0.2499, 0.25, 0.4999, 0.9999])
    assert kernel.draw_from_weights(weights, uniforms).tolist() == [0, 0, 1, 1, 2]
    # a zero-weight stack is never drawn, even at its cumulative boundary
    weights = np.array([[1.0, 0.0, 1.0]] * 3 + [[0.0, 1.0, 1.0]] * 2)
    uniforms = np.array([0.0, 0.5, 0.999, 0.0, 0.5])
    assert kernel.draw_from_weights(weights, uniforms).tolist() == [0, 2, 2, 1, 2]
