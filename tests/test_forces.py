"""Behavioural tests: each of the article's forces moves adoption the right way.

Every test compares a scenario with one parameter or signal changed against the baseline, run
with the same seeds (common random numbers: the model's separate random streams keep who exists,
who reviews when and which vendor events occur aligned across the two arms). The effect is the
mean over seeds of the paired difference at the horizon end; it must be material (at least
``MIN_EFFECT``, half a percentage point of share) and at least ``T_MIN`` standard errors of the
paired differences from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from conftest import baseline, no_vendor_hazards

from sim.core.kernel import CLOSED, NOT_DEPLOYED, STACK_HYBRID, STACK_OPEN
from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.model import AdoptionModel
from sim.core.schema import REGIONS, SECTOR_NAMES

SEEDS = (1, 2, 3, 4)
ENTERPRISES = 500
MIN_EFFECT = 0.005
T_MIN = 3.0
REGULATED_SECTORS = ("sector=banking", "sector=insurance", "sector=healthcare", "sector=defence")


@dataclass
class Arm:
    models: list[AdoptionModel]

    @property
    def final(self) -> np.ndarray:
        """(seeds, metrics, segments) values at the horizon end."""
        return np.stack([model.metrics.values[-1] for model in self.models])

    def metric(self, name: str, segment: str = "all", quarter: str | None = None) -> np.ndarray:
        """Per seed, a metric at ``quarter`` (default: the horizon end)."""
        if quarter is None:
            return self.final[:, METRIC_INDEX[name], SEGMENTS.index(segment)]
        row = self.models[0].scenario.quarters.index(quarter)
        return np.array([model.metrics.values[row, METRIC_INDEX[name], SEGMENTS.index(segment)]
                         for model in self.models])

    def pooled(self, name: str, segments) -> np.ndarray:
        """A workload share pooled over several segments (weighted by their workloads)."""
        shares = np.stack([self.metric(name, s) for s in segments], axis=1)
        weights = np.stack([self.metric("workloads", s) for s in segments], axis=1)
        return (shares * weights).sum(axis=1) / weights.sum(axis=1)

    def open_share(self, select) -> np.ndarray:
        """Share of active workloads running open (any), among enterprises ``select(model)``."""
        shares = []
        for model in self.models:
            population = model.population
            active = population.arrival_quarter <= model.quarter - 1
            chosen = active & select(model)[population.owner]
            shares.append(np.mean(model.deployment[chosen] > CLOSED))
        return np.array(shares)


@cache
def arm(*overrides: str, seeds: tuple[int, ...] = SEEDS) -> Arm:
    scenario = baseline(*overrides, enterprises=ENTERPRISES)
    models = []
    for seed in seeds:
        model = AdoptionModel(scenario, seed=seed)
        model.run()
        models.append(model)
    return Arm(models)


def assert_increase(changed: np.ndarray, reference: np.ndarray, what: str) -> float:
    differences = np.asarray(changed) - np.asarray(reference)
    mean = differences.mean()
    standard_error = differences.std(ddof=1) / np.sqrt(differences.size)
    assert mean >= MIN_EFFECT, f"{what}: mean paired change {mean:+.4f} per seed {differences}"
    assert mean >= T_MIN * standard_error, (
        f"{what}: mean paired change {mean:+.4f} is not {T_MIN} standard errors "
        f"({standard_error:.4f}) from zero; per seed {differences}")
    return float(mean)


def test_paired_arms_share_their_population():
    """The premise of every test here: a changed behaviour or signal leaves who exists alone."""
    base, changed = arm(), arm("signals.closed_price_index={points: {2024Q1: 1.0}}")
    for first, second in zip(base.models, changed.models):
        np.testing.assert_array_equal(first.population.owner, second.population.owner)
        np.testing.assert_array_equal(first.population.vendor, second.population.vendor)
        np.testing.assert_array_equal(first.population.volume, second.population.volume)


def test_higher_closed_price_means_fewer_closed_workloads():
    base = arm()
    flat = arm("signals.closed_price_index={points: {2024Q1: 1.0}}")  # prices stop falling
    assert_increase(base.metric("workload_share_closed"), flat.metric("workload_share_closed"),
                    "closed share: falling vs flat closed prices")
    doubled = arm(f"behaviour.closed_price_usd_per_mtok="
                  f"{2 * base.models[0].scenario.behaviour.closed_price_usd_per_mtok}")
    # measured in 2024, while prices are still high enough for their level to matter (by 2026
    # the price war has made closed tokens nearly free, at either level)
    assert_increase(base.metric("workload_share_closed", quarter="2024Q4"),
                    doubled.metric("workload_share_closed", quarter="2024Q4"),
                    "closed share at 2024Q4: baseline vs doubled closed price")


def test_capability_gap_that_never_closes_keeps_work_on_closed():
    base = arm()
    gap = arm("signals.benchmark_gap.points={2024Q1: 17.5}", "signals.benchmark_gap.extend=null")
    assert gap.models[0].signals.benchmark_gap[-1] == pytest.approx(17.5)
    assert_increase(gap.metric("workload_share_closed"), base.metric("workload_share_closed"),
                    "closed share: gap held at 17.5 points vs closing")


def test_tooling_maturity_raises_open_use():
    base = arm()
    mature = arm("signals.tooling_maturity={points: {2024Q1: 0.95}}")
    assert_increase(
        mature.metric("workload_share_open_any"),
        base.metric("workload_share_open_any"),
        "open share: mature vs baseline tooling",
    )
    assert_increase(mature.metric("workload_share_open_finetuned"),
                    base.metric("workload_share_open_finetuned"),
                    "fine-tuned share: mature vs baseline tooling")


def test_regulatory_pressure_moves_regulated_and_eu_work_to_open():
    base = arm()
    strict = arm("signals.regulatory_pressure.eu={points: {2024Q1: 1.0}}")
    eu = assert_increase(strict.metric("workload_share_open_any", "region=eu"),
                         base.metric("workload_share_open_any", "region=eu"),
                         "EU open share: EU pressure 1.0 vs baseline")
    assert_increase(strict.pooled("workload_share_open_any", REGULATED_SECTORS),
                    base.pooled("workload_share_open_any", REGULATED_SECTORS),
                    "regulated sectors' open share: EU pressure 1.0 vs baseline")
    eu_regulated = assert_increase(
        strict.open_share(lambda m: m.population.regulated & (m.population.region == 0)),
        base.open_share(lambda m: m.population.regulated & (m.population.region == 0)),
        "open share of regulated EU enterprises")
    north_america = REGIONS.index("north_america")
    unregulated_na = (strict.open_share(lambda m: ~m.population.regulated
                                        & (m.population.region == north_america))
                      - base.open_share(lambda m: ~m.population.regulated
                                        & (m.population.region == north_america))).mean()
    assert abs(unregulated_na) < eu / 2
    # regulated EU enterprises feel the full penalty, so move most
    assert eu_regulated > eu


WITHDRAWAL_QUARTER = "2026Q1"
WITHDRAWAL = (
    f"scheduled_events=[{{quarter: {WITHDRAWAL_QUARTER}, vendor: vendor_a, type: withdrawal}}]"
)
WITHDRAWAL_SEEDS = tuple(range(1, 9))


@cache
def withdrawal_outcomes(*overrides: str) -> np.ndarray:
    """Per seed, at the end of the withdrawal quarter: open share of the workloads of vendor_a's
    initial customers, the number of them that moved any workload that quarter (to another
    stack, or within theirs), and the open share of everyone else's workloads."""
    scenario = baseline(*overrides, enterprises=ENTERPRISES)
    stop = scenario.quarters.index(WITHDRAWAL_QUARTER)
    outcomes = []
    for seed in WITHDRAWAL_SEEDS:
        model = AdoptionModel(scenario, seed=seed)
        while model.quarter < stop:
            model.step()
        before = model.deployment.copy()
        model.step()
        population = model.population
        customer = population.vendor == list(scenario.vendors).index("vendor_a")
        active = population.arrival_quarter <= stop
        placed_before = active & (before != NOT_DEPLOYED)
        moved = np.bincount(population.owner[placed_before], minlength=population.enterprises,
                            weights=before[placed_before] != model.deployment[placed_before]) > 0
        open_ = model.deployment > CLOSED
        mine = active & customer[population.owner]
        outcomes.append(
            (open_[mine].mean(), np.sum(moved & customer), open_[active & ~mine].mean())
        )
        withdrawals = model.metrics.values[stop, METRIC_INDEX["vendor_events"],
                                           SEGMENTS.index("event=withdrawal")]
        assert (withdrawals >= 1) == any(event.type == "withdrawal"
                                          for event in scenario.scheduled_events)
    return np.array(outcomes)


