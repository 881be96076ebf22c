"""The enterprise's peers: the scenario's simulated enterprises like it, and the world they make.

A profile's advice under a scenario runs that scenario's model for a few replications (seeds
from the scenario's seed, replication ``r`` on posterior draw ``r``, as ``adoptsim run`` does)
and reads, quarter by quarter, from the model's own state:

* where the peers stand: among the simulated enterprises of the profile's sector, region and
  size band, the share running each deployment for each workload class (per enterprise, the
  share of its deployed workloads of the class on each deployment, averaged over the enterprises
  holding such work, pooled over the replications);
* the peer term of the enterprise's stack values: the share of those enterprises running an open
  or hybrid stack at the start of the quarter (non-users of AI count as not open), as the model's
  peer share counts an enterprise's neighbours (:meth:`sim.core.model.AdoptionModel.peer_share`),
  times the draw's ``behaviour.peer_weight``;
* the vendor terms: the mean price multiplier of its vendor's closed models and the mean
  perceived vendor risk among the simulated enterprises of its region that buy from its vendor
  (from any vendor when the profile names none), so the scenario's vendor events reach it as
  they reach the population.

When fewer than :data:`MIN_PEERS` simulated enterprises (pooled over the replications) share the
profile's sector, region and size, the peer group widens, in the order of :data:`PEER_GROUPS`;
the group used is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.advise.evaluate import World
from sim.advise.profile import Profile
from sim.core.kernel import NOT_DEPLOYED, OPTIONS, STACK_CLOSED
from sim.core.model import AdoptionModel
from sim.core.posterior import replication_scenario
from sim.core.scenario import load_scenario
from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES, Scenario
from sim.running.runner import replication_seeds

#: The peer groups tried in order: the attributes a peer shares with the profile's enterprise.
PEER_GROUPS = (("sector", "region", "size"), ("sector", "size"), ("sector",), ())
MIN_PEERS = 30


@dataclass
class PeerWorld:
    """What the scenario's simulated peers did, quarter by quarter (index 0: the horizon's
    first quarter), pooled over the replications."""

    group: tuple[str, ...]      # the attributes the peers share with the enterprise
    enterprises: int            # peer enterprises, summed over the replications
    replications: int
    open_stack: np.ndarray      # (quarters,) share of peers on open or hybrid stacks, start
    deployment: np.ndarray      # (quarters, classes, 3) share on each option after the quarter
    holders: np.ndarray         # (quarters, classes) peers holding work of the class
    price_multiplier: np.ndarray  # (quarters,) the vendor's price over the tier prices
    perceived_risk: np.ndarray  # (quarters,)

    def world(self, quarter: int) -> World:
        return World(price_multiplier=float(self.price_multiplier[quarter]),
                     perceived_risk=float(self.perceived_risk[quarter]),
                     peer_open=float(self.open_stack[quarter]))


def simulate_peers(scenario: Scenario, profile: Profile, *, quarters: int, replications: int,
                   enterprises: int | None = None,
                   step: Callable[[], None] | None = None) -> PeerWorld:
    """Run the scenario's model for ``replications`` replications (of ``enterprises``
    enterprises; default the scenario's) through its first ``quarters`` quarters and read the
    peers of the profile's enterprise (see the module docstring); ``step()`` is called after
    each replication."""
    if enterprises is not None and enterprises != scenario.population.enterprises:
        scenario = load_scenario(scenario, [f"population.enterprises={enterprises}"])
    seeds = replication_seeds(scenario.seed, replications)
    records = []
    for index, seed in enumerate(seeds):
        records.append(_record(AdoptionModel(replication_scenario(scenario, index), seed=seed),
                               profile, quarters))
        if step is not None:
            step()
    members = [sum(record["members"][level] for record in records)
               for level in range(len(PEER_GROUPS))]
    level = next((level for level, count in enumerate(members) if count >= MIN_PEERS),
                 len(PEER_GROUPS) - 1)

    def pooled(name: str) -> np.ndarray:
        return sum(record[name][level] for record in records)

    holders = pooled("holders")
    return PeerWorld(
        group=PEER_GROUPS[level], enterprises=int(members[level]), replications=replications,
        open_stack=pooled("open_stack") / max(members[level], 1),
        deployment=np.divide(pooled("deployment"), holders[..., None],
                             out=np.full(holders.shape + (len(OPTIONS),), np.nan),
                             where=holders[..., None] > 0),
        holders=holders,
        price_multiplier=np.mean([record["price_multiplier"] for record in records], axis=0),
        perceived_risk=np.mean([record["perceived_risk"] for record in records], axis=0))


def _groups(model: AdoptionModel, profile: Profile) -> list[np.ndarray]:
    """Per peer group of :data:`PEER_GROUPS`, which of the model's enterprises belong to it."""
    population = model.population
    same = {"sector": population.sector == SECTOR_NAMES.index(profile.sector),
            "region": population.region == REGIONS.index(profile.region),
            "size": population.size_band == SIZES.index(profile.size)}
    everyone = np.ones(population.enterprises, dtype=bool)
    return [np.logical_and.reduce([same[name] for name in group] + [everyone])
            for group in PEER_GROUPS]


