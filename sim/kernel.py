"""The decision kernel: pure, vectorized functions for one quarter's choices.

State is struct-of-arrays: workloads are flat arrays, each enterprise's workloads contiguous
(``first_workload[i]:first_workload[i + 1]``), ``owner[w]`` the enterprise of workload ``w``.
Nothing here knows Mesa, files or plots; :class:`sim.agents.Enterprise` has a per-agent
reference path that calls the same elementwise formulas (:func:`option_utilities`,
:func:`platform_cost`, :func:`logit_weights`) and must reach the same decisions.

The article's forces, term by term, in a workload's utility of each option:

* capability value: stakes-weighted; open's capability relative to closed is
  :func:`open_relative_capability` (task parity, benchmark gap, and for work that needs frontier
  reasoning the frontier gap); fine-tuning adds value on domain-specific work as tooling matures;
* token cost: volume times price (closed API price vs self-hosted cost, which falls with hardware);
* perceived vendor risk (closed only): price changes, deprecations, policy changes, withdrawals;
* compliance penalty (closed only): data sensitivity times the regulatory pressure of the
  enterprise's region, felt fully by regulated sectors (data sovereignty, the EU AI Act);
* operational burden (open only): falls with in-house ML capacity and with tooling maturity.

A stack's utility is the sum of its workloads' utilities under the best allocation the stack
allows, minus the fixed open-platform cost, plus peer influence, minus switching cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPTIONS = ("closed", "open", "open_finetuned")
CLOSED, OPEN, FINETUNED = 0, 1, 2
STACKS = ("closed", "open", "hybrid")
STACK_CLOSED, STACK_OPEN, STACK_HYBRID = 0, 1, 2
NOT_DEPLOYED = -1  # a workload not (yet) placed, an enterprise with nothing deployed


def open_relative_capability(benchmark_gap, task_parity, frontier_gap, frontier_need,
                             gap_sensitivity, frontier_sensitivity):
    """Open models' capability as a share of closed models' on one workload.

    ``task_parity`` is the ceiling open reaches on typical enterprise tasks when the benchmark gap
    is closed (the article's 85-90%). Each MMLU point of benchmark gap costs a share
    ``gap_sensitivity``; for work needing complex multi-step reasoning (``frontier_need``) each
    point of the separate frontier gap costs ``frontier_sensitivity`` more::

        task_parity * exp(-gap_sensitivity * benchmark_gap
                          - frontier_sensitivity * frontier_gap * frontier_need)
    """
    return task_parity * np.exp(-gap_sensitivity * benchmark_gap
                                - frontier_sensitivity * frontier_gap * frontier_need)


def option_utilities(*, stakes, frontier_need, sensitivity, domain_specificity, volume,
                     taste_closed, taste_open, taste_finetuned,
                     closed_price, open_price, perceived_risk, risk_aversion,
                     regulatory_pressure, compliance_exposure, burden_factor,
                     signals, behaviour):
    """Utility of (closed, open, open_finetuned) for workloads; works on arrays and on scalars.

    ``closed_price``/``open_price`` are USD per million tokens, ``volume`` millions of tokens per
    quarter; ``compliance_exposure`` is 1 for regulated sectors and the unregulated share
    otherwise; ``burden_factor`` is :func:`burden_factor` of the enterprise.
    """
    b = behaviour
    relative = open_relative_capability(signals.benchmark_gap, signals.task_parity,
                                        signals.frontier_gap, frontier_need,
                                        b.gap_sensitivity, b.frontier_sensitivity)
    finetune_lift = b.finetune_gain * domain_specificity * signals.tooling_maturity
    capability_closed = b.capability_weight * stakes
    capability_open = b.capability_weight * stakes * relative
    capability_finetuned = b.capability_weight * stakes * (relative + finetune_lift)
    cost_closed = b.cost_weight * volume * closed_price / 1000.0
    cost_open = b.cost_weight * volume * open_price / 1000.0
    vendor_risk = b.vendor_risk_weight * risk_aversion * (b.base_vendor_risk + perceived_risk)
    compliance = b.compliance_weight * sensitivity * regulatory_pressure * compliance_exposure
    burden_open = b.ops_burden * burden_factor
    burden_finetuned = (b.ops_burden + b.finetune_burden) * burden_factor
    closed = (b.closed_preference + capability_closed - cost_closed - vendor_risk - compliance
              + b.workload_taste_sd * taste_closed)
    open_ = capability_open - cost_open - burden_open + b.workload_taste_sd * taste_open
    finetuned = (capability_finetuned - cost_open - burden_finetuned
                 + b.workload_taste_sd * taste_finetuned)
    return closed, open_, finetuned


def burden_factor(ml_capacity, tooling_maturity, behaviour):
    """Share of the self-hosting burden an enterprise still bears: in-house ML engineering and
    mature open tooling each remove part of it (the article's 'operational burden is real')."""
    return ((1.0 - behaviour.ml_capacity_relief * ml_capacity)
            * (1.0 - behaviour.tooling_relief * tooling_maturity))


def platform_cost(size_multiplier, ml_capacity, tooling_maturity, behaviour):
    """Fixed quarterly cost of running any open model at all; falls with size, ML capacity and
    tooling maturity. It makes low-volume self-hosting uneconomic (the article's break-even)."""
    return behaviour.platform_cost * size_multiplier * burden_factor(ml_capacity, tooling_maturity,
                                                                      behaviour)


def logit_weights(values, logit_scale):
    """Unnormalised multinomial-logit weights of stack values; infeasible (-inf) stacks get 0.

    Works on one enterprise's three values or on an (n, 3) array (row-wise).
    """
    values = np.asarray(values, dtype=float)
    best = np.max(values, axis=-1, keepdims=True)
    return np.exp((values - best) / logit_scale)


def draw_from_weights(weights, uniforms):
    """Pick, per row, the first stack whose cumulative weight exceeds ``uniform * total``."""
    cumulative = np.cumsum(weights, axis=-1)
    threshold = uniforms[..., None] * cumulative[..., -1:]
    return np.minimum((cumulative <= threshold).sum(axis=-1), weights.shape[-1] - 1)


@dataclass
class StackOptions:
    """Per enterprise, the value of each stack and the workload allocation that achieves it."""

    values: np.ndarray       # (n, 3) stack values; -inf where the stack is infeasible
    allocation: np.ndarray   # (W, 3) option of each workload under each stack


def _segment_first_minimum(loss, owner, n_enterprises):
    """Per enterprise, the index of its first workload with the smallest finite loss (or -1).

    ``owner`` must be sorted (each enterprise's workloads contiguous)."""
    chosen = np.full(n_enterprises, -1, dtype=np.int64)
    finite = np.flatnonzero(np.isfinite(loss))
    if finite.size == 0:
        return chosen
    owners = owner[finite]
    starts = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]]))
    minimum = np.minimum.reduceat(loss[finite], starts)
    at_minimum = finite[loss[finite] == np.repeat(minimum, np.diff(np.append(starts, finite.size)))]
    first = np.concatenate([[True], owner[at_minimum][1:] != owner[at_minimum][:-1]])
    chosen[owner[at_minimum[first]]] = at_minimum[first]
    return chosen