def test_vendor_withdrawal_moves_its_customers():
    base = withdrawal_outcomes("scheduled_events=[]")
    hit = withdrawal_outcomes(WITHDRAWAL)
    # every customer must review: many more of them move work than in the baseline
    assert_increase(hit[:, 1] / ENTERPRISES, base[:, 1] / ENTERPRISES,
                    "share of enterprises that are vendor_a customers moving work")
    # ... and on average towards open. The forced review also re-draws the logit choice of
    # customers who would have kept their stack, which common random numbers cannot pair, so
    # this comparison is noisier: it needs the mean to be material and two standard errors up.
    differences = hit[:, 0] - base[:, 0]
    assert differences.mean() >= MIN_EFFECT, differences
    assert differences.mean() >= 2 * differences.std(ddof=1) / np.sqrt(differences.size), (
        differences
    )


def test_withdrawal_shock_moves_customers_more_than_bystanders():
    """The same withdrawal with and without its perceived-risk shock: the reviews, waived
    switching costs and reassignments are paired, so only the shock differs."""
    shocked = withdrawal_outcomes(WITHDRAWAL)
    calm = withdrawal_outcomes(WITHDRAWAL, "vendor_events.withdrawal.severity=0")
    customers = assert_increase(shocked[:, 0], calm[:, 0], "open share of vendor_a's customers")
    bystanders = (shocked[:, 2] - calm[:, 2]).mean()
    assert bystanders >= 0
    assert customers > bystanders


