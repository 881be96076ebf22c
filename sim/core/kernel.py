"""The decision kernel: pure, vectorized functions for one quarter's choices.

State is struct-of-arrays: workloads are flat arrays, each enterprise's workloads contiguous
(``first_workload[i]:first_workload[i + 1]``), ``owner[w]`` the enterprise of workload ``w``.
Nothing here knows Mesa, files or plots.

Each formula is stated twice. Readably, in the per-agent reference path
(:meth:`sim.core.agents.Enterprise.decide` with :func:`sim.core.agents.stack_values` and
:func:`sim.core.agents.best_allocation`, on this module's elementwise :func:`option_utilities`,
:func:`burden_factor`, :func:`logit_weights` and :func:`draw_from_weights`); and arranged for
speed in :func:`decide_quarter` (blocks of enterprises whose arrays stay in the CPU cache,
workloads in arrival order, constant terms computed once; see :class:`KernelCache`), with every
floating-point operation in the same order, so both paths reach bit-identical decisions. Tests
compare the two every quarter.

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
                     taste_closed, taste_open, taste_finetuned, open_affinity,
                     closed_price, open_price, perceived_risk, risk_aversion,
                     regulatory_pressure, compliance_exposure, burden_factor,
                     signals, behaviour):
    """Utility of (closed, open, open_finetuned) for workloads; works on arrays and on scalars.

    ``closed_price``/``open_price`` are USD per million tokens, ``volume`` millions of tokens per
    quarter; ``compliance_exposure`` is 1 for regulated sectors and the unregulated share
    otherwise; ``burden_factor`` is :func:`burden_factor` of the enterprise; ``open_affinity``
    is the enterprise's persistent standard-normal leaning toward running open models (strategy,
    culture, past choices), which makes open use cluster in some enterprises.
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
    affinity = b.open_affinity_sd * open_affinity
    open_ = (capability_open - cost_open - burden_open + b.workload_taste_sd * taste_open
             + affinity)
    finetuned = (capability_finetuned - cost_open - burden_finetuned
                 + b.workload_taste_sd * taste_finetuned + affinity)
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


def with_switching_cost(values, current_stack, switching):
    """Stack values less each enterprise's cost of leaving its current stack (zero where it has
    none): the inertia of re-platforming."""
    return values - switching[:, None] * (np.arange(3)[None, :] != current_stack[:, None])


@dataclass
class QuarterContext:
    """Everything one quarter's decisions depend on, prepared by the model (step 1-3, 6)."""

    signals: object              # SignalPaths of this quarter
    active: np.ndarray           # (W,) workload is in a portfolio: arrival_quarter <= quarter
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
    plans_to_expand: np.ndarray  # (n,) preferred allocation runs more open workloads than now
    deployment: np.ndarray       # (W,) after the quarter's choices
    stack: np.ndarray            # (n,)
    switched: np.ndarray         # (n,) an enterprise that ran a stack changed it


