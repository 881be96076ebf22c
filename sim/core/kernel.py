"""The decision kernel: pure, vectorized functions for one quarter's choices.

State is struct-of-arrays: workloads are flat arrays, each enterprise's workloads contiguous
(``first_workload[enterprise]:first_workload[enterprise + 1]``), ``owner[workload]`` the
enterprise of a workload. Nothing here knows Mesa, files or plots. The module holds one idea, the
quarter's decision arithmetic (the steps "utilities", "intentions" and "choice" of
:data:`sim.core.model.STEP_ORDER`), in its two arrangements, which is why it is long.

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
    relative = open_relative_capability(signals.benchmark_gap, signals.task_parity,
                                        signals.frontier_gap, frontier_need,
                                        behaviour.gap_sensitivity, behaviour.frontier_sensitivity)
    finetune_lift = behaviour.finetune_gain * domain_specificity * signals.tooling_maturity
    capability_closed = behaviour.capability_weight * stakes
    capability_open = behaviour.capability_weight * stakes * relative
    capability_finetuned = behaviour.capability_weight * stakes * (relative + finetune_lift)
    cost_closed = behaviour.cost_weight * volume * closed_price / 1000.0
    cost_open = behaviour.cost_weight * volume * open_price / 1000.0
    vendor_risk = (behaviour.vendor_risk_weight * risk_aversion
                   * (behaviour.base_vendor_risk + perceived_risk))
    compliance = (behaviour.compliance_weight * sensitivity * regulatory_pressure
                  * compliance_exposure)
    burden_open = behaviour.ops_burden * burden_factor
    burden_finetuned = (behaviour.ops_burden + behaviour.finetune_burden) * burden_factor
    taste_sd = behaviour.workload_taste_sd
    closed_utility = (behaviour.closed_preference + capability_closed - cost_closed - vendor_risk
                      - compliance + taste_sd * taste_closed)
    affinity = behaviour.open_affinity_sd * open_affinity
    open_utility = (capability_open - cost_open - burden_open + taste_sd * taste_open + affinity)
    finetuned_utility = (capability_finetuned - cost_open - burden_finetuned
                         + taste_sd * taste_finetuned + affinity)
    return closed_utility, open_utility, finetuned_utility


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

    Works on one enterprise's three values or on an (enterprises, 3) array (row-wise).
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
    """Everything one quarter's decisions depend on, prepared by the model (steps "signals",
    "vendor_events", "arrivals" and "reviews")."""

    signals: object              # SignalPaths of this quarter
    active: np.ndarray           # per workload: in a portfolio (arrival_quarter <= quarter)
    deployment: np.ndarray       # per workload: current option, NOT_DEPLOYED for new workloads
    stack: np.ndarray            # per enterprise: current stack, NOT_DEPLOYED if new to AI
    closed_price: np.ndarray     # per enterprise: USD per million tokens from its vendor
    open_price: float            # USD per million tokens self-hosted
    perceived_risk: np.ndarray   # per enterprise: perceived vendor risk
    platform: np.ndarray         # per enterprise: fixed open-platform cost
    peer: np.ndarray             # per enterprise: peer influence on open and hybrid stacks
    switching: np.ndarray        # per enterprise: cost of leaving the current stack (0 if none)
    review: np.ndarray           # per enterprise: periodic or forced review this quarter
    choice_uniform: np.ndarray   # per enterprise: pre-drawn uniform for the logit choice


@dataclass
class QuarterDecision:
    plans_to_expand: np.ndarray  # per enterprise: preferred allocation runs more open workloads
    deployment: np.ndarray       # per workload: its option after the quarter's choices
    stack: np.ndarray            # per enterprise: its stack after the quarter's choices
    switched: np.ndarray         # per enterprise: it ran a stack and changed it


def decide_quarter(population, context: QuarterContext, behaviour,
                   outlook: QuarterContext | None = None,
                   cache: KernelCache | None = None) -> QuarterDecision:
    """Steps "utilities", "intentions" and "choice" of a quarter
    (:data:`sim.core.model.STEP_ORDER`) for every enterprise at once.

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
# In a block, "per enterprise" means per enterprise of the block (relative to its first), and
# "per active workload" per workload active this quarter, in the block's arrival order.

