"""The market an enterprise faces: what its options cost it under some signals, in the terms a
quarter's decisions read (:class:`sim.core.kernel.QuarterContext`).

The model assembles these terms for its whole population every quarter
(:meth:`sim.core.model.AdoptionModel._market`); ``adoptsim advise`` assembles them for one
enterprise described by a profile, under many posterior draws at once. Both call the functions
here, so the two never hold separate copies of the arithmetic. Every function works on scalars
and on numpy arrays that broadcast (enterprises, or advice cases).

* :func:`platform_staff`: the engineers an open-model platform needs at an enterprise's size;
* :func:`platform_usd`: their quarterly cost once in-house ML capacity and tooling relieve them;
* :func:`market_terms`: GPU utilisation, a self-hosted workload's staff, a fine-tuned one's
  extra staff and fine-tuning runs, and the platform's cost as a utility spread over the
  enterprise's tokens;
* :func:`migration_usd`: what moving one deployed workload costs a quarter;
* :func:`real_per_simulated`: the real enterprises one simulated enterprise stands for in totals.
"""

from __future__ import annotations

import numpy as np

from sim.core.economics import staff_cost, utilisation
from sim.core.kernel import burden_factor
from sim.core.schema import SIZES


def platform_staff(scenario, size_band) -> np.ndarray:
    """Engineers an open-model platform needs before relief, per enterprise of ``size_band``
    (indices into :data:`sim.core.schema.SIZES`): ``economics.platform_fte`` times the size's
    ``platform_staff_multiplier``."""
    sizes = [scenario.population.sizes[name] for name in SIZES]
    return scenario.economics.platform_fte * np.array(
        [size.platform_staff_multiplier for size in sizes])[size_band]


def platform_usd(staff, ml_capacity, signals, economics, behaviour):
    """USD a quarter of a platform team of ``staff`` engineers (:func:`platform_staff`), the
    share in-house ML capacity and tooling maturity leave (:func:`burden_factor`)."""
    burden = burden_factor(ml_capacity, signals.tooling_maturity, behaviour)
    return staff_cost(staff, economics.salary_usd_per_year, burden)


def market_terms(signals, *, economics, behaviour, ml_capacity, staff, tokens) -> dict:
    """The terms of a quarter context that follow from prices, rents and tooling: the share of
    rented GPU time a deployment keeps busy, the serverless factor, a self-hosted workload's
    staff (USD a quarter), a fine-tuned workload's extra staff and fine-tuning runs (USD a
    quarter), the platform team's cost (``platform_usd``, USD a quarter) and that cost as a
    utility spread over the enterprise's ``tokens`` (millions this quarter;
    :func:`sim.core.kernel.cost_scale`), 0 for an enterprise without tokens."""
    burden = burden_factor(ml_capacity, signals.tooling_maturity, behaviour)
    salary = economics.salary_usd_per_year
    finetune_runs = economics.finetune_gpu_hours_per_quarter * signals.gpu_rent_usd_per_hour
    team = platform_usd(staff, ml_capacity, signals, economics, behaviour)
    shape = np.broadcast(team, tokens).shape
    platform = np.divide(team * behaviour.cost_weight, tokens, out=np.zeros(shape),
                         where=np.broadcast_to(tokens > 0, shape))
    return {
        "busy_share": utilisation(signals.tooling_maturity, economics),
        "serverless_factor": economics.serverless_price_factor,
        "workload_staff_usd": staff_cost(economics.workload_fte, salary, burden),
        "finetune_usd": staff_cost(economics.finetune_fte, salary, burden) + finetune_runs,
        "platform_usd": team,
        "platform": platform,
    }


def migration_usd(behaviour, relief=0.0):
    """USD a quarter of moving one deployed workload: the one-off migration cost spread over the
    payback quarters, less the share ``relief`` a vendor event waives."""
    return behaviour.migration_cost_usd / behaviour.payback_quarters * (1.0 - relief)


def real_per_simulated(population) -> float:
    """How many real enterprises one simulated enterprise stands for when spend and tokens are
    totalled: the real population the scenario names (``represents``) over the number simulated,
    so totals do not depend on how many enterprises a run simulates."""
    if population.represents is None:
        return 1.0
    return population.represents / population.enterprises