def _count(owner, mask, n_enterprises):
    return np.bincount(owner[mask], minlength=n_enterprises)


def stack_options(utilities, owner, n_enterprises, movable, deployment, platform, peer):
    """Value of each stack for every enterprise, and its best allocation.

    The workloads given are active ones, sorted by ``owner``. ``movable`` workloads may be
    (re)placed; the others keep ``deployment`` and make a stack infeasible if they do not fit
    it. A hybrid stack needs at least one closed and one open workload: when the unconstrained
    best has only one kind, the movable workload that loses least by switching kind is switched.
    ``platform`` is subtracted and ``peer`` added for open and hybrid stacks. Enterprises without
    workloads here get -inf for every stack.
    """
    n = n_enterprises
    u_closed, u_open, u_finetuned = utilities[:, CLOSED], utilities[:, OPEN], utilities[:, FINETUNED]
    best_open_option = np.where(u_finetuned > u_open, FINETUNED, OPEN).astype(np.int8)
    best_open = np.maximum(u_open, u_finetuned)
    best_any = np.maximum(u_closed, best_open)
    best_any_option = np.where(u_closed >= best_open, CLOSED, best_open_option).astype(np.int8)

    frozen = ~movable
    frozen_closed = _count(owner, frozen & (deployment == CLOSED), n) > 0
    frozen_open = _count(owner, frozen & (deployment > CLOSED), n) > 0
    has_workloads = np.bincount(owner, minlength=n) > 0

    allocation = np.empty((owner.size, 3), dtype=np.int8)
    allocation[:, STACK_CLOSED] = np.where(movable, CLOSED, deployment)
    allocation[:, STACK_OPEN] = np.where(movable, best_open_option, deployment)
    hybrid = np.where(movable, best_any_option, deployment)
    closed_count = _count(owner, hybrid == CLOSED, n)
    open_count = _count(owner, hybrid > CLOSED, n)
    to_closed = _segment_first_minimum(
        np.where(movable & (closed_count == 0)[owner], best_any - u_closed, np.inf), owner, n)
    to_open = _segment_first_minimum(
        np.where(movable & (open_count == 0)[owner], best_any - best_open, np.inf), owner, n)
    hybrid[to_closed[to_closed >= 0]] = CLOSED
    flip_open = to_open[to_open >= 0]
    hybrid[flip_open] = best_open_option[flip_open]
    allocation[:, STACK_HYBRID] = hybrid
    hybrid_feasible = (((closed_count > 0) & (open_count > 0))
                       | ((to_closed >= 0) & (open_count >= 2))
                       | ((to_open >= 0) & (closed_count >= 2)))

    rows = np.arange(owner.size)
    values = np.empty((n, 3))
    for stack in range(3):
        values[:, stack] = np.bincount(owner, weights=utilities[rows, allocation[:, stack]], minlength=n)
    values[:, STACK_OPEN] += peer - platform
    values[:, STACK_HYBRID] += peer - platform
    feasible = np.column_stack([has_workloads & ~frozen_open, has_workloads & ~frozen_closed,
                                has_workloads & hybrid_feasible])
    values[~feasible] = -np.inf
    return StackOptions(values=values, allocation=allocation)