BLOCK_WORKLOADS = 1 << 17   # workloads per block: a block's arrays stay in the CPU cache


@dataclass
class Block:
    """Enterprises ``enterprise_slice`` and their workloads ``workload_slice`` (contiguous).

    Inside the kernel a block's workloads are kept in arrival order (stably, so each
    enterprise's stay in workload order): the active workloads of a quarter, those arrived by
    then, are a prefix, and every per-workload term is a slice instead of a gather. The kernel's
    order of all workloads is the blocks' arrival orders one after the other, so the block's
    workloads are ``workload_slice`` in it too."""

    enterprise_slice: slice
    workload_slice: slice
    order: np.ndarray        # per workload, in arrival order: its position in the block
    arrival: np.ndarray      # per workload, in arrival order: its arrival quarter
    owner: np.ndarray        # per workload, in arrival order: its enterprise in the block
    arrived: np.ndarray      # per quarter and enterprise: its workloads arrived by that quarter
    enterprise_arrays: dict  # per-enterprise population arrays, sliced to the block
    terms: dict              # KernelCache.terms, sliced to the block (arrival order)


@dataclass
class ActiveWorkloads:
    """The active workloads of one block: the first ``order.size`` in its arrival order."""

    order: np.ndarray    # per active workload: its position in the block (workload order)
    owner: np.ndarray    # per active workload: its enterprise in the block
    count: np.ndarray    # per enterprise of the block: its active workloads
    terms: dict          # the block's terms for these workloads


class KernelCache:
    """What the vectorized kernel keeps between the quarters of one model.

    * The blocks: contiguous runs of enterprises with about :data:`BLOCK_WORKLOADS` workloads,
      each with its workloads in arrival order (:class:`Block`).
    * Terms of the utility formula that do not change during a run (a behaviour constant times a
      workload attribute), each computed exactly as :func:`option_utilities` computes it, for all
      workloads once, in the kernel's order (:func:`_constant_terms`).
    * Open's relative capability and its capability value for every workload, computed once the
      signals they depend on (benchmark gap, task parity, frontier gap) hold still for a second
      quarter and kept while they do (the burn-in; the projection once the gap has closed).
    """

    def __init__(self, population, behaviour, block_workloads: int = BLOCK_WORKLOADS):
        self.population, self.behaviour = population, behaviour
        arrival = population.arrival_quarter
        spans = _block_spans(population.first_workload, population.enterprises, block_workloads)
        # a stable sort on uint16 keys is a radix sort
        sort_key = arrival.astype(np.uint16) if arrival.size and arrival.max() < 2**16 else arrival
        orders = [np.argsort(sort_key[workloads], kind="stable") for _, workloads in spans]
        kernel_order = np.concatenate([order + workloads.start
                                       for order, (_, workloads) in zip(orders, spans)])
        owner = population.owner.take(kernel_order).astype(np.intp)
        self.terms = _constant_terms(population, behaviour, kernel_order, owner)
        quarter_count = int(arrival.max()) + 1 if arrival.size else 1
        self.blocks = [_block(population, enterprises, workloads, order, owner, self.terms,
                              quarter_count)
                       for (enterprises, workloads), order in zip(spans, orders)]
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


def _block_spans(first_workload, enterprise_count, block_workloads) -> list[tuple[slice, slice]]:
    """(enterprises, their workloads) of each block: runs of whole enterprises, a new one begun
    at the enterprise holding every ``block_workloads``-th workload."""
    cuts = np.searchsorted(first_workload,
                           np.arange(block_workloads, first_workload[-1], block_workloads))
    bounds = np.unique(np.concatenate([[0], cuts, [enterprise_count]])).tolist()
    return [(slice(first, end), slice(int(first_workload[first]), int(first_workload[end])))
            for first, end in zip(bounds[:-1], bounds[1:])]