def test_withdrawal_in_all_regions_removes_the_vendor_everywhere():
    scenario = baseline(*no_vendor_hazards(), "scheduled_events=["
                        "{quarter: 2025Q1, vendor: vendor_a, type: withdrawal},"
                        "{quarter: 2026Q1, vendor: vendor_b, type: withdrawal, region: eu}]")
    model = AdoptionModel(scenario, seed=1)
    model.run()
    assert not model.vendors.available[0].any()
    assert not (model.vendors.customer_vendor == 0).any()


def test_ml_capacity_raises_open_and_hybrid_stacks():
    base = arm()
    sizes = base.models[0].scenario.population.sizes
    raised = arm(*(f"population.sizes.{name}.ml_capacity_mean={(1 + size.ml_capacity_mean) / 2}"
                   for name, size in sizes.items()))
    for first, second in zip(base.models, raised.models):
        assert second.population.ml_capacity.mean() > first.population.ml_capacity.mean() + 0.1

    def open_or_hybrid(result: Arm) -> np.ndarray:
        return result.metric("stack_share_open") + result.metric("stack_share_hybrid")

    assert_increase(open_or_hybrid(raised), open_or_hybrid(base), "open + hybrid stack share")
    assert_increase(
        raised.metric("workload_share_open_any"),
        base.metric("workload_share_open_any"),
        "open workload share with more ML capacity",
    )
    # and within one run, enterprises with more ML capacity run open more often
    for model in base.models:
        using = model.stack >= 0
        runs_open = np.isin(model.stack, (STACK_OPEN, STACK_HYBRID))
        capacity = model.population.ml_capacity
        high = using & (capacity > np.median(capacity[using]))
        low = using & ~high
        assert runs_open[high].mean() > runs_open[low].mean()


