"""Pure-function tests of sim.core.kernel on tiny hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import kernel
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

def capability(gap=0.0, parity=0.875, frontier_gap=0.0, need=0.0, gap_sens=0.02, frontier_sens=0.03):
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


# --- stack_options ----------------------------------------------------------------------------

def options(utilities, owner, n, movable=None, deployment=None, platform=None, peer=None):
    utilities = np.asarray(utilities, dtype=float)
    owner = np.asarray(owner)
    w = owner.size
    movable = np.ones(w, dtype=bool) if movable is None else np.asarray(movable)
    deployment = np.full(w, NOT_DEPLOYED, dtype=np.int8) if deployment is None else np.asarray(
        deployment, dtype=np.int8)
    platform = np.zeros(n) if platform is None else np.asarray(platform, dtype=float)
    peer = np.zeros(n) if peer is None else np.asarray(peer, dtype=float)
    return kernel.stack_options(utilities, owner, n, movable, deployment, platform, peer)


def test_stack_values_are_hand_computed_sums():
    # enterprise 0: two workloads; enterprise 1: one workload
    utilities = [[5.0, 3.0, 4.0],
                 [1.0, 2.0, 0.0],
                 [2.0, 1.0, 1.5]]
    result = options(utilities, [0, 0, 1], 2, platform=[1.0, 0.25], peer=[0.5, 2.0])
    # closed: 5 + 1; open: max(3,4) + max(2,0) - 1 + 0.5; hybrid: 5 + 2 - 1 + 0.5
    assert result.values[0].tolist() == pytest.approx([6.0, 5.5, 6.5])
    assert result.allocation[:2, STACK_CLOSED].tolist() == [CLOSED, CLOSED]
    assert result.allocation[:2, STACK_OPEN].tolist() == [FINETUNED, OPEN]
    assert result.allocation[:2, STACK_HYBRID].tolist() == [CLOSED, OPEN]
    # enterprise 1: closed 2; open 1.5 - 0.25 + 2; hybrid impossible with one workload
    assert result.values[1, STACK_CLOSED] == pytest.approx(2.0)
    assert result.values[1, STACK_OPEN] == pytest.approx(3.25)
    assert result.values[1, STACK_HYBRID] == -INF


def test_hybrid_flip_to_open_picks_least_loss_workload():
    # every workload prefers closed; losses of moving to the best open option: 4, 0.5, 1
    utilities = [[5.0, 1.0, 0.0],
                 [4.0, 3.5, 0.0],
                 [6.0, 2.0, 5.0]]
    result = options(utilities, [0, 0, 0], 1, platform=[0.3], peer=[0.1])
    assert result.allocation[:, STACK_HYBRID].tolist() == [CLOSED, OPEN, CLOSED]
    assert result.values[0, STACK_HYBRID] == pytest.approx(5 + 3.5 + 6 - 0.3 + 0.1)
    assert result.values[0, STACK_CLOSED] == pytest.approx(15.0)
    assert result.values[0, STACK_OPEN] == pytest.approx(1 + 3.5 + 5 - 0.3 + 0.1)


def test_hybrid_flip_to_closed_picks_least_loss_workload():
    # every workload prefers an open option; losses of moving to closed: 3, 2, 0.25
    utilities = [[1.0, 4.0, 0.0],
                 [0.0, 1.0, 2.0],
                 [2.0, 2.25, 1.0]]
    result = options(utilities, [0, 0, 0], 1)
    assert result.allocation[:, STACK_HYBRID].tolist() == [OPEN, FINETUNED, CLOSED]
    assert result.values[0, STACK_HYBRID] == pytest.approx(4 + 2 + 2)


def test_hybrid_flip_tie_takes_first_workload_and_is_per_enterprise():
    # enterprise 0 ties (loss 1 and 1): the first is flipped; enterprise 1 flips its second
    utilities = [[3.0, 2.0, 0.0],
                 [3.0, 2.0, 0.0],
                 [3.0, 0.0, 0.0],
                 [3.0, 2.9, 0.0]]
    result = options(utilities, [0, 0, 1, 1], 2)
    assert result.allocation[:, STACK_HYBRID].tolist() == [OPEN, CLOSED, CLOSED, OPEN]
    assert result.values[:, STACK_HYBRID] == pytest.approx([5.0, 5.9])


def test_hybrid_infeasible_with_one_workload():
    result = options([[1.0, 5.0, 0.0]], [0], 1)
    assert np.isfinite(result.values[0, :2]).all()
    assert result.values[0, STACK_HYBRID] == -INF


def test_frozen_workloads_constrain_stacks():
    # enterprise 0: a frozen closed workload and a new one; enterprise 1: a frozen open workload
    # and a new one; enterprise 2: frozen closed and frozen fine-tuned
    utilities = [[1.0, 9.0, 0.0],   # frozen on closed, although open would be far better
                 [2.0, 1.0, 0.0],   # new, prefers closed
                 [0.0, 0.0, 7.0],   # frozen on open (plain), although fine-tuned is better
                 [1.0, 3.0, 0.0],   # new, prefers open
                 [1.0, 1.0, 5.0],   # frozen closed
                 [1.0, 1.0, 5.0]]   # frozen fine-tuned
    movable = [False, True, False, True, False, False]
    deployment = [CLOSED, NOT_DEPLOYED, OPEN, NOT_DEPLOYED, CLOSED, FINETUNED]
    result = options(utilities, [0, 0, 1, 1, 2, 2], 3, movable=movable, deployment=deployment)
    values, allocation = result.values, result.allocation
    # a frozen closed workload rules out the open stack; a frozen open one the closed stack
    assert values[0, STACK_OPEN] == -INF and values[1, STACK_CLOSED] == -INF
    assert values[2, STACK_CLOSED] == -INF and values[2, STACK_OPEN] == -INF
    # frozen workloads keep their deployment under every stack
    assert allocation[0].tolist() == [CLOSED] * 3
    assert allocation[2].tolist() == [OPEN] * 3
    assert allocation[4, STACK_HYBRID] == CLOSED and allocation[5, STACK_HYBRID] == FINETUNED
    assert values[0, STACK_CLOSED] == pytest.approx(1 + 2)
    assert values[1, STACK_OPEN] == pytest.approx(0 + 3)
    # hybrid: the new workload must supply the missing kind, whatever it prefers
    assert allocation[1, STACK_HYBRID] == OPEN and values[0, STACK_HYBRID] == pytest.approx(1 + 1)
    assert allocation[3, STACK_HYBRID] == CLOSED and values[1, STACK_HYBRID] == pytest.approx(0 + 1)
    assert values[2, STACK_HYBRID] == pytest.approx(1 + 5)


def test_frozen_workload_is_never_flipped():
    # the frozen closed workload would lose least by opening, but only the movable one may move
    utilities = [[1.0, 0.9, 0.0],
                 [5.0, 1.0, 0.0]]
    result = options(utilities, [0, 0], 1, movable=[False, True], deployment=[CLOSED, NOT_DEPLOYED])
    assert result.allocation[:, STACK_HYBRID].tolist() == [CLOSED, OPEN]
    assert result.values[0, STACK_HYBRID] == pytest.approx(2.0)


def test_only_frozen_kind_without_movable_makes_hybrid_infeasible():
    result = options([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [0, 0], 1, movable=[False, False],
                     deployment=[CLOSED, CLOSED])
    assert result.values[0].tolist() == [2.0, -INF, -INF]


def test_enterprise_without_workloads_has_no_feasible_stack():
    result = options([[1.0, 2.0, 3.0]], [1], 3)
    assert np.all(result.values[[0, 2]] == -INF)
    assert np.isfinite(result.values[1, :2]).all()


def test_switching_cost_spares_the_current_stack():
    values = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, -INF]])
    current = np.array([STACK_OPEN, NOT_DEPLOYED, STACK_CLOSED])
    result = kernel.with_switching_cost(values, current, np.array([0.5, 0.0, 1.0]))
    np.testing.assert_array_equal(result, [[0.5, 2.0, 2.5], [1.0, 2.0, 3.0], [1.0, 1.0, -INF]])


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