def _constant_terms(population, behaviour, kernel_order, owner) -> dict[str, np.ndarray]:
    """The terms of :func:`option_utilities` that do not change during a run, for every workload
    in the kernel's order (``owner``: each one's enterprise), each computed as that function
    computes it."""
    capability = behaviour.capability_weight * population.stakes.take(kernel_order)
    exposure = np.where(population.regulated, 1.0, behaviour.unregulated_compliance_share)
    taste = [population.taste[:, option].take(kernel_order) for option in range(3)]
    taste_sd = behaviour.workload_taste_sd
    return {
        "capability": capability,
        "closed_base": behaviour.closed_preference + capability,
        "frontier_need": population.frontier_need.take(kernel_order),
        "finetune_gain": (behaviour.finetune_gain
                          * population.domain_specificity.take(kernel_order)),
        "cost": behaviour.cost_weight * population.volume.take(kernel_order),
        "compliance": behaviour.compliance_weight * population.sensitivity.take(kernel_order),
        "exposure": exposure.take(owner),
        "taste_closed": np.multiply(taste_sd, taste[CLOSED], out=taste[CLOSED]),
        "taste_open": np.multiply(taste_sd, taste[OPEN], out=taste[OPEN]),
        "taste_finetuned": np.multiply(taste_sd, taste[FINETUNED], out=taste[FINETUNED]),
        "affinity": behaviour.open_affinity_sd * population.open_affinity.take(owner),
    }


def _block(population, enterprises: slice, workloads: slice, order, owner, terms,
           quarter_count) -> Block:
    """The block of ``enterprises`` and their ``workloads``; ``order`` sorts its workloads by
    arrival, ``owner`` and ``terms`` are per workload in the kernel's order."""
    enterprise_count = enterprises.stop - enterprises.start
    arrival = population.arrival_quarter[workloads]
    owner_in_block = population.owner[workloads] - enterprises.start
    arrivals = np.bincount(arrival.astype(np.int64) * enterprise_count + owner_in_block,
                           minlength=quarter_count * enterprise_count)
    return Block(
        enterprise_slice=enterprises, workload_slice=workloads, order=order,
        arrival=arrival.take(order), owner=owner[workloads] - enterprises.start,
        arrived=np.cumsum(arrivals.reshape(quarter_count, enterprise_count), axis=0),
        enterprise_arrays={"ml_capacity": population.ml_capacity[enterprises],
                           "risk_aversion": population.risk_aversion[enterprises],
                           "region": population.region[enterprises]},
        terms={name: values[workloads] for name, values in terms.items()})


def _relative_capability(frontier_need, signals, behaviour) -> np.ndarray:
    """:func:`open_relative_capability`, operation by operation."""
    relative = np.multiply(frontier_need, behaviour.frontier_sensitivity * signals.frontier_gap)
    np.subtract(-behaviour.gap_sensitivity * signals.benchmark_gap, relative, out=relative)
    np.exp(relative, out=relative)
    np.multiply(signals.task_parity, relative, out=relative)
    return relative


def _active(block: Block, context: QuarterContext) -> ActiveWorkloads | None:
    """The block's active workloads: ``context.active`` must hold the workloads arrived by the
    quarter (``arrival_quarter <= quarter``), as the model builds it."""
    active_count = int(np.count_nonzero(context.active[block.workload_slice]))
    if active_count == 0:
        return None
    arrival = block.arrival
    quarter = arrival[active_count - 1]
    if active_count < arrival.size and arrival[active_count] <= quarter:
        raise ValueError("QuarterContext.active must be the workloads with arrival_quarter <= "
                         "the quarter")
    return ActiveWorkloads(order=block.order[:active_count], owner=block.owner[:active_count],
                           count=block.arrived[quarter],
                           terms={name: values[:active_count]
                                  for name, values in block.terms.items()})


