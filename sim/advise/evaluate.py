"""One enterprise's choice, evaluated for many cases at once with the model's own formulas.

A case is one posterior draw (:class:`sim.advise.draws.Draws`) at one quarter, possibly with a
signal set to another value (what would flip the choice). For every case and workload,
:func:`evaluate` computes what the model computes for an enterprise of its population in a
quarter:

* costs in USD (:func:`sim.core.kernel.option_costs` on the market terms of
  :func:`sim.core.market.market_terms`, the closed price of the workload's tier,
  :func:`sim.core.economics.closed_price_paid`, times its vendor's price moves);
* the options' utilities (:func:`sim.core.kernel.option_utilities`, costs weighed per million
  tokens by :func:`sim.core.kernel.cost_scale`), less the migration cost of leaving where a
  workload runs now (:func:`sim.core.kernel.with_migration`), as a reviewing enterprise pays it;
* the stack values with every workload movable, the platform's cost and the peer term included
  (:func:`sim.core.kernel.every_options`, the vectorized :func:`sim.core.agents.stack_values`,
  one "enterprise" per case), the stack of highest value (the logit's most likely choice; the
  first of equals, as the reference path's intentions take it) and its allocation
  (:func:`sim.core.kernel.stack_allocation`, :func:`sim.core.agents.best_allocation`);
* the break-even volume (:func:`sim.core.economics.workload_break_even`);
* the compliance penalty in money: the closed utility it removes (the closed utility with and
  without regulatory pressure) divided by the workload's utility per dollar. It is not a bill;
  it is what data-sovereignty duties are worth to the enterprise in the model's exchange rate.

The vendor terms and the peer share come from the simulated world (:class:`World`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from sim.advise.draws import Draws
from sim.advise.enterprise import Enterprise, base_volume
from sim.core import kernel
from sim.core.economics import closed_price_paid, open_model, token_volume, workload_break_even
from sim.core.kernel import CLOSED, FINETUNED, OPEN
from sim.core.market import market_terms, migration_usd


@dataclass(frozen=True)
class World:
    """What the enterprise meets at a quarter beyond the signals, from the scenario's simulated
    enterprises (:mod:`sim.advise.peers`): its vendor's price relative to the tier prices, the
    perceived vendor risk, and the share of its peers running open or hybrid stacks."""

    price_multiplier: float = 1.0
    perceived_risk: float = 0.0
    peer_open: float = 0.0


@dataclass
class Outcome:
    """The cases' results; arrays are (cases, workloads) unless said."""

    allocation: np.ndarray     # option codes of the chosen stack's allocation
    stack: np.ndarray          # (cases,) the chosen stack
    volume: np.ndarray         # millions of tokens this quarter
    costs: np.ndarray          # (3, cases, workloads): USD this quarter per option
    staff_usd: np.ndarray      # USD this quarter of a self-hosted workload's engineers
    compliance_usd: np.ndarray  # the compliance penalty on closed in money, this quarter
    break_even: np.ndarray     # millions of tokens a quarter above which self-hosting pays
    platform_usd: np.ndarray   # (cases,) USD this quarter of the open platform's team
    utilities: np.ndarray      # (3, cases, workloads): the options' utilities, migration paid
    platform: np.ndarray       # (cases,) the platform's cost as a utility
    peer: np.ndarray           # (cases,) the peer term of open and hybrid stacks