def decide_quarter(population, context: QuarterContext, behaviour,
                   outlook: QuarterContext | None = None,
                   cache: KernelCache | None = None) -> QuarterDecision:
    """Steps 4, 5 and 7 of a quarter for every enterprise at once.

    Intentions: each enterprise's preferred stack (the highest value over all its active
    workloads, frictions aside) under the market it expects (``outlook``: the same quarter with
    the signals expected some quarters ahead; None plans on today's market), and whether that
    allocation holds more open workloads than it runs now.
    Choice: reviewing enterprises and those new to AI choose among all stacks by logit, paying
    the switching cost to leave their stack; the others place only their new workloads (existing
    ones stay put).

    This is the arithmetic of :meth:`sim.core.agents.Enterprise.decide` rearranged for speed, with
    the same floating-point operations in the same order, so the decisions are exactly those of
    the reference path:

    * every decision belongs to one enterprise, so enterprises are processed in blocks of
      contiguous workloads (:class:`KernelCache`), small enough that the block's arrays stay in
      the CPU cache instead of streaming a million-element temporary per operation; within a
      block the workloads are kept in arrival order, so the quarter's active ones are a prefix
      (``context.active`` must be ``arrival_quarter <= quarter``, as the model builds it);
    * terms that do not change during a run are computed once (``KernelCache``), and open's
      relative capability is kept while the signals it depends on hold still;
    * only what the decisions need is computed: for instance the hybrid fix needs the least loss
      per enterprise, not a per-stack allocation array.
    """
    if cache is None or not cache.serves(population, behaviour):
        cache = KernelCache(population, behaviour)
    capability_now = cache.capability(context, "now")
    capability_outlook = None if outlook is None else cache.capability(outlook, "outlook")
    plans = np.zeros(population.enterprises, dtype=bool)
    stack = context.stack.copy()
    deployment = context.deployment.copy()
    for block in cache.blocks:
        _decide_block(block, context, outlook, behaviour, capability_now, capability_outlook,
                      plans, stack, deployment)
    existing = context.stack != NOT_DEPLOYED
    return QuarterDecision(plans_to_expand=plans, deployment=deployment,
                           stack=stack, switched=existing & (stack != context.stack))


# --- the fast path's machinery ----------------------------------------------------------------

BLOCK_WORKLOADS = 1 << 17   # workloads per block: a block's arrays stay in the CPU cache


@dataclass
class Block:
    """Enterprises ``enterprise_slice`` and their workloads ``workload_slice`` (contiguous).

    Inside the kernel a block's workloads are kept in arrival order (stably, so each
    enterprise's stay in workload order): the active workloads of a quarter, those arrived by
    then, are a prefix, and every per-workload term is a slice instead of a gather."""

    enterprise_slice: slice
    workload_slice: slice
    start: int               # where the block's workloads begin in the kernel's order
    order: np.ndarray        # (W_b,) positions in the block (workload order), in arrival order
    arrival: np.ndarray      # (W_b,) arrival quarter, in arrival order
    owner: np.ndarray        # (W_b,) enterprise relative to the block, in arrival order
    arrived: np.ndarray      # (quarters + 1, m): workloads of each enterprise arrived by a quarter
    enterprise_arrays: dict  # per-enterprise population arrays, sliced to the block
    terms: dict              # KernelCache.terms, sliced to the block (arrival order)


@dataclass
class ActiveWorkloads:
    """The active workloads of one block: the first ``order.size`` in its arrival order."""

    order: np.ndarray    # (K,) their positions in the block (workload order)
    owner: np.ndarray    # (K,) enterprise of each, relative to the block
    count: np.ndarray    # (m,) active workloads per enterprise
    terms: dict          # the block's terms for these workloads