@dataclass
class Standing:
    """Where a block's enterprises stand before the quarter's choice, and who chooses."""

    deployment: np.ndarray     # per active workload: deployed option, NOT_DEPLOYED if new
    current_stack: np.ndarray  # per enterprise: its stack, NOT_DEPLOYED if new to AI
    existing: np.ndarray       # per enterprise: it runs a stack
    open_now: np.ndarray       # per enterprise: its active workloads running open
    new_position: np.ndarray   # the new workloads' positions among the active ones, ascending
    new_owner: np.ndarray      # per new workload: its enterprise
    new_count: np.ndarray      # per enterprise: its new workloads
    free_choice: np.ndarray    # per enterprise: reviewing or new to AI, every workload movable
    placing: np.ndarray        # per enterprise: otherwise, placing its new workloads only


def _standing(block: Block, active: ActiveWorkloads, context: QuarterContext) -> Standing:
    """The block's :class:`Standing` this quarter: the reviewing and those new to AI choose
    freely, the others with new workloads place them."""
    enterprises = block.enterprise_slice
    enterprise_count = enterprises.stop - enterprises.start
    deployment = context.deployment[block.workload_slice].take(active.order)
    current_stack = context.stack[enterprises]
    existing = current_stack != NOT_DEPLOYED
    new_position = np.flatnonzero(deployment == NOT_DEPLOYED)
    new_owner = active.owner.take(new_position)
    new_count = np.bincount(new_owner, minlength=enterprise_count)
    free_choice = (active.count > 0) & (context.review[enterprises] | ~existing)
    return Standing(
        deployment=deployment, current_stack=current_stack, existing=existing,
        open_now=segment_count(deployment > CLOSED, active.owner, enterprise_count),
        new_position=new_position, new_owner=new_owner, new_count=new_count,
        free_choice=free_choice, placing=existing & ~free_choice & (new_count > 0))


def _decide_block(block: Block, context: QuarterContext, outlook, behaviour, capability_now,
                  capability_outlook, plans, stack, deployment_out) -> None:
    """:func:`decide_quarter` for one block; writes its results into the output arrays."""
    active = _active(block, context)
    if active is None:
        return   # no active workload: no plans, no choice, nothing moves
    enterprises = block.enterprise_slice
    enterprise_count = enterprises.stop - enterprises.start
    standing = _standing(block, active, context)

    # step "utilities": every active workload's utilities and every enterprise's stack values
    now = every_options(_option_utilities(block, active, context, behaviour, capability_now),
                        active, enterprise_count, context.platform[enterprises],
                        context.peer[enterprises])
    planned = now if outlook is None else every_options(
        _option_utilities(block, active, outlook, behaviour, capability_outlook),
        active, enterprise_count, outlook.platform[enterprises], outlook.peer[enterprises])
    # step "intentions": open workloads in the preferred allocation against those running now
    plans[enterprises] = standing.existing & (_open_preferred(planned, active)
                                              > standing.open_now)
    chooser = standing.free_choice | standing.placing
    if not chooser.any():
        return

    # step "choice": the logit choice among the stacks each chooser may take, then the allocation
    placed = _placed_options(now, active, standing, context.platform[enterprises],
                             context.peer[enterprises])
    values = np.where(standing.free_choice[:, None],
                      with_switching_cost(now.values, standing.current_stack,
                                          context.switching[enterprises]),
                      placed.values)
    chosen = np.full(enterprise_count, NOT_DEPLOYED, dtype=np.int64)
    chosen[chooser] = draw_from_weights(logit_weights(values[chooser], behaviour.logit_scale),
                                        context.choice_uniform[enterprises][chooser])
    stack[enterprises][chooser] = chosen[chooser]
    deployment_out[block.workload_slice][active.order] = _chosen_allocation(
        now, placed, chosen, active, standing)


