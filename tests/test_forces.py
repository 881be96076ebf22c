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
from conftest import baseline

from sim.kernel import CLOSED, STACK_HYBRID, STACK_OPEN
from sim.metrics import METRIC_INDEX, SEGMENTS
from sim.model import AdoptionModel
from sim.schema import REGIONS

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

    def metric(self, name: str, segment: str = "all") -> np.ndarray:
        return self.final[:, METRIC_INDEX[name], SEGMENTS.index(segment)]

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
def arm(*overrides: str) -> Arm:
    scenario = baseline(*overrides, enterprises=ENTERPRISES)
    models = []
    for seed in SEEDS:
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
    base, changed = arm(), arm("signals.closed_price_index.trend.annual_rate=0.0")
    for first, second in zip(base.models, changed.models):
        np.testing.assert_array_equal(first.population.owner, second.population.owner)
        np.testing.assert_array_equal(first.population.vendor, second.population.vendor)
        np.testing.assert_array_equal(first.population.volume, second.population.volume)


def test_higher_closed_price_means_fewer_closed_workloads():
    base = arm()
    flat = arm("signals.closed_price_index.trend.annual_rate=0.0")  # prices stop falling
    assert_increase(base.metric("workload_share_closed"), flat.metric("workload_share_closed"),
                    "closed share: falling vs flat closed prices")
    doubled = arm(f"behaviour.closed_price_usd_per_mtok="
                  f"{2 * base.models[0].scenario.behaviour.closed_price_usd_per_mtok}")
    assert_increase(base.metric("workload_share_closed"), doubled.metric("workload_share_closed"),
                    "closed share: baseline vs doubled closed price")


def test_capability_gap_that_never_closes_keeps_work_on_closed():
    base = arm()
    gap = arm("signals.benchmark_gap.points={2024Q1: 17.5}", "signals.benchmark_gap.extend=null")
    assert gap.models[0].signals.benchmark_gap[-1] == pytest.approx(17.5)
    assert_increase(gap.metric("workload_share_closed"), base.metric("workload_share_closed"),
                    "closed share: gap held at 17.5 points vs closing")


def test_tooling_maturity_raises_open_use():
    base = arm()
    mature = arm("signals.tooling_maturity={points: {2024Q1: 0.95}}")
    assert_increase(mature.metric("workload_share_open_any"), base.metric("workload_share_open_any"),
                    "open share: mature vs baseline tooling")
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
WITHDRAWAL = f"scheduled_events=[{{quarter: {WITHDRAWAL_QUARTER}, vendor: vendor_a, type: withdrawal}}]"
WITHDRAWAL_SEEDS = tuple(range(1, 9))


@cache
def withdrawal_outcomes(*overrides: str) -> np.ndarray:
    """Per seed, at the end of the withdrawal quarter: open share of the workloads of vendor_a's
    initial customers, the number of them that changed stack that quarter, and the open share of
    everyone else's workloads."""
    scenario = baseline(*overrides, enterprises=ENTERPRISES)
    stop = scenario.quarters.index(WITHDRAWAL_QUARTER)
    outcomes = []
    for seed in WITHDRAWAL_SEEDS:
        model = AdoptionModel(scenario, seed=seed)
        while model.quarter < stop:
            model.step()
        before = model.stack.copy()
        model.step()
        population = model.population
        customer = population.vendor == list(scenario.vendors).index("vendor_a")
        active = population.arrival_quarter <= stop
        open_ = model.deployment > CLOSED
        mine = active & customer[population.owner]
        outcomes.append((open_[mine].mean(), np.sum(before[customer] != model.stack[customer]),
                         open_[active & ~mine].mean()))
        withdrawals = model.metrics.values[stop, METRIC_INDEX["vendor_events"],
                                           SEGMENTS.index("event=withdrawal")]
        assert (withdrawals >= 1) == any(event.type == "withdrawal"
                                          for event in scenario.scheduled_events)
    return np.array(outcomes)


def test_vendor_withdrawal_moves_its_customers():
    base = withdrawal_outcomes("scheduled_events=[]")
    hit = withdrawal_outcomes(WITHDRAWAL)
    # every customer must review: many more of them change stack than in the baseline
    assert_increase(hit[:, 1] / ENTERPRISES, base[:, 1] / ENTERPRISES,
                    "share of enterprises that are vendor_a customers changing stack")
    # ... and on average towards open. The forced review also re-draws the logit choice of
    # customers who would have kept their stack, which common random numbers cannot pair, so
    # this comparison is noisier: it needs the mean to be material and two standard errors up.
    differences = hit[:, 0] - base[:, 0]
    assert differences.mean() >= MIN_EFFECT, differences
    assert differences.mean() >= 2 * differences.std(ddof=1) / np.sqrt(differences.size), differences


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
    no_hazards = [f"vendors.{name}.hazards={{}}" for name in ("vendor_a", "vendor_b", "vendor_c")]
    scenario = baseline(*no_hazards, "scheduled_events=["
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
    assert_increase(raised.metric("workload_share_open_any"), base.metric("workload_share_open_any"),
                    "open workload share with more ML capacity")
    # and within one run, enterprises with more ML capacity run open more often
    for model in base.models:
        using = model.stack >= 0
        runs_open = np.isin(model.stack, (STACK_OPEN, STACK_HYBRID))
        capacity = model.population.ml_capacity
        high = using & (capacity > np.median(capacity[using]))
        low = using & ~high
        assert runs_open[high].mean() > runs_open[low].mean()