# --- the mechanisms behind the measured 2024-2025 history (FACTS.md, "Adoption") -------------

END_2025 = "2025Q4"


def test_workload_mix_drifting_to_coding_and_agents_lowers_the_open_share():
    """Coding and agentic work needs the closed frontier; as it grows to be the largest use
    case, it dilutes the open share of workloads even while the benchmark gap closes."""
    base = arm()
    flat_mix = arm("population.workload_classes.coding_agents.share_path=null")

    def coding_share(result: Arm) -> np.ndarray:
        return (result.metric("workloads", "class=coding_agents", END_2025)
                / result.metric("workloads", "all", END_2025))

    assert_increase(coding_share(base), coding_share(flat_mix), "coding share of workloads")
    assert_increase(flat_mix.metric("workload_share_open_any", quarter=END_2025),
                    base.metric("workload_share_open_any", quarter=END_2025),
                    "open share at 2025Q4: fixed mix vs drifting toward coding")
    coding_closed = base.metric("workload_share_closed", "class=coding_agents", END_2025)
    assert (coding_closed > base.metric("workload_share_closed", quarter=END_2025)).all()


def test_the_price_war_takes_high_volume_work_back_to_closed():
    """Closed prices at fixed capability falling far faster than self-hosting costs remove the
    cost case for self-hosting high-volume internal work."""
    base = arm()
    flat = arm("signals.closed_price_index={points: {2024Q1: 1.0}}")
    assert_increase(flat.metric("workload_share_open_any", "class=internal_high_volume", END_2025),
                    base.metric("workload_share_open_any", "class=internal_high_volume", END_2025),
                    "internal high-volume open share: flat vs falling closed prices")
    assert_increase(flat.metric("volume_share_open_any", quarter=END_2025),
                    base.metric("volume_share_open_any", quarter=END_2025),
                    "token-weighted open share: flat vs falling closed prices")




def test_sector_ai_maturity_separates_unregulated_sectors():
    """Sectors with more in-house ML engineering run more open work than sectors alike in
    regulation but with less: technology against manufacturing."""
    seeds = tuple(range(1, 9))   # two sectors' shares are noisier than the whole population's
    alike = arm(*(f"population.sectors.{name}.ml_capacity_shift=0.0" for name in SECTOR_NAMES),
                seeds=seeds)
    apart = arm(*(f"population.sectors.{name}.ml_capacity_shift=0.0" for name in SECTOR_NAMES
                  if name not in ("technology", "manufacturing")),
                "population.sectors.technology.ml_capacity_shift=0.4",
                "population.sectors.manufacturing.ml_capacity_shift=-0.4", seeds=seeds)

    def technology_lead(result: Arm) -> np.ndarray:
        return (result.metric("workload_share_open_any", "sector=technology")
                - result.metric("workload_share_open_any", "sector=manufacturing"))

    assert_increase(technology_lead(apart), technology_lead(alike),
                    "technology's open share over manufacturing's")


def test_open_affinity_makes_open_use_cluster_in_some_enterprises():
    """Enterprises that lean toward open models run more of their work open; without the
    leaning, the enterprises' affinity draws tell nothing about their choices."""
    def affinity_gap(result: Arm) -> np.ndarray:
        gaps = []
        for model in result.models:
            population = model.population
            active = population.arrival_quarter <= model.quarter - 1
            open_work = np.bincount(population.owner[active],
                                    weights=model.deployment[active] > CLOSED,
                                    minlength=population.enterprises)
            work = np.bincount(population.owner[active], minlength=population.enterprises)
            using = work > 0
            affinity = population.open_affinity
            high = using & (affinity > np.median(affinity[using]))
            low = using & ~high
            gaps.append(
                open_work[high].sum() / work[high].sum() - open_work[low].sum() / work[low].sum()
            )
        return np.array(gaps)

    assert_increase(affinity_gap(arm()), affinity_gap(arm("behaviour.open_affinity_sd=0.0")),
                    "open share of high- over low-affinity enterprises")
