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
* cost, in dollars (:mod:`sim.core.economics`) weighed per million tokens (:func:`cost_scale`):
  closed, the tokens times the price of the tier the workload needs; open, GPU rent (at least a
  minimum deployment) and the engineers it takes, whom in-house ML capacity and mature tooling
  partly relieve (the article's "operational burden is real"); fine-tuned, more engineers and
  fine-tuning runs;
* perceived vendor risk (closed only): price changes, deprecations, policy changes, withdrawals;
* compliance penalty (closed only): data sensitivity times the regulatory pressure of the
  enterprise's region, felt fully by regulated sectors (data sovereignty, the EU AI Act).

A stack's utility is the sum of its workloads' utilities under the best allocation the stack
allows, minus the open platform's cost (its engineers), plus peer influence. A deployed workload
that moves to another deployment pays the migration cost, whether its enterprise is reviewing
its stack or placing new work (new workloads are placed without it): one rule for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.economics import closed_price_paid, serving_cost, token_volume

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


def option_costs(*, volume, price_paid, throughput, minimum_gpus, busy_share, serverless_factor,
                 workload_staff_usd, finetune_usd, signals):
    """USD per quarter of (closed, open, open_finetuned) for workloads; arrays or scalars.

    Closed: ``volume`` (millions of tokens this quarter) times ``price_paid`` (USD per million,
    the tier price times the vendor's own price moves). Open: serving the open model
    (:func:`sim.core.economics.serving_cost`: rented GPUs or a serverless provider) plus the
    engineers the workload takes. Fine-tuned: that, plus ``finetune_usd`` (more engineers,
    fine-tuning runs)."""
    closed_cost = volume * price_paid
    open_cost = serving_cost(volume, throughput, minimum_gpus, signals.serving_efficiency_index,
                             busy_share, signals.gpu_rent_usd_per_hour, serverless_factor)
    open_cost += workload_staff_usd
    return closed_cost, open_cost, open_cost + finetune_usd


@dataclass
class WorkloadCosts:
    """Some workloads' tokens and the cost of each option this quarter."""

    index: np.ndarray          # the workloads
    volume: np.ndarray         # per workload: millions of tokens this quarter
    frontier_need: np.ndarray  # per workload
    options: np.ndarray        # (closed, open, open_finetuned) rows: USD this quarter


def workload_costs(population, context, index) -> WorkloadCosts:
    """The tokens and :func:`option_costs` of the workloads ``index`` under ``context``: the
    volume their class's demand gives them, the price of the tier their frontier need calls for
    times their vendor's own price moves, the GPUs and staff of self-hosting them."""
    owner = population.owner.take(index)
    signals = context.signals
    frontier_need = population.frontier_need.take(index)
    volume = token_volume(population.base_volume.take(index),
                          population.demand_elasticity.take(index), signals.token_demand_index)
    price_paid = closed_price_paid(frontier_need, signals.fixed_capability_price_usd_per_mtok,
                                   signals.frontier_price_usd_per_mtok)
    price_paid *= context.price_multiplier.take(owner)
    costs = option_costs(volume=volume, price_paid=price_paid,
                         throughput=population.throughput.take(index),
                         minimum_gpus=population.minimum_gpus.take(index),
                         busy_share=context.busy_share,
                         serverless_factor=context.serverless_factor,
                         workload_staff_usd=context.workload_staff_usd.take(owner),
                         finetune_usd=context.finetune_usd.take(owner), signals=signals)
    return WorkloadCosts(index=index, volume=volume, frontier_need=frontier_need,
                         options=np.stack(costs))


def option_utilities(*, stakes, frontier_need, sensitivity, domain_specificity,
                     closed_cost, open_cost, finetuned_cost, cost_scale,
                     taste_closed, taste_open, taste_finetuned, open_affinity,
                     perceived_risk, risk_aversion, regulatory_pressure, compliance_exposure,
                     signals, behaviour):
    """Utility of (closed, open, open_finetuned) for workloads; works on arrays and on scalars.

    The costs are :func:`option_costs` (USD per quarter); ``cost_scale`` is the workload's
    utility per dollar (:func:`cost_scale`: costs weigh per million tokens);
    ``compliance_exposure``
    is 1 for regulated sectors and the unregulated share otherwise; ``open_affinity`` is the
    enterprise's persistent standard-normal leaning toward running open models (strategy,
    culture, past choices), which makes open use cluster in some enterprises.
    """
    relative = open_relative_capability(signals.benchmark_gap, signals.task_parity,
                                        signals.frontier_gap, frontier_need,
                                        behaviour.gap_sensitivity, behaviour.frontier_sensitivity)
    finetune_lift = behaviour.finetune_gain * domain_specificity * signals.tooling_maturity
    capability_closed = behaviour.capability_weight * stakes
    capability_open = behaviour.capability_weight * stakes * relative
    capability_finetuned = behaviour.capability_weight * stakes * (relative + finetune_lift)
    vendor_risk = (behaviour.vendor_risk_weight * risk_aversion
                   * (behaviour.base_vendor_risk + perceived_risk))
    compliance = (behaviour.compliance_weight * sensitivity * regulatory_pressure
                  * compliance_exposure)
    taste_sd = behaviour.workload_taste_sd
    closed_utility = (behaviour.closed_preference + capability_closed - cost_scale * closed_cost
                      - vendor_risk - compliance + taste_sd * taste_closed)
    affinity = behaviour.open_affinity_sd * open_affinity
    open_utility = capability_open - cost_scale * open_cost + taste_sd * taste_open + affinity
    finetuned_utility = (capability_finetuned - cost_scale * finetuned_cost
                         + taste_sd * taste_finetuned + affinity)
    return closed_utility, open_utility, finetuned_utility


def burden_factor(ml_capacity, tooling_maturity, behaviour):
    """Share of the self-hosting staff an enterprise still needs: in-house ML engineering and
    mature open tooling each remove part of it (the article's 'operational burden is real')."""
    return ((1.0 - behaviour.ml_capacity_relief * ml_capacity)
            * (1.0 - behaviour.tooling_relief * tooling_maturity))


def cost_scale(volume, behaviour):
    """Utility per dollar a quarter of a workload using ``volume`` million tokens a quarter:
    ``cost_weight`` per dollar per million tokens. Enterprises weigh what each option costs per
    token, fixed costs (engineers, a minimum deployment) spread over the workload's tokens:
    the article's total cost of ownership, whose break-even shifts as volumes grow."""
    return behaviour.cost_weight / volume


def with_migration(utilities, deployment, migration):
    """A deployed workload's utilities less the migration cost on every option but its own
    deployment (new workloads, ``NOT_DEPLOYED``, pay none): the inertia of re-engineering.

    ``utilities`` is a sequence of the three options' utilities (arrays over workloads or
    scalars); ``migration`` the utility of one move, per workload or a scalar."""
    return tuple(np.where((deployment != NOT_DEPLOYED) & (deployment != option),
                          utility - migration, utility)
                 for option, utility in enumerate(utilities))


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


@dataclass
class QuarterContext:
    """Everything one quarter's decisions depend on, prepared by the model (steps "signals",
    "vendor_events", "arrivals" and "reviews")."""

    signals: object              # SignalPaths of this quarter
    active: np.ndarray           # per workload: in a portfolio (arrival_quarter <= quarter)
    deployment: np.ndarray       # per workload: current option, NOT_DEPLOYED for new workloads
    stack: np.ndarray            # per enterprise: current stack, NOT_DEPLOYED if new to AI
    price_multiplier: np.ndarray  # per enterprise: its vendor's price relative to the tiers'
    busy_share: float            # share of rented GPU time a deployment keeps busy
    serverless_factor: float     # serverless price over the GPU rent its tokens take
    workload_staff_usd: np.ndarray  # per enterprise: USD a quarter, a self-hosted workload's staff
    finetune_usd: np.ndarray     # per enterprise: USD a quarter more for a fine-tuned workload
    perceived_risk: np.ndarray   # per enterprise: perceived vendor risk
    platform: np.ndarray         # per enterprise: utility of the open platform's cost
    peer: np.ndarray             # per enterprise: peer influence on open and hybrid stacks
    migration_usd: np.ndarray    # per enterprise: USD a quarter of moving one deployed workload
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
    Choice: reviewing enterprises and those new to AI choose among all stacks by logit, every
    workload movable; the others place only their new workloads (existing ones stay put). Either
    way a deployed workload that moves pays the migration cost (:func:`with_migration`).

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
        "base_volume": population.base_volume.take(kernel_order),
        "demand_elasticity": population.demand_elasticity.take(kernel_order),
        "throughput": population.throughput.take(kernel_order),
        "minimum_gpus": population.minimum_gpus.take(kernel_order),
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

    # step "utilities": every active workload's utilities
    utilities, per_dollar = _option_utilities(block, active, context, behaviour, capability_now)
    # step "intentions": the preferred allocation (frictions aside) under the expected market,
    # its open workloads against those running now
    planned = every_options(
        utilities if outlook is None else _option_utilities(block, active, outlook, behaviour,
                                                            capability_outlook)[0],
        active, enterprise_count, *_stack_terms(outlook or context, enterprises))
    plans[enterprises] = standing.existing & (_open_preferred(planned, active)
                                              > standing.open_now)
    chooser = standing.free_choice | standing.placing
    if not chooser.any():
        return

    # step "choice": stack values with the migration cost of moving a deployed workload, the
    # logit choice among the stacks each chooser may take, then the allocation
    migration = context.migration_usd[enterprises].take(active.owner) * per_dollar
    choice = every_options(np.stack(with_migration(utilities, standing.deployment, migration)),
                           active, enterprise_count, *_stack_terms(context, enterprises))
    placed = _placed_options(choice, active, standing, *_stack_terms(context, enterprises))
    values = np.where(standing.free_choice[:, None], choice.values, placed.values)
    chosen = np.full(enterprise_count, NOT_DEPLOYED, dtype=np.int64)
    chosen[chooser] = draw_from_weights(logit_weights(values[chooser], behaviour.logit_scale),
                                        context.choice_uniform[enterprises][chooser])
    stack[enterprises][chooser] = chosen[chooser]
    deployment_out[block.workload_slice][active.order] = _chosen_allocation(
        choice, placed, chosen, active, standing)


def _stack_terms(context: QuarterContext, enterprises: slice) -> tuple[np.ndarray, np.ndarray]:
    """(platform, peer) of a block's enterprises: what an open or hybrid stack adds to the sum
    of its workloads' utilities."""
    return context.platform[enterprises], context.peer[enterprises]


def _open_preferred(planned: EveryOptions, active: ActiveWorkloads) -> np.ndarray:
    """Per enterprise, the open workloads of its preferred allocation (the stack of highest
    value, the first of equals) with every workload movable."""
    preferred = np.argmax(planned.values, axis=1)
    hybrid_open = (planned.open_count + (planned.flip_to_open >= 0)
                   - (planned.flip_to_closed >= 0))
    return np.select([preferred == STACK_OPEN, preferred == STACK_HYBRID],
                     [active.count, hybrid_open], 0)


def best_options(every: EveryOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per active workload, (its better open option, its best option) as uint8 option codes:
    fine-tuned where it beats plain open (plain open wins ties), closed where closed is (one of)
    the best (:func:`sim.core.agents.best_open` and :func:`sim.core.agents.best_any`)."""
    finetune_better = every.utilities[FINETUNED] > every.utilities[OPEN]
    best_open_option = finetune_better.view(np.uint8) + np.uint8(OPEN)
    return best_open_option, best_open_option * ~every.closed_best


def stack_allocation(every: EveryOptions, owner, stack, best=None) -> np.ndarray:
    """Per active workload (uint8 option codes), its option when its enterprise takes ``stack``
    (per enterprise; any other value, such as ``NOT_DEPLOYED``, gives closed) with every workload
    movable: :func:`sim.core.agents.best_allocation` for a whole block at once. The closed stack
    runs everything closed, the open stack each workload's better open option, the hybrid stack
    each workload's best option with the hybrid fix's flip. ``best`` is :func:`best_options`'
    answer when the caller has it."""
    best_open_option, best_any_option = best_options(every) if best is None else best
    stack = np.asarray(stack).astype(np.int8)
    workload_stack = stack.take(owner)
    option = best_open_option * (workload_stack == STACK_OPEN)
    option += best_any_option * (workload_stack == STACK_HYBRID)
    _apply_flips(option, best_open_option, every.flip_to_open, every.flip_to_closed,
                 stack == STACK_HYBRID)
    return option


def _chosen_allocation(choice: EveryOptions, placed: PlacedOptions, chosen, active: ActiveWorkloads,
                       standing: Standing) -> np.ndarray:
    """Per active workload, its option after the choice: every workload of a free chooser takes
    the chosen stack's best option for it, a placer's new workloads likewise, each with the
    hybrid fix; the other workloads keep their deployment."""
    owner, free_choice, placing = active.owner, standing.free_choice, standing.placing
    best_open_option, best_any_option = best_options(choice)
    free_option = stack_allocation(choice, owner, np.where(free_choice, chosen, NOT_DEPLOYED),
                                   (best_open_option, best_any_option))
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
                      capability) -> tuple[np.ndarray, np.ndarray]:
    """(closed, open, open_finetuned) utilities of a block's active workloads, one row each:
    :func:`option_costs` and :func:`option_utilities` written with the constant terms of
    :class:`KernelCache` and the per-enterprise terms taken per workload; same operations, same
    order, so bit-identical. ``capability`` is :meth:`KernelCache.capability`'s answer. Returns
    the utilities and each workload's utility per dollar (:func:`cost_scale`)."""
    signals, terms, owner = context.signals, active.terms, active.owner
    enterprises, enterprise_arrays = block.enterprise_slice, block.enterprise_arrays
    utilities = np.empty((3, owner.size))
    closed_utility, open_utility, finetuned_utility = utilities
    # capability: open's relative capability, then the capability values
    finetune_lift = np.multiply(terms["finetune_gain"], signals.tooling_maturity)
    if capability is None:
        relative = _relative_capability(terms["frontier_need"], signals, behaviour)
        np.multiply(terms["capability"], relative, out=open_utility)        # capability_open
        finetuned_relative = np.add(relative, finetune_lift, out=relative)
    else:
        kept = slice(block.workload_slice.start, block.workload_slice.start + owner.size)
        finetuned_relative = np.add(capability[0][kept], finetune_lift, out=finetune_lift)
        open_utility[:] = capability[1][kept]
    np.multiply(terms["capability"], finetuned_relative, out=finetuned_utility)
    # costs in dollars, weighed by the enterprise's utility per dollar
    volume = token_volume(terms["base_volume"], terms["demand_elasticity"],
                          signals.token_demand_index)
    price_paid = closed_price_paid(terms["frontier_need"],
                                   signals.fixed_capability_price_usd_per_mtok,
                                   signals.frontier_price_usd_per_mtok)
    price_paid *= context.price_multiplier[enterprises].take(owner)
    closed_cost, open_cost, finetuned_cost = option_costs(
        volume=volume, price_paid=price_paid, throughput=terms["throughput"],
        minimum_gpus=terms["minimum_gpus"], busy_share=context.busy_share,
        serverless_factor=context.serverless_factor,
        workload_staff_usd=context.workload_staff_usd[enterprises].take(owner),
        finetune_usd=context.finetune_usd[enterprises].take(owner), signals=signals)
    per_dollar = cost_scale(volume, behaviour)
    open_utility -= np.multiply(per_dollar, open_cost, out=open_cost)
    open_utility += terms["taste_open"]
    open_utility += terms["affinity"]
    finetuned_utility -= np.multiply(per_dollar, finetuned_cost, out=finetuned_cost)
    finetuned_utility += terms["taste_finetuned"]
    finetuned_utility += terms["affinity"]
    # closed: preference and capability, cost, vendor risk, compliance, taste
    np.subtract(terms["closed_base"], np.multiply(per_dollar, closed_cost, out=closed_cost),
                out=closed_utility)
    vendor_risk = (behaviour.vendor_risk_weight * enterprise_arrays["risk_aversion"]
                   * (behaviour.base_vendor_risk + context.perceived_risk[enterprises]))
    closed_utility -= vendor_risk.take(owner)
    pressure = np.asarray(signals.regulatory_pressure)[enterprise_arrays["region"]]
    compliance = np.multiply(terms["compliance"], pressure.take(owner), out=open_cost)
    compliance *= terms["exposure"]
    closed_utility -= compliance
    closed_utility += terms["taste_closed"]
    return utilities, per_dollar


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