def with_switching_cost(values, current_stack, switching):
    """Stack values less each enterprise's cost of leaving its current stack (zero where it has
    none): the inertia of re-platforming."""
    return values - switching[:, None] * (np.arange(3)[None, :] != current_stack[:, None])


@dataclass
class QuarterContext:
    """Everything one quarter's decisions depend on, prepared by the model (step 1-3, 6)."""

    signals: object              # SignalPaths of this quarter
    active: np.ndarray           # (W,) workload is in a portfolio this quarter
    deployment: np.ndarray       # (W,) current option, NOT_DEPLOYED for new workloads
    stack: np.ndarray            # (n,) current stack, NOT_DEPLOYED for enterprises new to AI
    closed_price: np.ndarray     # (n,) USD per million tokens from the enterprise's vendor
    open_price: float            # USD per million tokens self-hosted
    perceived_risk: np.ndarray   # (n,) perceived vendor risk
    platform: np.ndarray         # (n,) fixed open-platform cost
    peer: np.ndarray             # (n,) peer influence on open and hybrid stacks
    switching: np.ndarray        # (n,) cost of leaving the current stack (0 if none)
    review: np.ndarray           # (n,) periodic or forced review this quarter
    choice_uniform: np.ndarray   # (n,) pre-drawn uniforms for the logit choice


@dataclass
class QuarterDecision:
    utilities: np.ndarray | None  # (active workloads, 3); None from the reference path
    plans_to_expand: np.ndarray  # (n,) preferred allocation runs more open workloads than now
    deployment: np.ndarray       # (W,) after the quarter's choices
    stack: np.ndarray            # (n,)
    switched: np.ndarray         # (n,) an enterprise that ran a stack changed it


