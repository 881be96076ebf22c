"""Enterprise agents: identity, attributes, and the readable per-agent reference decision.

An :class:`Enterprise` is a Mesa agent; its peers are the model's neighbour lists
(:mod:`sim.core.peers`). Its attributes (sector, region, size band, ML capacity, risk aversion,
stack) are views of the model's struct-of-arrays state, so Mesa's ``AgentSet`` selections and
groupbys see the live values while the quarter's arithmetic runs vectorized in
:mod:`sim.core.kernel`.

:meth:`Enterprise.decide` is the reference path: the same decisions as
:func:`sim.core.kernel.decide_quarter`, written one enterprise at a time in plain Python,
consuming the same pre-drawn random numbers. Tests prove the two agree; it is not used for
production runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

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
from sim.core.mesa_internals import forget_finished_models
from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES


@dataclass
class EnterpriseDecision:
    plans_to_expand: bool
    stack: int
    deployment: dict[int, int]  # new option of each workload that was (re)placed


# --- the reference arithmetic, one enterprise at a time -------------------------------------------
# ``utilities`` maps each active workload to its (closed, open, open_finetuned) utilities, in
# workload order; ``current`` maps it to its deployed option (NOT_DEPLOYED if new); ``movable`` is
# the set of workloads that may be (re)placed this quarter.

def best_open(utility) -> int:
    """The better open option of one workload (plain open wins ties)."""
    return FINETUNED if utility[FINETUNED] > utility[OPEN] else OPEN


def best_any(utility) -> int:
    """The best option of one workload (closed wins ties)."""
    open_option = best_open(utility)
    return CLOSED if utility[CLOSED] >= utility[open_option] else open_option


def best_allocation(stack: int, utilities: dict, current: dict, movable: set) -> dict | None:
    """The best allocation of an enterprise's workloads under one stack, or None if the stack is
    infeasible (no workloads, or an unmovable workload of the wrong kind).

    Movable workloads take the stack's best option; the others keep ``current``. A hybrid stack
    needs at least one closed and one open workload: when the unconstrained best has only one
    kind, the movable workload that loses least by switching kind is switched (the first of
    equals, in workload order).
    """
    allocation = {}
    for workload, utility in utilities.items():
        if workload not in movable:
            allocation[workload] = current[workload]
        elif stack == STACK_CLOSED:
            allocation[workload] = CLOSED
        elif stack == STACK_OPEN:
            allocation[workload] = best_open(utility)
        else:
            allocation[workload] = best_any(utility)
    kinds = [option == CLOSED for option in allocation.values()]
    if not kinds:
        return None
    if stack == STACK_CLOSED:
        return allocation if all(kinds) else None
    if stack == STACK_OPEN:
        return allocation if not any(kinds) else None
    closed_count = sum(kinds)
    open_count = len(kinds) - closed_count
    if closed_count and open_count:
        return allocation
    # hybrid needs both kinds: switch the movable workload that loses least
    missing_closed = closed_count == 0
    if (open_count if missing_closed else closed_count) < 2:
        return None
    best_loss, best_workload = None, None
    for workload, utility in utilities.items():
        if workload not in movable:
            continue
        best = max(utility[CLOSED], utility[best_open(utility)])
        loss = best - (utility[CLOSED] if missing_closed else utility[best_open(utility)])
        if best_loss is None or loss < best_loss:
            best_loss, best_workload = loss, workload
    if best_workload is None:
        return None
    allocation[best_workload] = CLOSED if missing_closed else best_open(utilities[best_workload])
    return allocation


def stack_values(utilities: dict, current: dict, movable: set, platform: float,
                 peer: float) -> tuple[list[float], list[dict | None]]:
    """Each stack's value and the allocation achieving it (-inf and None where infeasible).

    A stack's value is the sum of its workloads' utilities under :func:`best_allocation`, added
    in workload order; the open and hybrid stacks also pay the fixed open-platform cost
    ``platform`` (the article's break-even of self-hosting) and gain the peer influence ``peer``
    (diffusion by social proof).
    """
    values, allocations = [], []
    for stack in (STACK_CLOSED, STACK_OPEN, STACK_HYBRID):
        allocation = best_allocation(stack, utilities, current, movable)
        allocations.append(allocation)
        if allocation is None:
            values.append(-float("inf"))
            continue
        value = 0.0
        for workload, option in allocation.items():
            value += utilities[workload][option]
        if stack != STACK_CLOSED:
            value += peer - platform
        values.append(value)
    return values, allocations


def logit_choice(values, logit_scale: float, uniform: float) -> int:
    """The stack drawn by multinomial logit over ``values`` with one pre-drawn uniform."""
    weights = kernel.logit_weights(values, logit_scale)
    return int(kernel.draw_from_weights(weights, np.asarray(uniform)))


@forget_finished_models
class Enterprise(mesa.Agent):
    """An enterprise deciding, each quarter, which of its workloads run on which stack."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    # --- attributes, read from the model's arrays -------------------------------------------
    @property
    def sector(self) -> str:
        return SECTOR_NAMES[self.model.population.sector[self.index]]

    @property
    def regulated(self) -> bool:
        return bool(self.model.population.regulated[self.index])

    @property
    def region(self) -> str:
        return REGIONS[self.model.population.region[self.index]]

    @property
    def size(self) -> str:
        return SIZES[self.model.population.size_band[self.index]]

    @property
    def ml_capacity(self) -> float:
        return float(self.model.population.ml_capacity[self.index])

    @property
    def risk_aversion(self) -> float:
        return float(self.model.population.risk_aversion[self.index])

    @property
    def stack(self) -> str | None:
        code = int(self.model.stack[self.index])
        return None if code == NOT_DEPLOYED else kernel.STACKS[code]

    @property
    def workload_indices(self) -> range:
        first = self.model.population.first_workload
        return range(int(first[self.index]), int(first[self.index + 1]))

    # --- the reference decision ----------------------------------------------------------------
    def _utilities(self, workload: int, context, behaviour) -> tuple[float, float, float]:
        population, signals = self.model.population, context.signals
        exposure = 1.0 if self.regulated else behaviour.unregulated_compliance_share
        return kernel.option_utilities(
            stakes=population.stakes[workload],
            frontier_need=population.frontier_need[workload],
            sensitivity=population.sensitivity[workload],
            domain_specificity=population.domain_specificity[workload],
            volume=population.volume[workload],
            taste_closed=population.taste[workload, CLOSED],
            taste_open=population.taste[workload, OPEN],
            taste_finetuned=population.taste[workload, FINETUNED],
            open_affinity=population.open_affinity[self.index],
            closed_price=context.closed_price[self.index],
            open_price=context.open_price,
            perceived_risk=context.perceived_risk[self.index],
            risk_aversion=self.risk_aversion,
            regulatory_pressure=signals.regulatory_pressure[population.region[self.index]],
            compliance_exposure=exposure,
            burden_factor=kernel.burden_factor(
                self.ml_capacity, signals.tooling_maturity, behaviour
            ),
            signals=signals,
            behaviour=behaviour,
        )

    def decide(self, context, behaviour, outlook=None) -> EnterpriseDecision:
        """Intentions (under ``outlook``, the market expected ahead, if given), then (if
        reviewing, new to AI, or placing new workloads) a logit choice.

        Intentions: the preferred stack's allocation holds more open workloads than run now
        (the article's plans to expand open use). A review (periodic, or forced by a vendor
        event) re-chooses every workload and pays the switching cost to leave the current stack
        (the inertia of re-platforming); without one, only new workloads are placed, the others
        constraining which stacks remain. Mirrors :func:`sim.core.kernel.decide_quarter` for
        this one enterprise.
        """
        active = [workload for workload in self.workload_indices if context.active[workload]]
        current_stack = int(context.stack[self.index])
        if not active:
            return EnterpriseDecision(False, current_stack, {})
        utilities = {workload: self._utilities(workload, context, behaviour) for workload in active}
        current = {workload: int(context.deployment[workload]) for workload in active}
        existing = current_stack != NOT_DEPLOYED

        platform, peer = context.platform[self.index], context.peer[self.index]
        values, allocations = stack_values(utilities, current, set(active), platform, peer)
        planned_values, planned_allocations = values, allocations
        if outlook is not None:
            expected = {workload: self._utilities(workload, outlook, behaviour)
                        for workload in active}
            planned_values, planned_allocations = stack_values(
                expected, current, set(active), outlook.platform[self.index],
                outlook.peer[self.index])
        preferred = max(range(3), key=lambda stack: (planned_values[stack], -stack))
        open_now = sum(1 for workload in active if current[workload] > CLOSED)
        open_preferred = sum(1 for option in planned_allocations[preferred].values()
                             if option > CLOSED)
        plans = existing and open_preferred > open_now

        new_workloads = {workload for workload in active if current[workload] == NOT_DEPLOYED}
        if context.review[self.index] or not existing:
            movable = set(active)
            switching = float(context.switching[self.index])
            values = [value - switching * (1.0 if stack != current_stack else 0.0)
                      for stack, value in enumerate(values)]
        elif new_workloads:
            movable = new_workloads
            values, allocations = stack_values(utilities, current, movable, platform, peer)
        else:
            return EnterpriseDecision(plans, current_stack, {})

        chosen = logit_choice(values, behaviour.logit_scale, context.choice_uniform[self.index])
        return EnterpriseDecision(plans, chosen,
                                  {workload: allocations[chosen][workload]
                                   for workload in active if workload in movable})