def _open_preferred(planned: EveryOptions, active: ActiveWorkloads) -> np.ndarray:
    """Per enterprise, the open workloads of its preferred allocation (the stack of highest
    value, the first of equals) with every workload movable."""
    preferred = np.argmax(planned.values, axis=1)
    hybrid_open = (planned.open_count + (planned.flip_to_open >= 0)
                   - (planned.flip_to_closed >= 0))
    return np.select([preferred == STACK_OPEN, preferred == STACK_HYBRID],
                     [active.count, hybrid_open], 0)


def _chosen_allocation(now: EveryOptions, placed: PlacedOptions, chosen, active: ActiveWorkloads,
                       standing: Standing) -> np.ndarray:
    """Per active workload, its option after the choice: every workload of a free chooser takes
    the chosen stack's best option for it, a placer's new workloads likewise, each with the
    hybrid fix; the other workloads keep their deployment."""
    owner, free_choice, placing = active.owner, standing.free_choice, standing.placing
    finetune_better = now.utilities[FINETUNED] > now.utilities[OPEN]
    best_open_option = finetune_better.view(np.uint8) + np.uint8(OPEN)
    best_any_option = best_open_option * ~now.closed_best
    free_stack = np.where(free_choice, chosen, NOT_DEPLOYED).astype(np.int8).take(owner)
    free_option = best_open_option * (free_stack == STACK_OPEN)
    free_option += best_any_option * (free_stack == STACK_HYBRID)
    _apply_flips(free_option, best_open_option, now.flip_to_open, now.flip_to_closed,
                 free_choice & (chosen == STACK_HYBRID))
    allocation = standing.deployment.copy()
    np.copyto(allocation, free_option.view(np.int8), where=free_choice.take(owner))
    placed_new = standing.new_position[placing.take(standing.new_owner)]
    placed_stack = chosen.take(owner.take(placed_new))
    allocation[placed_new] = np.select(
        [placed_stack == STACK_OPEN, placed_stack == STACK_HYBRID],
        [best_open_option.take(placed_new), best_any_option.take(placed_new)],
        CLOSED).astype(np.int8)
    _apply_flips(allocation.view(np.uint8), best_open_option, placed.flip_to_open,
                 placed.flip_to_closed, placing & (chosen == STACK_HYBRID))
    return allocation


def _option_utilities(block: Block, active: ActiveWorkloads, context: QuarterContext, behaviour,
                      capability) -> np.ndarray:
    """(closed, open, open_finetuned) utilities of a block's active workloads, one row each:
    :func:`option_utilities` written with the constant terms of :class:`KernelCache` and the
    per-enterprise terms taken per workload; same operations, same order, so bit-identical.
    ``capability`` is :meth:`KernelCache.capability`'s answer; arrays are reused as scratch."""
    signals, terms, owner = context.signals, active.terms, active.owner
    enterprises, enterprise_arrays = block.enterprise_slice, block.enterprise_arrays
    active_count = owner.size
    utilities = np.empty((3, active_count))
    closed_utility, open_utility, finetuned_utility = utilities
    # capability: open's relative capability, then the capability values
    finetune_lift = np.multiply(terms["finetune_gain"], signals.tooling_maturity)
    if capability is None:
        relative = _relative_capability(terms["frontier_need"], signals, behaviour)
        np.multiply(terms["capability"], relative, out=open_utility)        # capability_open
        finetuned_relative = np.add(relative, finetune_lift, out=relative)
    else:
        kept = slice(block.workload_slice.start, block.workload_slice.start + active_count)
        finetuned_relative = np.add(capability[0][kept], finetune_lift, out=finetune_lift)
        open_utility[:] = capability[1][kept]
    np.multiply(terms["capability"], finetuned_relative, out=finetuned_utility)
    # token cost of open (one price for all), then burden, then taste
    cost_open = np.multiply(terms["cost"], context.open_price, out=finetuned_relative)
    cost_open /= 1000.0
    open_utility -= cost_open
    finetuned_utility -= cost_open
    burden = burden_factor(enterprise_arrays["ml_capacity"], signals.tooling_maturity,
                           behaviour).take(owner)
    open_utility -= np.multiply(behaviour.ops_burden, burden, out=cost_open)
    finetuned_utility -= np.multiply(behaviour.ops_burden + behaviour.finetune_burden, burden,
                                     out=burden)
    open_utility += terms["taste_open"]
    open_utility += terms["affinity"]
    finetuned_utility += terms["taste_finetuned"]
    finetuned_utility += terms["affinity"]
    # closed: preference and capability, token cost, vendor risk, compliance, taste
    cost_closed = np.multiply(terms["cost"], context.closed_price[enterprises].take(owner),
                              out=cost_open)
    cost_closed /= 1000.0
    np.subtract(terms["closed_base"], cost_closed, out=closed_utility)
    vendor_risk = (behaviour.vendor_risk_weight * enterprise_arrays["risk_aversion"]
                   * (behaviour.base_vendor_risk + context.perceived_risk[enterprises]))
    closed_utility -= vendor_risk.take(owner)
    pressure = np.asarray(signals.regulatory_pressure)[enterprise_arrays["region"]]
    compliance = np.multiply(terms["compliance"], pressure.take(owner), out=cost_closed)
    compliance *= terms["exposure"]
    closed_utility -= compliance
    closed_utility += terms["taste_closed"]
    return utilities


