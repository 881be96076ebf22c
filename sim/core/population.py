"""The synthetic population: enterprises and their workload portfolios, as struct-of-arrays.

Enterprises get a sector, region and size from the scenario's mix, ML engineering capacity that
grows with size, a risk aversion, a primary closed vendor, and a quarter at which they start
using generative AI (a logistic diffusion per size band: large enterprises first). Their
workloads are generated up front, each with the quarter it joins the portfolio, so growth is data
rather than state. Workloads of one enterprise are contiguous and ordered by arrival.

Attributes come from the ``population`` random stream; entry and portfolio growth from the
``growth`` stream, so changing a behaviour parameter never changes who exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.quarters import parse_quarter
from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES, Scenario

PRIVACY_SENSITIVE = WORKLOAD_CLASSES.index("privacy_sensitive")
WORKLOAD_ATTRIBUTES = ("stakes", "frontier_need", "sensitivity", "domain_specificity")


@dataclass
class Population:
    """Enterprise arrays have length ``n``; workload arrays length ``W``.

    ``entry_quarter`` and ``arrival_quarter`` count quarters from the horizon start (0 = first
    reported quarter; values <= 0 are active at the start, the horizon's quarter count means
    never).
    """

    sector: np.ndarray          # index into SECTOR_NAMES
    regulated: np.ndarray       # bool
    region: np.ndarray          # index into REGIONS
    size_band: np.ndarray       # index into SIZES
    ml_capacity: np.ndarray     # 0..1
    risk_aversion: np.ndarray   # 0..1
    vendor: np.ndarray          # index into the scenario's vendors
    entry_quarter: np.ndarray
    first_workload: np.ndarray  # (n + 1) offsets into the workload arrays
    owner: np.ndarray
    workload_class: np.ndarray  # index into WORKLOAD_CLASSES
    arrival_quarter: np.ndarray
    volume: np.ndarray          # millions of tokens per quarter
    stakes: np.ndarray
    frontier_need: np.ndarray
    sensitivity: np.ndarray
    domain_specificity: np.ndarray
    taste: np.ndarray           # (W, 3) standard-normal persistent tastes per option
    open_affinity: np.ndarray   # (n,) standard-normal persistent leaning toward open models

    @property
    def enterprises(self) -> int:
        return self.sector.size

    @property
    def workloads(self) -> int:
        return self.owner.size

    def active_workloads(self, quarter: int) -> np.ndarray:
        """Indices (ascending) of the workloads in a portfolio at ``quarter``. The last answer
        is kept, so every user in a quarter shares one array."""
        cached = self.__dict__.get("_active_workloads")
        if cached is None or cached[0] != quarter:
            cached = (quarter, np.flatnonzero(self.arrival_quarter <= quarter))
            self.__dict__["_active_workloads"] = cached
        return cached[1]


def _categorical(rng: np.random.Generator, names: tuple[str, ...], shares: dict[str, float],
                 count: int) -> np.ndarray:
    probabilities = np.array([shares.get(name, 0.0) for name in names])
    cumulative = np.cumsum(probabilities / probabilities.sum())
    draws = np.searchsorted(cumulative, rng.random(count), side="right")
    return np.minimum(draws, len(names) - 1).astype(np.int8)


def _beta(rng: np.random.Generator, mean: np.ndarray | float, concentration: float,
          count: int) -> np.ndarray:
    """Beta draws by inverting the CDF of one uniform each, so the stream advances by ``count``
    whatever the parameters (numpy's beta sampler uses a varying number of draws, which would
    reshuffle every attribute drawn after it when a mean changes)."""
    from scipy.special import betaincinv

    mean = np.broadcast_to(mean, (count,))
    return betaincinv(mean * concentration, (1.0 - mean) * concentration, rng.random(count))


def ai_use_curve(scenario: Scenario, size: str) -> np.ndarray:
    """Share of a size band using generative AI at each quarter of the horizon.

    A logistic diffusion rescaled to start at ``ai_use_at_start`` and approach ``ai_use_ceiling``.
    """
    band = scenario.population.sizes[size]
    start = parse_quarter(scenario.horizon.start)
    years = (np.arange(scenario.horizon.quarter_count) + start
             - parse_quarter(band.ai_use_midpoint)) / 4.0
    logistic = 1.0 / (1.0 + np.exp(-band.ai_use_steepness * years))
    progress = np.clip((logistic - logistic[0]) / (1.0 - logistic[0]), 0.0, 1.0)
    return band.ai_use_at_start + (band.ai_use_ceiling - band.ai_use_at_start) * np.maximum(
        progress, 0.0
    )


def _entry_quarters(scenario: Scenario, size_band: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Quarter each enterprise starts using AI: the first quarter its size band's adoption share
    exceeds the enterprise's own threshold (0 if already using AI, the quarter count if never)."""
    quarter_count = scenario.horizon.quarter_count
    thresholds = rng.random(size_band.size)
    entry = np.full(size_band.size, quarter_count, dtype=np.int32)
    for code, name in enumerate(SIZES):
        members = size_band == code
        curve = ai_use_curve(scenario, name)
        entry[members] = np.searchsorted(
            np.maximum.accumulate(curve), thresholds[members], side="right"
        )
    return entry