def evaluate(firm: Enterprise, draws: Draws, cases: np.ndarray, quarter: int, as_of: int,
             world: World, signals: dict | None = None) -> Outcome:
    """The outcome of every case (draw indices ``cases``) at ``quarter`` (counted from the
    horizon start; ``as_of`` is the profile's quarter on that count); ``signals`` sets signals
    to other values (name -> one value per case)."""
    rows = draws.rows(cases, quarter, firm.region)
    s, b, e = rows.signals, rows.behaviour, rows.economics
    for name, values in (signals or {}).items():
        setattr(s, name, np.asarray(values, dtype=float)[:, None])
    demand_as_of = draws.signals["token_demand_index"][cases, as_of][:, None]
    volume = token_volume(base_volume(firm.monthly, firm.demand_elasticity, demand_as_of),
                          firm.demand_elasticity, s.token_demand_index)
    price_paid = closed_price_paid(firm.frontier_need, s.fixed_capability_price_usd_per_mtok,
                                   s.frontier_price_usd_per_mtok) * world.price_multiplier
    terms = market_terms(s, economics=e, behaviour=b, ml_capacity=firm.ml_capacity,
                         staff=rows.platform_staff, tokens=volume.sum(axis=1, keepdims=True))
    throughput, minimum_gpus = open_model(firm.frontier_need, e)
    costs = kernel.option_costs(
        volume=volume, price_paid=price_paid, throughput=throughput, minimum_gpus=minimum_gpus,
        busy_share=terms["busy_share"], serverless_factor=terms["serverless_factor"],
        workload_staff_usd=terms["workload_staff_usd"], finetune_usd=terms["finetune_usd"],
        signals=s)
    utilities, compliance = _utilities(firm, costs, volume, world, s, b)
    choice = _choice(firm, utilities, volume, world, terms["platform"], b)
    context = SimpleNamespace(signals=s, price_multiplier=world.price_multiplier,
                              busy_share=terms["busy_share"],
                              workload_staff_usd=terms["workload_staff_usd"])
    shape = volume.shape
    return Outcome(
        allocation=choice.allocation, stack=choice.stack, volume=volume,
        costs=np.stack([np.broadcast_to(cost, shape) for cost in costs]),
        staff_usd=np.broadcast_to(terms["workload_staff_usd"], shape),
        compliance_usd=compliance,
        break_even=np.broadcast_to(workload_break_even(firm.frontier_need, context, e), shape),
        platform_usd=np.broadcast_to(terms["platform_usd"], (cases.size, 1))[:, 0],
        utilities=choice.utilities, platform=choice.platform, peer=choice.peer)


def _utilities(firm: Enterprise, costs, volume, world: World, signals, behaviour):
    """(the options' utilities, the compliance penalty in USD) per case and workload."""
    scale = kernel.cost_scale(volume, behaviour)
    terms = dict(
        stakes=firm.stakes, frontier_need=firm.frontier_need, sensitivity=firm.sensitivity,
        domain_specificity=firm.domain_specificity, closed_cost=costs[CLOSED],
        open_cost=costs[OPEN], finetuned_cost=costs[FINETUNED], cost_scale=scale,
        taste_closed=firm.tastes[:, CLOSED], taste_open=firm.tastes[:, OPEN],
        taste_finetuned=firm.tastes[:, FINETUNED], open_affinity=firm.open_affinity,
        perceived_risk=world.perceived_risk, risk_aversion=firm.risk_aversion,
        compliance_exposure=(1.0 if firm.regulated
                             else behaviour.unregulated_compliance_share),
        signals=signals, behaviour=behaviour)
    utilities = kernel.option_utilities(regulatory_pressure=signals.regulatory_pressure, **terms)
    penalty = kernel.option_utilities(regulatory_pressure=0.0, **terms)[CLOSED] - utilities[CLOSED]
    penalty, scale = np.broadcast_arrays(penalty, scale)
    return utilities, np.divide(penalty, scale, out=np.zeros(penalty.shape), where=scale > 0)


@dataclass
class _Choice:
    stack: np.ndarray
    allocation: np.ndarray
    utilities: np.ndarray
    platform: np.ndarray
    peer: np.ndarray


def _choice(firm: Enterprise, utilities, volume, world: World, platform, behaviour) -> _Choice:
    """The chosen stack per case and its allocation per case and workload: the stack values of
    every case as one enterprise each, every workload movable, the migration cost paid for
    leaving a workload's current deployment."""
    cases, workloads = volume.shape
    migration = migration_usd(behaviour) * kernel.cost_scale(volume, behaviour)
    moved = np.stack([np.broadcast_to(utility, volume.shape) for utility in
                      kernel.with_migration(utilities, firm.deployment, migration)])
    owner = np.repeat(np.arange(cases), workloads)
    active = kernel.ActiveWorkloads(order=np.arange(owner.size), owner=owner,
                                    count=np.full(cases, workloads), terms={})
    peer = np.broadcast_to(behaviour.peer_weight * world.peer_open, (cases, 1))[:, 0].copy()
    platform = np.broadcast_to(platform, (cases, 1))[:, 0].copy()
    every = kernel.every_options(moved.reshape(3, -1).copy(), active, cases, platform, peer)
    stack = np.argmax(every.values, axis=1)
    allocation = kernel.stack_allocation(every, owner, stack)
    return _Choice(stack=stack, allocation=allocation.reshape(cases, workloads).astype(np.int8),
                   utilities=moved, platform=platform, peer=peer)