@dataclass
class EveryOptions:
    """Stack values with every active workload movable, and what building them found."""

    utilities: np.ndarray        # (closed, open, open_finetuned) rows, per active workload
    best_open: np.ndarray        # per active workload: utility of the better open option
    closed_best: np.ndarray      # per active workload: closed is (one of) the best options
    best_any: np.ndarray         # per active workload: utility of the best option
    open_count: np.ndarray       # per enterprise: workloads whose best option is open
    flip_to_open: np.ndarray     # per enterprise: position switched to open for a hybrid, or -1
    flip_to_closed: np.ndarray   # per enterprise: position switched to closed for a hybrid, or -1
    values: np.ndarray           # per enterprise: (closed, open, hybrid) stack values


def every_options(utilities, active: ActiveWorkloads, enterprise_count, platform,
                  peer) -> EveryOptions:
    """Every enterprise's stack values with all its active workloads movable (free choice and
    intentions): :func:`sim.core.agents.stack_values` for a whole block at once.

    ``utilities`` holds the (closed, open, open_finetuned) rows of the active workloads;
    ``platform`` and ``peer`` are per enterprise. The hybrid fix switches, in an enterprise whose
    workloads all prefer one kind, the first workload that loses least by switching kind."""
    closed_utility, open_utility, finetuned_utility = utilities
    owner, count = active.owner, active.count
    best_open = np.maximum(open_utility, finetuned_utility)
    closed_best = closed_utility >= best_open
    best_any = np.maximum(closed_utility, best_open)
    closed_count = segment_count(closed_best, owner, enterprise_count)
    open_count = count - closed_count
    wants_open = (open_count == 0) & (closed_count >= 2)
    wants_closed = (closed_count == 0) & (open_count >= 2)
    candidates = np.flatnonzero((wants_open | wants_closed).take(owner))
    flip = _first_minimum(_loss(closed_utility, best_open, candidates), candidates,
                          owner.take(candidates), enterprise_count)
    flip_to_open = np.where(wants_open, flip, -1)
    flip_to_closed = np.where(wants_closed, flip, -1)

    values = np.empty((enterprise_count, 3))
    values[:, STACK_CLOSED] = segment_sum(closed_utility, owner, enterprise_count)
    values[:, STACK_OPEN] = segment_sum(best_open, owner, enterprise_count)
    values[:, STACK_HYBRID] = _hybrid_sum(best_any, owner, enterprise_count, flip_to_open,
                                          best_open, flip_to_closed, closed_utility)
    shared = peer - platform
    values[:, STACK_OPEN] += shared
    values[:, STACK_HYBRID] += shared
    hybrid_feasible = ((closed_count > 0) & (open_count > 0)) | wants_open | wants_closed
    values[~hybrid_feasible, STACK_HYBRID] = -np.inf
    values[count == 0] = -np.inf
    return EveryOptions(utilities=utilities, best_open=best_open, closed_best=closed_best,
                        best_any=best_any, open_count=open_count, flip_to_open=flip_to_open,
                        flip_to_closed=flip_to_closed, values=values)