def _workload_counts(scenario: Scenario, size_band: np.ndarray, entry: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """(n, quarter count + 1) count of workloads joining each enterprise at each quarter; the last
    column holds the single dormant workload of enterprises that never enter."""
    quarter_count = scenario.horizon.quarter_count
    bands = [scenario.population.sizes[name] for name in SIZES]
    initial_mean = np.array([band.initial_workloads for band in bands])[size_band]
    growth_rate = np.array([band.new_workloads_per_year / 4.0 for band in bands])[size_band]
    initial = 1 + rng.poisson(initial_mean)
    growth = rng.poisson(np.repeat(growth_rate[:, None], quarter_count, axis=1))
    quarter_index = np.arange(quarter_count)[None, :]
    counts = np.zeros((size_band.size, quarter_count + 1), dtype=np.int64)
    counts[:, :quarter_count] = np.where(quarter_index > entry[:, None], growth, 0)
    counts[np.arange(size_band.size), np.minimum(entry, quarter_count)] += np.where(
        entry < quarter_count, initial, 1)
    return counts


def class_mix(scenario: Scenario) -> np.ndarray:
    """(quarters + 1, classes) share of each workload class among the workloads added at each
    quarter (the last row for dormant workloads): ``share`` at the start, each class's
    ``share_path`` where given (the mix drifting, e.g. toward coding and agents), renormalised."""
    classes = [scenario.population.workload_classes[name] for name in WORKLOAD_CLASSES]
    start = parse_quarter(scenario.horizon.start)
    quarters = np.arange(scenario.horizon.quarter_count + 1) + start
    mix = np.empty((quarters.size, len(classes)))
    for column, spec in enumerate(classes):
        if spec.share_path is None:
            mix[:, column] = spec.share
            continue
        dated = sorted((parse_quarter(q), value) for q, value in spec.share_path.items())
        path = np.interp(quarters, [q for q, _ in dated], [v for _, v in dated])
        mix[:, column] = np.where(quarters == start, spec.share, path)
    return mix / mix.sum(axis=1, keepdims=True)


def _workload_classes(scenario: Scenario, regulated_owner: np.ndarray, arrival: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """Draw each workload's class from the mix of its arrival quarter; regulated sectors hold
    more privacy-sensitive work. One uniform per workload, whatever the mix."""
    mix = class_mix(scenario)
    tilted = mix.copy()
    tilted[:, PRIVACY_SENSITIVE] *= scenario.population.regulated_privacy_multiplier
    tilted /= tilted.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(np.stack([mix, tilted]), axis=2)   # (regulated, quarter, class)
    uniforms = rng.random(regulated_owner.size)
    rows = cumulative[regulated_owner.astype(np.intp), arrival]
    # how many cumulative shares are <= the uniform
    draws = (rows <= uniforms[:, None]).sum(axis=1)
    return np.minimum(draws, len(WORKLOAD_CLASSES) - 1).astype(np.int8)


def build_population(scenario: Scenario, population_rng: np.random.Generator,
                     growth_rng: np.random.Generator) -> Population:
    """Draw the enterprises (population stream) and their portfolios (growth stream)."""
    enterprises = _draw_enterprises(scenario, population_rng)
    workloads = _draw_workloads(scenario, enterprises["size_band"], enterprises["regulated"],
                                growth_rng)
    return Population(**enterprises, **workloads)


def _draw_enterprises(scenario: Scenario, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The enterprises' arrays of :class:`Population`: sector (and whether it is regulated),
    region, size band, ML capacity, risk aversion, vendor, open affinity."""
    mix = scenario.population
    n = mix.enterprises
    sector = _categorical(rng, SECTOR_NAMES, {k: v.share for k, v in mix.sectors.items()}, n)
    regulated_by_sector = np.array([mix.sectors[name].regulated if name in mix.sectors else False
                                    for name in SECTOR_NAMES])
    region = _categorical(rng, REGIONS, mix.regions, n)
    size_band = _categorical(rng, SIZES, {k: v.share for k, v in mix.sizes.items()}, n)
    ml_shift = np.array([mix.sectors[name].ml_capacity_shift if name in mix.sectors else 0.0
                         for name in SECTOR_NAMES])[sector]
    ml_mean = np.clip(
        np.array([mix.sizes[name].ml_capacity_mean for name in SIZES])[size_band] + ml_shift,
        0.02,
        0.98,
    )
    ml_capacity = _beta(rng, ml_mean, mix.ml_capacity_concentration, n)
    risk_aversion = _beta(rng, mix.risk_aversion_mean, mix.risk_aversion_concentration, n)
    vendor = _categorical(rng, tuple(scenario.vendors),
                          {k: v.market_share for k, v in scenario.vendors.items()}, n)
    return {"sector": sector, "regulated": regulated_by_sector[sector], "region": region,
            "size_band": size_band, "ml_capacity": ml_capacity, "risk_aversion": risk_aversion,
            "vendor": vendor, "open_affinity": rng.standard_normal(n)}


def _draw_workloads(scenario: Scenario, size_band: np.ndarray, regulated: np.ndarray,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The portfolios' arrays of :class:`Population`: when each enterprise starts, its
    workloads' owners, arrival quarters, classes, attributes, volumes and tastes."""
    mix = scenario.population
    entry = _entry_quarters(scenario, size_band, rng)
    counts = _workload_counts(scenario, size_band, entry, rng)
    per_enterprise = counts.sum(axis=1)
    owner = np.repeat(np.arange(size_band.size, dtype=np.int32), per_enterprise)
    arrival = np.repeat(np.tile(np.arange(counts.shape[1], dtype=np.int32), size_band.size),
                        counts.ravel())
    workload_class = _workload_classes(scenario, regulated[owner], arrival, rng)

    class_specs = [mix.workload_classes[name] for name in WORKLOAD_CLASSES]
    spread = np.array([spec.attribute_spread for spec in class_specs])[workload_class]
    attributes = {
        name: np.clip(np.array([getattr(spec, name) for spec in class_specs])[workload_class]
                      + spread * rng.standard_normal(owner.size), 0.0, 1.0)
        for name in WORKLOAD_ATTRIBUTES}
    median = np.array([spec.volume_mtok_median for spec in class_specs])[workload_class]
    log_sd = np.array([spec.volume_log_sd for spec in class_specs])[workload_class]
    size_volume = np.array([mix.sizes[name].volume_multiplier for name in SIZES])[size_band]
    volume = median * size_volume[owner] * np.exp(log_sd * rng.standard_normal(owner.size))
    return {"entry_quarter": entry,
            "first_workload": np.concatenate([[0], np.cumsum(per_enterprise)]),
            "owner": owner, "workload_class": workload_class, "arrival_quarter": arrival,
            "volume": volume, "taste": rng.standard_normal((owner.size, 3)), **attributes}