class KernelCache:
    """What the vectorized kernel keeps between the quarters of one model.

    * The blocks: contiguous runs of enterprises with about :data:`BLOCK_WORKLOADS` workloads,
      each with its workloads in arrival order (:class:`Block`).
    * Terms of the utility formula that do not change during a run (a behaviour constant times a
      workload attribute), each computed exactly as :func:`option_utilities` computes it, for all
      workloads once, in the blocks' arrival order.
    * Open's relative capability and its capability value for every workload, computed once the
      signals they depend on (benchmark gap, task parity, frontier gap) hold still for a second
      quarter and kept while they do (the burn-in; the projection once the gap has closed).
    """

    def __init__(self, population, behaviour, block_workloads: int = BLOCK_WORKLOADS):
        b = behaviour
        self.population, self.behaviour = population, behaviour
        first, arrival = population.first_workload, population.arrival_quarter
        cuts = np.searchsorted(first, np.arange(block_workloads, first[-1], block_workloads))
        bounds = np.unique(np.concatenate([[0], cuts, [population.enterprises]])).tolist()
        spans = [
            (e0, e1, int(first[e0]), int(first[e1])) for e0, e1 in zip(bounds[:-1], bounds[1:])
        ]
        small = arrival.astype(np.uint16) if arrival.size and arrival.max() < 2**16 else arrival
        orders = [np.argsort(small[w0:w1], kind="stable")       # (a radix sort on uint16)
                  for _, _, w0, w1 in spans]
        kernel_order = np.concatenate([order + w0 for order, (_, _, w0, _) in zip(orders, spans)])
        owner = population.owner.take(kernel_order).astype(np.intp)
        capability = b.capability_weight * population.stakes.take(kernel_order)
        exposure = np.where(population.regulated, 1.0, b.unregulated_compliance_share)
        taste = [population.taste[:, option].take(kernel_order) for option in range(3)]
        self.terms = {
            "capability": capability,
            "closed_base": b.closed_preference + capability,
            "frontier_need": population.frontier_need.take(kernel_order),
            "finetune_gain": b.finetune_gain * population.domain_specificity.take(kernel_order),
            "cost": b.cost_weight * population.volume.take(kernel_order),
            "compliance": b.compliance_weight * population.sensitivity.take(kernel_order),
            "exposure": exposure.take(owner),
            "taste_closed": np.multiply(b.workload_taste_sd, taste[CLOSED], out=taste[CLOSED]),
            "taste_open": np.multiply(b.workload_taste_sd, taste[OPEN], out=taste[OPEN]),
            "taste_finetuned": np.multiply(b.workload_taste_sd, taste[FINETUNED],
                                           out=taste[FINETUNED]),
            "affinity": b.open_affinity_sd * population.open_affinity.take(owner),
        }
        span = int(arrival.max()) + 1 if arrival.size else 1
        self.blocks = []
        for (e0, e1, w0, w1), order in zip(spans, orders):
            inside = slice(w0, w1)
            cell = arrival[inside].astype(np.int64) * (e1 - e0) + (population.owner[inside] - e0)
            arrivals = np.bincount(cell, minlength=span * (e1 - e0)).reshape(span, e1 - e0)
            self.blocks.append(Block(
                enterprise_slice=slice(e0, e1), workload_slice=inside, start=w0, order=order,
                arrival=arrival[inside].take(order), owner=owner[inside] - e0,
                arrived=np.cumsum(arrivals, axis=0),
                enterprise_arrays={"ml_capacity": population.ml_capacity[e0:e1],
                            "risk_aversion": population.risk_aversion[e0:e1],
                            "region": population.region[e0:e1]},
                terms={name: values[inside] for name, values in self.terms.items()}))
        self._last_key: dict[str, tuple] = {}
        self._capability: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def serves(self, population, behaviour) -> bool:
        return self.population is population and self.behaviour is behaviour

    def capability(
        self, context: QuarterContext, role: str
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(relative capability, open capability value) of every workload under this context's
        signals, if they held still since the last quarter this role was asked; else None (the
        blocks compute them for their active workloads only)."""
        signals = context.signals
        key = (
            float(signals.benchmark_gap),
            float(signals.task_parity),
            float(signals.frontier_gap),
        )
        previous, self._last_key[role] = self._last_key.get(role), key
        if key != previous:
            return None
        if key not in self._capability:
            if len(self._capability) >= 2:
                self._capability.pop(next(iter(self._capability)))
            relative = _relative_capability(self.terms["frontier_need"], signals, self.behaviour)
            self._capability[key] = (relative, self.terms["capability"] * relative)
        return self._capability[key]


def _relative_capability(frontier_need, signals, behaviour) -> np.ndarray:
    """:func:`open_relative_capability`, operation by operation."""
    b = behaviour
    relative = np.multiply(frontier_need, b.frontier_sensitivity * signals.frontier_gap)
    np.subtract(-b.gap_sensitivity * signals.benchmark_gap, relative, out=relative)
    np.exp(relative, out=relative)
    np.multiply(signals.task_parity, relative, out=relative)
    return relative


def _active(block: Block, context: QuarterContext) -> ActiveWorkloads | None:
    """The block's active workloads: ``context.active`` must hold the workloads arrived by the
    quarter (``arrival_quarter <= quarter``), as the model builds it."""
    size = int(np.count_nonzero(context.active[block.workload_slice]))
    if size == 0:
        return None
    arrival = block.arrival
    quarter = arrival[size - 1]
    if size < arrival.size and arrival[size] <= quarter:
        raise ValueError("QuarterContext.active must be the workloads with arrival_quarter <= "
                         "the quarter")
    return ActiveWorkloads(order=block.order[:size], owner=block.owner[:size],
                           count=block.arrived[quarter],
                           terms={name: values[:size] for name, values in block.terms.items()})


def _decide_block(block: Block, context: QuarterContext, outlook, behaviour, capability_now,
                  capability_outlook, plans, stack, deployment_out) -> None:
    """:func:`decide_quarter` for one block; writes its results into the output arrays."""
    active = _active(block, context)
    if active is None:
        return   # no active workload: no plans, no choice, nothing moves
    e, w = block.enterprise_slice, block.workload_slice
    m = e.stop - e.start
    owner, count = active.owner, active.count
    deployment = context.deployment[w].take(active.order)
    current_stack = context.stack[e]
    open_now = segment_count(deployment > CLOSED, owner, m)
    new_position = np.flatnonzero(deployment == NOT_DEPLOYED)
    new_owner = owner.take(new_position)
    new_count = np.bincount(new_owner, minlength=m)
    existing = current_stack != NOT_DEPLOYED
    # 7. (who chooses) free choice: reviewing, or new to AI; placing: new workloads only
    free_choice = (count > 0) & (context.review[e] | ~existing)
    placing = existing & ~free_choice & (new_count > 0)
    chooser = free_choice | placing

    # 4. every workload's utilities and every enterprise's stack values
    now = every_options(_option_utilities(block, active, context, behaviour, capability_now),
                         active, m, context.platform[e], context.peer[e])
    planned = now if outlook is None else every_options(
        _option_utilities(block, active, outlook, behaviour, capability_outlook),
        active, m, outlook.platform[e], outlook.peer[e])
    # 5. intentions: open workloads in the preferred allocation against those running now
    preferred = np.argmax(planned.values, axis=1)
    open_preferred = np.select(
        [preferred == STACK_OPEN, preferred == STACK_HYBRID],
        [count, planned.open_count + (planned.flip_to_open >= 0) - (planned.flip_to_closed >= 0)],
        0)
    plans[e] = existing & (open_preferred > open_now)
    if not chooser.any():
        return

    # 7. the logit choice among the stacks each chooser may take
    placed = _placed_options(now, deployment, active, m, placing, open_now, new_position,
                             new_owner, new_count, context.platform[e], context.peer[e])
    values = np.where(free_choice[:, None],
                      with_switching_cost(now.values, current_stack, context.switching[e]),
                      placed.values)
    chosen = np.full(m, NOT_DEPLOYED, dtype=np.int64)
    chosen[chooser] = draw_from_weights(logit_weights(values[chooser], behaviour.logit_scale),
                                        context.choice_uniform[e][chooser])
    stack[e][chooser] = chosen[chooser]

    # the chosen allocation: every workload of a free chooser, the new ones of a placer
    finetune_better = now.utilities[FINETUNED] > now.utilities[OPEN]
    best_open_option = finetune_better.view(np.uint8) + np.uint8(OPEN)
    best_any_option = best_open_option * ~now.closed_best
    stack_of = np.where(free_choice, chosen, NOT_DEPLOYED).astype(np.int8).take(owner)
    option = best_open_option * (stack_of == STACK_OPEN)
    option += best_any_option * (stack_of == STACK_HYBRID)
    _apply_flips(option, best_open_option, now.flip_to_open, now.flip_to_closed,
                 free_choice & (chosen == STACK_HYBRID))
    moved = deployment.copy()
    np.copyto(moved, option.view(np.int8), where=free_choice.take(owner))
    placing_new = new_position[placing.take(new_owner)]
    placing_stack = chosen.take(owner.take(placing_new))
    moved[placing_new] = np.select(
        [placing_stack == STACK_OPEN, placing_stack == STACK_HYBRID],
        [best_open_option.take(placing_new), best_any_option.take(placing_new)],
        CLOSED).astype(np.int8)
    _apply_flips(moved.view(np.uint8), best_open_option, placed.flip_to_open, placed.flip_to_closed,
                 placing & (chosen == STACK_HYBRID))
    deployment_out[w][active.order] = moved


def _option_utilities(block: Block, active: ActiveWorkloads, context: QuarterContext, behaviour,
                      capability) -> np.ndarray:
    """(3, K) utility of (closed, open, open_finetuned) for a block's active workloads:
    :func:`option_utilities` written with the constant terms of :class:`KernelCache` and the
    per-enterprise terms taken per workload; same operations, same order, so bit-identical."""
    b, signals, terms, owner = behaviour, context.signals, active.terms, active.owner
    e, enterprise = block.enterprise_slice, block.enterprise_arrays
    size = owner.size
    utilities = np.empty((3, size))
    closed, open_, finetuned = utilities
    # capability: open's relative capability, then the capability values
    lift = np.multiply(terms["finetune_gain"], signals.tooling_maturity)     # finetune_lift
    if capability is None:
        relative = _relative_capability(terms["frontier_need"], signals, b)
        np.multiply(terms["capability"], relative, out=open_)                # capability_open
        relative += lift
    else:
        inside = slice(block.start, block.start + size)
        relative = np.add(capability[0][inside], lift, out=lift)
        open_[:] = capability[1][inside]
    np.multiply(terms["capability"], relative, out=finetuned)               # capability_finetuned
    # token cost of open (one price for all), then burden, then taste
    cost_open = np.multiply(terms["cost"], context.open_price, out=relative)
    cost_open /= 1000.0
    open_ -= cost_open
    finetuned -= cost_open
    burden = burden_factor(enterprise["ml_capacity"], signals.tooling_maturity, b).take(owner)
    open_ -= np.multiply(b.ops_burden, burden, out=cost_open)
    finetuned -= np.multiply(b.ops_burden + b.finetune_burden, burden, out=burden)
    open_ += terms["taste_open"]
    open_ += terms["affinity"]
    finetuned += terms["taste_finetuned"]
    finetuned += terms["affinity"]
    # closed: preference and capability, token cost, vendor risk, compliance, taste
    cost_closed = np.multiply(terms["cost"], context.closed_price[e].take(owner), out=relative)
    cost_closed /= 1000.0
    np.subtract(terms["closed_base"], cost_closed, out=closed)
    vendor_risk = (b.vendor_risk_weight * enterprise["risk_aversion"]
                   * (b.base_vendor_risk + context.perceived_risk[e]))
    closed -= vendor_risk.take(owner)
    pressure = np.asarray(signals.regulatory_pressure)[enterprise["region"]]
    compliance = np.multiply(terms["compliance"], pressure.take(owner), out=relative)
    compliance *= terms["exposure"]
    closed -= compliance
    closed += terms["taste_closed"]
    return utilities


@dataclass
class EveryOptions:
    """Stack values with every active workload movable, and what building them found."""

    utilities: np.ndarray        # (3, K)
    best_open: np.ndarray        # (K,) utility of the better open option
    closed_best: np.ndarray      # (K,) closed is (one of) the best options
    best_any: np.ndarray         # (K,) utility of the best option
    open_count: np.ndarray       # (m,) workloads whose best option is open
    flip_to_open: np.ndarray     # (m,) position switched to open to make a hybrid, or -1
    flip_to_closed: np.ndarray   # (m,) position switched to closed to make a hybrid, or -1
    values: np.ndarray           # (m, 3)


def every_options(utilities, active: ActiveWorkloads, n, platform, peer) -> EveryOptions:
    """Every enterprise's stack values with all its active workloads movable (free choice and
    intentions): :func:`sim.core.agents.stack_values` for a whole block at once.

    ``utilities`` is (3, K) for the active workloads; ``platform`` and ``peer`` are per
    enterprise. The hybrid fix switches, in an enterprise whose workloads all prefer one kind, the
    first workload that loses least by switching kind."""
    closed, open_, finetuned = utilities
    owner, count = active.owner, active.count
    best_open = np.maximum(open_, finetuned)
    closed_best = closed >= best_open
    best_any = np.maximum(closed, best_open)
    closed_count = segment_count(closed_best, owner, n)
    open_count = count - closed_count
    wants_open = (open_count == 0) & (closed_count >= 2)
    wants_closed = (closed_count == 0) & (open_count >= 2)
    candidates = np.flatnonzero((wants_open | wants_closed).take(owner))
    flip = _first_minimum(_loss(closed, best_open, candidates), candidates,
                          owner.take(candidates), n)
    flip_to_open = np.where(wants_open, flip, -1)
    flip_to_closed = np.where(wants_closed, flip, -1)

    values = np.empty((n, 3))
    values[:, STACK_CLOSED] = segment_sum(closed, owner, n)
    values[:, STACK_OPEN] = segment_sum(best_open, owner, n)
    values[:, STACK_HYBRID] = _hybrid_sum(best_any, owner, n, flip_to_open, best_open,
                                          flip_to_closed, closed)
    shared = peer - platform
    values[:, STACK_OPEN] += shared
    values[:, STACK_HYBRID] += shared
    hybrid_feasible = ((closed_count > 0) & (open_count > 0)) | wants_open | wants_closed
    values[~hybrid_feasible, STACK_HYBRID] = -np.inf
    values[count == 0] = -np.inf
    return EveryOptions(utilities=utilities, best_open=best_open, closed_best=closed_best,
                        best_any=best_any, open_count=open_count, flip_to_open=flip_to_open,
                        flip_to_closed=flip_to_closed, values=values)


def _hybrid_sum(per_workload, owner, n, to_open, open_value, to_closed, closed_value):
    """Per-enterprise sum of ``per_workload`` with the flipped workloads' values replaced
    (temporarily, in place: no copy of the long array)."""
    to_open, to_closed = to_open[to_open >= 0], to_closed[to_closed >= 0]
    saved_open, saved_closed = per_workload[to_open], per_workload[to_closed]
    per_workload[to_open] = open_value[to_open]
    per_workload[to_closed] = closed_value[to_closed]
    try:
        return segment_sum(per_workload, owner, n)
    finally:
        per_workload[to_open] = saved_open
        per_workload[to_closed] = saved_closed


@dataclass
class PlacedOptions:
    values: np.ndarray           # (m, 3); meaningful for placing enterprises
    flip_to_open: np.ndarray     # (m,) position (among the active workloads) or -1
    flip_to_closed: np.ndarray


def _placed_options(every: EveryOptions, deployment, active: ActiveWorkloads, n, placing,
                    open_now, new_position, new_owner, new_count, platform, peer) -> PlacedOptions:
    """:func:`sim.core.agents.stack_values` for the placing enterprises, only their new workloads
    movable.

    The closed stack is feasible only if every placed workload runs closed, and then its value is
    the sum of closed utilities, exactly the free choice's closed value. The open and hybrid
    values sum the deployed option's utility for placed workloads and the stack's best for new
    ones, in workload order; the hybrid fix may switch only a new workload.
    """
    count = active.count
    closed_now = count - open_now - new_count
    new_closed = np.bincount(new_owner, weights=every.closed_best.take(new_position),
                             minlength=n).astype(np.int64)
    closed_count = closed_now + new_closed
    open_count = open_now + new_count - new_closed
    wants_open = placing & (open_count == 0) & (closed_count >= 2)
    wants_closed = placing & (closed_count == 0) & (open_count >= 2)
    candidates = (wants_open | wants_closed).take(new_owner)
    flip = _first_minimum(_loss(every.utilities[CLOSED], every.best_open, new_position[candidates]),
                          new_position[candidates], new_owner[candidates], n)
    flip_to_open = np.where(wants_open, flip, -1)
    flip_to_closed = np.where(wants_closed, flip, -1)

    values = np.full((n, 3), -np.inf)
    closed_feasible = placing & (open_now == 0)
    values[closed_feasible, STACK_CLOSED] = every.values[closed_feasible, STACK_CLOSED]
    rows = np.flatnonzero(placing.take(active.owner))
    if rows.size:
        owner = active.owner.take(rows)
        dep = deployment.take(rows)
        flat = np.maximum(dep, CLOSED).astype(np.intp)
        flat *= active.owner.size
        flat += rows
        current = every.utilities.ravel().take(flat)        # utility of the deployed option
        new_here = np.flatnonzero(dep == NOT_DEPLOYED)
        new_rows = rows.take(new_here)
        as_open = current.copy()
        as_open[new_here] = every.best_open.take(new_rows)
        current[new_here] = every.best_any.take(new_rows)
        # positions of the flips within ``rows`` (both are ascending)
        to_open = np.searchsorted(rows, flip_to_open[flip_to_open >= 0])
        to_closed = np.searchsorted(rows, flip_to_closed[flip_to_closed >= 0])
        current[to_open] = every.best_open.take(rows.take(to_open))
        current[to_closed] = every.utilities[CLOSED].take(rows.take(to_closed))
        shared = peer - platform
        open_value = segment_sum(as_open, owner, n) + shared
        hybrid_value = segment_sum(current, owner, n) + shared
        open_feasible = placing & (closed_now == 0)
        values[open_feasible, STACK_OPEN] = open_value[open_feasible]
        hybrid_feasible = placing & (
            ((closed_count > 0) & (open_count > 0)) | wants_open | wants_closed
        )
        values[hybrid_feasible, STACK_HYBRID] = hybrid_value[hybrid_feasible]
    return PlacedOptions(values=values, flip_to_open=flip_to_open, flip_to_closed=flip_to_closed)


def _apply_flips(option, best_open_option, to_open, to_closed, where):
    """Write the hybrid fix into ``option`` (uint8, per active workload) for enterprises
    ``where``."""
    to_open = to_open[where & (to_open >= 0)]
    option[to_open] = best_open_option[to_open]
    option[to_closed[where & (to_closed >= 0)]] = CLOSED


def segment_sum(values, owner, n) -> np.ndarray:
    """Per enterprise (0..n-1), the sum of ``values`` over its rows, added one by one in row
    order: the same sums as ``np.bincount(owner, weights=values)`` (and as the reference path's
    running total), which takes longer."""
    total = np.zeros(n)
    np.add.at(total, owner, values)
    return total


def segment_count(mask, owner, n) -> np.ndarray:
    """Per enterprise (0..n-1), how many of its rows ``mask`` holds."""
    return np.bincount(owner, weights=mask, minlength=n).astype(np.int64)


def _loss(closed, best_open, rows) -> np.ndarray:
    """|closed - best open| of the given workloads: for an enterprise whose workloads all prefer
    one kind, what switching a workload to the other kind loses (exactly the reference path's
    ``best - utility[CLOSED]`` or ``best - utility[best_open]`` in
    :func:`sim.core.agents.best_allocation`)."""
    loss = np.subtract(closed.take(rows), best_open.take(rows))
    return np.abs(loss, out=loss)


def _first_minimum(loss, position, owner, n) -> np.ndarray:
    """Per enterprise, the smallest ``position`` among its rows with the smallest ``loss``; -1
    for enterprises without rows. (Positions follow each enterprise's workload order, so this is
    its first such workload.)"""
    chosen = np.full(n, -1, dtype=np.int64)
    if position.size == 0:
        return chosen
    minimum = np.full(n, np.inf)
    np.minimum.at(minimum, owner, loss)
    hit = loss == minimum.take(owner)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, owner[hit], position[hit])
    found = first != np.iinfo(np.int64).max
    chosen[found] = first[found]
    return chosen