def _hybrid_sum(per_workload, owner, enterprise_count, to_open, open_value, to_closed,
                closed_value):
    """Per-enterprise sum of ``per_workload`` with the flipped workloads' values replaced
    (temporarily, in place: no copy of the long array)."""
    to_open, to_closed = to_open[to_open >= 0], to_closed[to_closed >= 0]
    saved_open, saved_closed = per_workload[to_open], per_workload[to_closed]
    per_workload[to_open] = open_value[to_open]
    per_workload[to_closed] = closed_value[to_closed]
    try:
        return segment_sum(per_workload, owner, enterprise_count)
    finally:
        per_workload[to_open] = saved_open
        per_workload[to_closed] = saved_closed


@dataclass
class PlacedOptions:
    values: np.ndarray           # per enterprise: stack values, meaningful for placers
    flip_to_open: np.ndarray     # per enterprise: position among the active workloads, or -1
    flip_to_closed: np.ndarray   # per enterprise: position among the active workloads, or -1


def _placed_options(every: EveryOptions, active: ActiveWorkloads, standing: Standing, platform,
                    peer) -> PlacedOptions:
    """:func:`sim.core.agents.stack_values` for the placing enterprises, only their new workloads
    movable.

    The closed stack is feasible only if every placed workload runs closed, and then its value is
    the sum of closed utilities, exactly the free choice's closed value. The open and hybrid
    values sum the deployed option's utility for placed workloads and the stack's best for new
    ones, in workload order; the hybrid fix may switch only a new workload.
    """
    placing, open_now = standing.placing, standing.open_now
    new_position, new_owner = standing.new_position, standing.new_owner
    enterprise_count = placing.size
    closed_now = active.count - open_now - standing.new_count
    new_closed = np.bincount(new_owner, weights=every.closed_best.take(new_position),
                             minlength=enterprise_count).astype(np.int64)
    closed_count = closed_now + new_closed
    open_count = open_now + standing.new_count - new_closed
    wants_open = placing & (open_count == 0) & (closed_count >= 2)
    wants_closed = placing & (closed_count == 0) & (open_count >= 2)
    candidates = (wants_open | wants_closed).take(new_owner)
    flip = _first_minimum(_loss(every.utilities[CLOSED], every.best_open, new_position[candidates]),
                          new_position[candidates], new_owner[candidates], enterprise_count)
    flip_to_open = np.where(wants_open, flip, -1)
    flip_to_closed = np.where(wants_closed, flip, -1)

    values = np.full((enterprise_count, 3), -np.inf)
    closed_feasible = placing & (open_now == 0)
    values[closed_feasible, STACK_CLOSED] = every.values[closed_feasible, STACK_CLOSED]
    rows = np.flatnonzero(placing.take(active.owner))   # the placers' active workloads
    if rows.size:
        open_value, hybrid_value = _placed_sums(every, active, standing.deployment, rows,
                                                flip_to_open, flip_to_closed)
        shared = peer - platform
        open_value += shared
        hybrid_value += shared
        open_feasible = placing & (closed_now == 0)
        values[open_feasible, STACK_OPEN] = open_value[open_feasible]
        hybrid_feasible = placing & (
            ((closed_count > 0) & (open_count > 0)) | wants_open | wants_closed
        )
        values[hybrid_feasible, STACK_HYBRID] = hybrid_value[hybrid_feasible]
    return PlacedOptions(values=values, flip_to_open=flip_to_open, flip_to_closed=flip_to_closed)