def workload_utilities(population, context: QuarterContext, behaviour, workloads) -> np.ndarray:
    """(len(workloads), 3) utility of each option for the given workload indices."""
    owner = population.owner[workloads]
    signals = context.signals
    exposure = np.where(population.regulated, 1.0, behaviour.unregulated_compliance_share)
    burden = burden_factor(population.ml_capacity, signals.tooling_maturity, behaviour)
    taste = population.taste[workloads]
    closed, open_, finetuned = option_utilities(
        stakes=population.stakes[workloads], frontier_need=population.frontier_need[workloads],
        sensitivity=population.sensitivity[workloads],
        domain_specificity=population.domain_specificity[workloads],
        volume=population.volume[workloads], taste_closed=taste[:, CLOSED],
        taste_open=taste[:, OPEN], taste_finetuned=taste[:, FINETUNED],
        closed_price=context.closed_price[owner], open_price=context.open_price,
        perceived_risk=context.perceived_risk[owner], risk_aversion=population.risk_aversion[owner],
        regulatory_pressure=signals.regulatory_pressure[population.region][owner],
        compliance_exposure=exposure[owner], burden_factor=burden[owner],
        signals=signals, behaviour=behaviour)
    return np.column_stack([closed, open_, finetuned])


def decide_quarter(population, context: QuarterContext, behaviour,
                   outlook: QuarterContext | None = None) -> QuarterDecision:
    """Steps 4, 5 and 7 of a quarter for every enterprise at once.

    Intentions: each enterprise's preferred stack (the highest value over all its active
    workloads, frictions aside) under the market it expects (``outlook``: the same quarter with
    the signals expected some quarters ahead; None plans on today's market), and whether that
    allocation holds more open workloads than it runs now.
    Choice: reviewing enterprises and those new to AI choose among all stacks by logit, paying
    the switching cost to leave their stack; the others place only their new workloads (existing
    ones stay put).
    """
    n = population.enterprises
    workloads = np.flatnonzero(context.active)
    owner = population.owner[workloads]
    deployment = context.deployment[workloads]
    utilities = workload_utilities(population, context, behaviour, workloads)

    every = stack_options(utilities, owner, n, np.ones(workloads.size, dtype=bool), deployment,
                          context.platform, context.peer)
    has_workloads = np.isfinite(every.values).any(axis=1)
    planned = every if outlook is None else stack_options(
        workload_utilities(population, outlook, behaviour, workloads), owner, n,
        np.ones(workloads.size, dtype=bool), deployment, outlook.platform, outlook.peer)
    preferred = np.argmax(planned.values, axis=1)
    preferred_allocation = planned.allocation[np.arange(workloads.size), preferred[owner]]
    open_now = _count(owner, deployment > CLOSED, n)
    open_preferred = _count(owner, preferred_allocation > CLOSED, n)
    existing = context.stack != NOT_DEPLOYED
    plans = existing & (open_preferred > open_now)

    new_workload = deployment == NOT_DEPLOYED
    free_choice = has_workloads & (context.review | ~existing)
    placing = existing & ~free_choice & (_count(owner, new_workload, n) > 0)
    in_placing = placing[owner]
    placed = stack_options(utilities[in_placing], owner[in_placing], n, new_workload[in_placing],
                           deployment[in_placing], context.platform, context.peer)
    values = np.where(free_choice[:, None],
                      with_switching_cost(every.values, context.stack, context.switching),
                      placed.values)
    chooser = free_choice | placing
    chosen = np.full(n, NOT_DEPLOYED, dtype=np.int64)
    chosen[chooser] = draw_from_weights(logit_weights(values[chooser], behaviour.logit_scale),
                                        context.choice_uniform[chooser])

    new_deployment = context.deployment.copy()
    moves_all = free_choice[owner]
    new_deployment[workloads[moves_all]] = every.allocation[np.flatnonzero(moves_all),
                                                            chosen[owner[moves_all]]]
    placed_workloads = np.flatnonzero(new_workload[in_placing])
    placed_owner = owner[in_placing][placed_workloads]
    new_deployment[workloads[in_placing][placed_workloads]] = placed.allocation[
        placed_workloads, chosen[placed_owner]]
    new_stack = np.where(chooser, chosen, context.stack).astype(np.int8)
    return QuarterDecision(utilities=utilities, plans_to_expand=plans, deployment=new_deployment,
                           stack=new_stack, switched=existing & (new_stack != context.stack))
