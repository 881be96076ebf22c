"""One enterprise of a profile in a scenario's terms: the attributes the model's decision
arithmetic reads of an enterprise and its workloads, taken from a profile file instead of drawn
for a synthetic population (:mod:`sim.core.population`).

Two of them need a stated mapping, because the model has no unit for them:

* **ML capacity** (0..1, which relieves the engineers self-hosting needs:
  :func:`sim.core.kernel.burden_factor`). The model gives an enterprise of a sector and size band
  a capacity around :func:`sim.core.population.mean_ml_capacity`. A profile gives a number of ML
  engineers; the band's mean stands for :data:`TYPICAL_ML_ENGINEERS` of them, and the odds of the
  capacity scale with the team: ``odds(capacity) = odds(band mean) * engineers / typical``, i.e.
  ``capacity = m n / (m n + (1 - m) t)`` for band mean ``m``, ``n`` engineers and typical team
  ``t``. No engineers gives 0, the typical team the band's mean, a team k times as large odds k
  times as high, approaching 1. A profile that gives ``ml_capacity`` itself uses it as it is.
* **Tokens.** A profile gives millions of tokens a month at its ``as_of`` quarter; the model
  holds a workload's volume as millions of tokens a quarter at the horizon start (2024Q1), grown
  by the token demand index to the class's elasticity (:func:`sim.core.economics.token_volume`).
  So the volume at the horizon start is ``3 * monthly / demand(as_of) ** elasticity``, with the
  demand index of the scenario advised under: the workload's tokens grow from ``as_of`` on as the
  scenario says its class's tokens grow.

Everything else is the profile's, or the model's default for an enterprise with no
idiosyncrasy: the class's mean stakes, frontier need, sensitivity and domain specificity; the
population's mean risk aversion; tastes and open affinity 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.advise.profile import WORKLOAD_ATTRIBUTES, Profile, workload_class
from sim.core.economics import MONTHS_PER_QUARTER, token_volume
from sim.core.kernel import OPTIONS
from sim.core.population import mean_ml_capacity
from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES, Scenario

#: The ML engineers an enterprise of each size band has when its ML capacity is its band's mean
#: (our assumption: a small firm's one engineer who also does other work, a mid-size firm's small
#: team, a large firm's platform group).
TYPICAL_ML_ENGINEERS = {"small": 1.0, "mid": 5.0, "large": 25.0}


def ml_capacity(profile: Profile, scenario: Scenario) -> float:
    """The model's ML capacity (0..1) of the profile's enterprise (see the module docstring)."""
    if profile.ml_capacity is not None:
        return float(profile.ml_capacity)
    mean = float(mean_ml_capacity(scenario, SECTOR_NAMES.index(profile.sector),
                                  SIZES.index(profile.size)))
    engineers, typical = profile.ml_engineers, TYPICAL_ML_ENGINEERS[profile.size]
    return mean * engineers / (mean * engineers + (1.0 - mean) * typical)


def base_volume(monthly, elasticity, demand_as_of):
    """Millions of tokens a quarter at the horizon start of a workload using ``monthly``
    millions of tokens a month when the token demand index was ``demand_as_of``: the inverse of
    :func:`sim.core.economics.token_volume`."""
    return MONTHS_PER_QUARTER * monthly / token_volume(1.0, elasticity, demand_as_of)


@dataclass(frozen=True)
class Enterprise:
    """A profile's enterprise in a scenario's terms: scalars for the enterprise, arrays over
    its workloads (in the profile's order)."""

    regulated: bool
    region: int                  # index into REGIONS
    size_band: int               # index into SIZES
    ml_capacity: float
    risk_aversion: float
    open_affinity: float
    vendor: str | None
    names: tuple[str, ...]
    classes: tuple[str, ...]
    monthly: np.ndarray          # millions of tokens a month at as_of
    demand_elasticity: np.ndarray
    stakes: np.ndarray
    frontier_need: np.ndarray
    sensitivity: np.ndarray
    domain_specificity: np.ndarray
    tastes: np.ndarray           # (workloads, 3) in standard deviations, per option
    deployment: np.ndarray       # option codes (sim.core.kernel.OPTIONS)

    @property
    def workloads(self) -> int:
        return len(self.names)


def enterprise(profile: Profile, scenario: Scenario) -> Enterprise:
    """The profile's enterprise under ``scenario`` (class means, sector regulation and the
    population's mean risk aversion are the scenario's)."""
    population = scenario.population
    classes = tuple(workload_class(workload) for workload in profile.workloads)
    specs = [population.workload_classes[name] for name in classes]
    attributes = {name: np.array([getattr(spec, name) if getattr(workload, name) is None
                                  else getattr(workload, name)
                                  for workload, spec in zip(profile.workloads, specs)])
                  for name in WORKLOAD_ATTRIBUTES}
    risk = profile.risk_aversion
    return Enterprise(
        regulated=bool(population.sectors[profile.sector].regulated),
        region=REGIONS.index(profile.region), size_band=SIZES.index(profile.size),
        ml_capacity=ml_capacity(profile, scenario),
        risk_aversion=population.risk_aversion_mean if risk is None else risk,
        open_affinity=profile.open_affinity, vendor=profile.vendor,
        names=tuple(workload.name for workload in profile.workloads), classes=classes,
        monthly=np.array([workload.million_tokens_per_month for workload in profile.workloads]),
        demand_elasticity=np.array([spec.demand_elasticity for spec in specs]),
        tastes=np.array([[workload.tastes.closed, workload.tastes.open,
                          workload.tastes.open_finetuned] for workload in profile.workloads]),
        deployment=np.array([OPTIONS.index(workload.deployment)
                             for workload in profile.workloads], dtype=np.int8),
        **attributes)