def _record(model: AdoptionModel, profile: Profile, quarters: int) -> dict:
    """One replication's peers, quarter by quarter, per peer group."""
    groups = _groups(model, profile)
    customers = _vendor_customers(model, profile)
    record = {"members": [int(group.sum()) for group in groups],
              "open_stack": np.zeros((len(groups), quarters)),
              "deployment": np.zeros((len(groups), quarters, len(WORKLOAD_CLASSES),
                                      len(OPTIONS))),
              "holders": np.zeros((len(groups), quarters, len(WORKLOAD_CLASSES))),
              "price_multiplier": np.zeros(quarters), "perceived_risk": np.zeros(quarters)}
    for quarter in range(quarters):
        runs_open = (model.stack != NOT_DEPLOYED) & (model.stack != STACK_CLOSED)
        record["open_stack"][:, quarter] = [runs_open[group].sum() for group in groups]
        model.step()
        shares, held = _class_shares(model)
        for level, group in enumerate(groups):
            record["deployment"][level, quarter] = shares[group].sum(axis=0)
            record["holders"][level, quarter] = held[group].sum(axis=0)
        buyers = customers()
        record["price_multiplier"][quarter] = model.vendors.closed_price_multiplier()[buyers].mean()
        record["perceived_risk"][quarter] = model.vendors.perceived_risk[buyers].mean()
    return record


def _class_shares(model: AdoptionModel) -> tuple[np.ndarray, np.ndarray]:
    """Per enterprise and workload class: the share of its deployed workloads of the class on
    each option (enterprises, classes, options; 0 without such work), and whether it holds
    such work (enterprises, classes)."""
    population = model.population
    deployed = np.flatnonzero(model.deployment != NOT_DEPLOYED)
    cell = ((population.owner[deployed].astype(np.int64) * len(WORKLOAD_CLASSES)
             + population.workload_class[deployed]) * len(OPTIONS)
            + model.deployment[deployed])
    counts = np.bincount(cell, minlength=population.enterprises * len(WORKLOAD_CLASSES)
                         * len(OPTIONS)).reshape(population.enterprises, len(WORKLOAD_CLASSES),
                                                 len(OPTIONS))
    total = counts.sum(axis=2, keepdims=True)
    shares = np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)
    return shares, total[..., 0] > 0


def _vendor_customers(model: AdoptionModel, profile: Profile):
    """A function giving, after a quarter, the enterprises whose vendor terms the profile's
    enterprise shares: those of its region buying from its vendor (any vendor without one; the
    whole region when none buys from it any more)."""
    region = model.population.region == REGIONS.index(profile.region)
    vendor = None if profile.vendor is None else model.vendor_names.index(profile.vendor)

    def customers() -> np.ndarray:
        if vendor is None:
            return region
        buyers = region & (model.vendors.customer_vendor == vendor)
        return buyers if buyers.any() else region

    return customers