def _placed_sums(every: EveryOptions, active: ActiveWorkloads, deployment, rows, flip_to_open,
                 flip_to_closed) -> tuple[np.ndarray, np.ndarray]:
    """Per enterprise, the sums of its ``rows``' utilities (the placers' active workloads, in
    workload order) under the open and the hybrid stack: a placed workload keeps its deployed
    option, a new one takes the stack's best, the hybrid fix's flips theirs."""
    active_count = active.owner.size
    owner = active.owner.take(rows)
    deployed = deployment.take(rows)
    option_row = np.maximum(deployed, CLOSED).astype(np.intp)   # index into the flat utilities
    option_row *= active_count
    option_row += rows
    hybrid_utility = every.utilities.ravel().take(option_row)   # the deployed option's utility
    new_here = np.flatnonzero(deployed == NOT_DEPLOYED)
    new_rows = rows.take(new_here)
    open_utility = hybrid_utility.copy()
    open_utility[new_here] = every.best_open.take(new_rows)
    hybrid_utility[new_here] = every.best_any.take(new_rows)
    # positions of the flips within ``rows`` (both are ascending)
    to_open = np.searchsorted(rows, flip_to_open[flip_to_open >= 0])
    to_closed = np.searchsorted(rows, flip_to_closed[flip_to_closed >= 0])
    hybrid_utility[to_open] = every.best_open.take(rows.take(to_open))
    hybrid_utility[to_closed] = every.utilities[CLOSED].take(rows.take(to_closed))
    enterprise_count = flip_to_open.size
    return (segment_sum(open_utility, owner, enterprise_count),
            segment_sum(hybrid_utility, owner, enterprise_count))


def _apply_flips(option, best_open_option, to_open, to_closed, where):
    """Write the hybrid fix into ``option`` (uint8, per active workload) for enterprises
    ``where``."""
    to_open = to_open[where & (to_open >= 0)]
    option[to_open] = best_open_option[to_open]
    option[to_closed[where & (to_closed >= 0)]] = CLOSED


def segment_sum(values, owner, enterprise_count) -> np.ndarray:
    """Per enterprise (0..enterprise_count-1), the sum of ``values`` over its rows, added one by
    one in row order: the same sums as ``np.bincount(owner, weights=values)`` (and as the
    reference path's running total), which takes longer."""
    total = np.zeros(enterprise_count)
    np.add.at(total, owner, values)
    return total


def segment_count(mask, owner, enterprise_count) -> np.ndarray:
    """Per enterprise (0..enterprise_count-1), how many of its rows ``mask`` holds."""
    return np.bincount(owner, weights=mask, minlength=enterprise_count).astype(np.int64)


def _loss(closed_utility, best_open, rows) -> np.ndarray:
    """|closed - best open| of the given workloads: for an enterprise whose workloads all prefer
    one kind, what switching a workload to the other kind loses (exactly the reference path's
    ``best - utility[CLOSED]`` or ``best - utility[best_open]`` in
    :func:`sim.core.agents.best_allocation`)."""
    loss = np.subtract(closed_utility.take(rows), best_open.take(rows))
    return np.abs(loss, out=loss)


def _first_minimum(loss, position, owner, enterprise_count) -> np.ndarray:
    """Per enterprise, the smallest ``position`` among its rows with the smallest ``loss``; -1
    for enterprises without rows. (Positions follow each enterprise's workload order, so this is
    its first such workload.)"""
    chosen = np.full(enterprise_count, -1, dtype=np.int64)
    if position.size == 0:
        return chosen
    minimum = np.full(enterprise_count, np.inf)
    np.minimum.at(minimum, owner, loss)
    hit = loss == minimum.take(owner)
    first = np.full(enterprise_count, np.iinfo(np.int64).max)
    np.minimum.at(first, owner[hit], position[hit])
    found = first != np.iinfo(np.int64).max
    chosen[found] = first[found]
    return chosen
