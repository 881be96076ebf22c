"""Advice for one enterprise under some scenarios, as tables.

For each scenario (:func:`scenario_advice`): the profile's enterprise in the scenario's terms
(:mod:`sim.advise.enterprise`), its posterior draws (:mod:`sim.advise.draws`), its simulated
peers (:mod:`sim.advise.peers`), then every quarter from the start of the profile's ``as_of``
year to the horizon's end (or ``until``) evaluated for every draw at once
(:mod:`sim.advise.evaluate`). A year's row reads its last evaluated quarter:

* the recommended deployment, the one most draws give the workload, and the share of draws that
  agree (:func:`sim.advise.flips.recommend`), and the first quarter of the year (from ``as_of``
  on) at which the recommendation differs from the quarter before;
* each option's yearly cost in USD by part (the year's quarters summed, annualised when
  ``until`` cuts the year), mean and 90% interval over the draws: closed, the API tokens;
  open, its GPUs and its engineers; fine-tuned, those and the fine-tuning (more engineers and
  fine-tuning runs); and, beside closed, the compliance penalty's money equivalent (not a bill);
  the open platform's team, which any open workload needs, is the enterprise's, on every row;
* the break-even volume of self-hosting it, in millions of tokens a month (median and 90%
  interval over the draws; ``inf``: never), beside its own tokens a month;
* the signal values that would flip the recommendation (:mod:`sim.advise.flips`);
* where the peers stand for its class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.advise.draws import Draws
from sim.advise.enterprise import Enterprise, enterprise
from sim.advise.evaluate import evaluate
from sim.advise.flips import FLIP_SIGNALS, Threshold, recommend, thresholds
from sim.advise.peers import PeerWorld, simulate_peers
from sim.advise.profile import Profile
from sim.core.economics import MONTHS_PER_QUARTER
from sim.core.kernel import CLOSED, FINETUNED, OPEN, OPTIONS
from sim.core.quarters import format_quarter, parse_quarter
from sim.core.scenario import scenario_hash
from sim.core.schema import WORKLOAD_CLASSES, Scenario
from sim.core.settings_file import ScenarioError

DEFAULT_PEER_REPLICATIONS = 4
#: The parts of each option's cost, in the order reports show them.
COST_PARTS = {"closed": ("api_tokens", "compliance"), "open": ("gpus", "staff"),
              "open_finetuned": ("gpus", "staff", "fine_tuning")}
#: Parts that are not money paid: shown beside the cost, left out of its total.
NOT_PAID = ("compliance",)


@dataclass(frozen=True)
class Settings:
    """How much to compute: posterior draws (default all), the peer simulation's replications
    and enterprises (default the scenario's), and the last quarter advised on (default each
    scenario's horizon end)."""

    draws: int | None = None
    peer_replications: int = DEFAULT_PEER_REPLICATIONS
    peer_enterprises: int | None = None
    until: str | None = None


@dataclass
class Advice:
    """The advice: per scenario what it is and how it was computed, and the tables."""

    profile: Profile
    scenarios: list[dict]
    table: pd.DataFrame          # one row per scenario, workload and year
    costs: pd.DataFrame          # yearly cost by option and part
    thresholds: pd.DataFrame     # signal values that flip a recommendation
    settings: Settings = field(default_factory=Settings)


def advise(profile: Profile, scenarios: list[Scenario], settings: Settings = Settings(),
           progress: Callable[[int, int], None] | None = None,
           peers: Callable[..., PeerWorld] = simulate_peers) -> Advice:
    """The profile's advice under each of ``scenarios`` (the first is the reference).
    ``progress(done, total)``, if given, is called after each peer replication and each year
    advised on (:func:`progress_steps` of them per scenario); an exception it raises (a newer
    request cancelling this one, say) stops the advice. ``peers`` simulates the peers (called
    as :func:`sim.advise.peers.simulate_peers` is; one that keeps its results may stand in)."""
    check_inputs(profile, scenarios, settings.until)
    total = sum(progress_steps(profile, scenario, settings) for scenario in scenarios)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    parts = [scenario_advice(profile, scenario, settings, step, peers) for scenario in scenarios]
    return Advice(profile=profile, scenarios=[part[0] for part in parts],
                  table=pd.DataFrame([row for part in parts for row in part[1]]),
                  costs=pd.DataFrame([row for part in parts for row in part[2]]),
                  thresholds=pd.DataFrame([row for part in parts for row in part[3]]),
                  settings=settings)


def progress_steps(profile: Profile, scenario: Scenario, settings: Settings) -> int:
    """The steps of :func:`advise`'s progress under one scenario: one per peer replication,
    one per year advised on (from the profile's ``as_of`` year to ``until`` or the horizon's
    end)."""
    last = parse_quarter(settings.until or scenario.horizon.end)
    return settings.peer_replications + last // 4 - parse_quarter(profile.as_of) // 4 + 1


def check_inputs(profile: Profile, scenarios: list[Scenario], until: str | None) -> None:
    """Every scenario must know the profile's sector and vendor and hold its ``as_of`` quarter
    and ``until``; scenario names must differ (rows are kept by name)."""
    names = [scenario.name for scenario in scenarios]
    for name in names:
        if names.count(name) > 1:
            raise ScenarioError(f"two scenarios are named '{name}'; advice keeps its rows by "
                                "scenario name: give each scenario its own name")
    for scenario in scenarios:
        start, end = scenario.horizon.start, scenario.horizon.end
        if profile.sector not in scenario.population.sectors:
            raise profile.problem("sector", f"'{profile.sector}' is not a sector of scenario "
                                  f"'{scenario.name}'")
        if profile.vendor is not None and profile.vendor not in scenario.vendors:
            raise profile.problem("vendor", f"'{profile.vendor}' is not a vendor of scenario "
                                  f"'{scenario.name}'; its vendors: {', '.join(scenario.vendors)}")
        if not parse_quarter(start) <= parse_quarter(profile.as_of) <= parse_quarter(end):
            raise profile.problem("as_of", f"{profile.as_of} is outside the horizon {start}.."
                                  f"{end} of scenario '{scenario.name}'")
        if until is not None and not (parse_quarter(profile.as_of) <= parse_quarter(until)
                                      <= parse_quarter(end)):
            raise ScenarioError(f"must lie between the profile's as_of {profile.as_of} and "
                                f"the horizon end {end} of scenario '{scenario.name}'",
                                file=f"--until {until}")


@dataclass
class Quarterly:
    """Every evaluated quarter's outcome for every draw, stacked: arrays are (quarters,
    draws, workloads), costs (quarters, 3, draws, workloads)."""

    quarters: list[int]          # counted from the horizon start
    allocation: np.ndarray
    costs: np.ndarray
    staff: np.ndarray
    compliance: np.ndarray
    break_even: np.ndarray
    volume: np.ndarray
    platform: np.ndarray         # (quarters, draws)
    recommended: np.ndarray      # (quarters, workloads)
    shares: np.ndarray           # (quarters, 3, workloads)


def _quarterly(firm: Enterprise, draws: Draws, quarters: list[int], as_of: int,
               peers: PeerWorld) -> Quarterly:
    cases = np.arange(draws.count)
    outcomes = [evaluate(firm, draws, cases, quarter, as_of, peers.world(quarter))
                for quarter in quarters]
    allocation = np.stack([outcome.allocation for outcome in outcomes])
    recommended, shares = recommend(allocation)
    return Quarterly(
        quarters=quarters, allocation=allocation,
        costs=np.stack([outcome.costs for outcome in outcomes]),
        staff=np.stack([outcome.staff_usd for outcome in outcomes]),
        compliance=np.stack([outcome.compliance_usd for outcome in outcomes]),
        break_even=np.stack([outcome.break_even for outcome in outcomes]),
        volume=np.stack([outcome.volume for outcome in outcomes]),
        platform=np.stack([outcome.platform_usd for outcome in outcomes]),
        recommended=recommended, shares=shares)


def scenario_advice(profile: Profile, scenario: Scenario, settings: Settings,
                    step: Callable[[], None] | None = None,
                    simulate: Callable[..., PeerWorld] = simulate_peers
                    ) -> tuple[dict, list, list, list]:
    """(what the scenario is and how it was computed, advice rows, cost rows, threshold rows)
    of the profile under one scenario; ``step()`` is called after each peer replication and
    each year; ``simulate`` simulates the peers (:func:`sim.advise.peers.simulate_peers`)."""
    firm = enterprise(profile, scenario)
    draws = Draws.of(scenario, firm.size_band, settings.draws)
    start = parse_quarter(scenario.horizon.start)
    as_of = parse_quarter(profile.as_of) - start
    last = parse_quarter(settings.until or scenario.horizon.end) - start
    first = max(0, (parse_quarter(profile.as_of) // 4) * 4 - start)
    peers = simulate(scenario, profile, quarters=last + 1,
                     replications=settings.peer_replications,
                     enterprises=settings.peer_enterprises, step=step)
    quarterly = _quarterly(firm, draws, list(range(first, last + 1)), as_of, peers)
    rows, cost_rows, threshold_rows = [], [], []
    for year, positions in _years(quarterly.quarters, start).items():
        row = positions[-1]
        quarter = quarterly.quarters[row]
        found = _flips(firm, draws, quarterly, row, as_of, peers)
        label = {"scenario": scenario.name, "year": year,
                 "quarter": format_quarter(start + quarter)}
        threshold_rows += [_threshold_row(label, firm, threshold) for threshold in found]
        for workload in range(firm.workloads):
            costs = _yearly_costs(quarterly, positions, workload)
            cost_rows += [{**label, "workload": firm.names[workload], "option": option,
                           "part": part, **_interval(values)}
                          for (option, part), values in costs.items()]
            rows.append(_advice_row(label, firm, quarterly, positions, workload, as_of, start,
                                    costs, found, peers))
        if step is not None:
            step()
    return _scenario_record(scenario, firm, draws, peers), rows, cost_rows, threshold_rows


def _years(quarters: list[int], start: int) -> dict[int, list[int]]:
    """Calendar year -> positions (in ``quarters``) of its evaluated quarters."""
    years: dict[int, list[int]] = {}
    for position, quarter in enumerate(quarters):
        years.setdefault((start + quarter) // 4, []).append(position)
    return years


def _interval(values: np.ndarray, method: str = "linear") -> dict[str, float]:
    """Mean and 90% interval (5th and 95th percentiles) over the draws."""
    low, high = np.quantile(values, [0.05, 0.95], method=method)
    return {"mean": float(np.mean(values)), "p5": float(low), "p95": float(high)}


def _yearly_costs(quarterly: Quarterly, positions: list[int], workload: int) -> dict:
    """(option, part) -> USD over the year per draw (annualised when the year is cut)."""
    def year(values: np.ndarray) -> np.ndarray:
        return values[positions, :, workload].sum(axis=0) * 4 / len(positions)

    costs, staff = quarterly.costs, year(quarterly.staff)
    open_total, finetuned_total = year(costs[:, OPEN]), year(costs[:, FINETUNED])
    return {("closed", "api_tokens"): year(costs[:, CLOSED]),
            ("closed", "compliance"): year(quarterly.compliance),
            ("open", "gpus"): open_total - staff, ("open", "staff"): staff,
            ("open_finetuned", "gpus"): open_total - staff, ("open_finetuned", "staff"): staff,
            ("open_finetuned", "fine_tuning"): finetuned_total - open_total}


def _advice_row(label: dict, firm: Enterprise, quarterly: Quarterly, positions: list[int],
                workload: int, as_of: int, start: int, costs: dict, found: list[Threshold],
                peers: PeerWorld) -> dict:
    """One row of the advice table (see the module docstring)."""
    row = positions[-1]
    recommended = int(quarterly.recommended[row, workload])
    changes = [quarterly.quarters[p] for p in positions if p > 0
               and quarterly.quarters[p] > as_of
               and quarterly.recommended[p, workload] != quarterly.recommended[p - 1, workload]]
    break_even = _interval(quarterly.break_even[row, :, workload] / MONTHS_PER_QUARTER,
                           method="inverted_cdf")
    record = {**label, "workload": firm.names[workload], "class": firm.classes[workload],
              "deployment_now": OPTIONS[firm.deployment[workload]],
              "recommended": OPTIONS[recommended],
              "agreement": float(quarterly.shares[row, recommended, workload]),
              **{f"share_{option}": float(quarterly.shares[row, code, workload])
                 for code, option in enumerate(OPTIONS)},
              "changes_in": format_quarter(start + changes[0]) if changes else "",
              "mtok_per_month": float(np.median(quarterly.volume[row, :, workload]))
              / MONTHS_PER_QUARTER,
              "break_even_mtok_per_month": float(np.median(
                  quarterly.break_even[row, :, workload])) / MONTHS_PER_QUARTER,
              "break_even_p5": break_even["p5"], "break_even_p95": break_even["p95"]}
    for option, parts in COST_PARTS.items():
        total = sum(costs[option, part] for part in parts if part not in NOT_PAID)
        interval = _interval(total)
        record.update({f"cost_{option}_usd": interval["mean"],
                       f"cost_{option}_p5": interval["p5"], f"cost_{option}_p95": interval["p95"]})
    record["compliance_usd"] = float(np.mean(costs["closed", "compliance"]))
    platform = quarterly.platform[positions].sum(axis=0) * 4 / len(positions)
    record["platform_usd"] = float(np.mean(platform))
    record["what_flips"] = flip_text([t for t in found if t.workload == workload])
    return {**record, **_peer_columns(peers, quarterly.quarters[row], firm.classes[workload])}


def flip_text(found: list[Threshold]) -> str:
    """The thresholds of one workload in one line: ``gpu_rent_usd_per_hour <= 0.81 -> open;
    ...``, or that none lies within the signals' ranges."""
    text = [f"{t.signal} {'>=' if t.direction == 'up' else '<='} {t.value:.3g} -> {t.becomes}"
            for t in found if t.value is not None]
    return "; ".join(text) or "no flip within the signals' ranges"


def _peer_columns(peers: PeerWorld, quarter: int, workload_class: str) -> dict:
    column = WORKLOAD_CLASSES.index(workload_class)
    shares = peers.deployment[quarter, column]
    return {"peer_group": "+".join(peers.group) or "all",
            "peers": int(peers.holders[quarter, column]),
            **{f"peer_{option}": float(shares[code]) for code, option in enumerate(OPTIONS)}}


def _flips(firm: Enterprise, draws: Draws, quarterly: Quarterly, row: int, as_of: int,
           peers: PeerWorld) -> list[Threshold]:
    """Every flip signal's thresholds for every workload at the evaluated quarter ``row``."""
    quarter, cases = quarterly.quarters[row], np.arange(draws.count)
    world = peers.world(quarter)

    def recommender(name: str, values: np.ndarray) -> np.ndarray:
        outcome = evaluate(firm, draws, np.tile(cases, values.size), quarter, as_of, world,
                           {name: np.repeat(values, draws.count)})
        shape = (values.size, draws.count, firm.workloads)
        return recommend(outcome.allocation.reshape(shape))[0]

    found = []
    for spec in FLIP_SIGNALS:
        now = float(np.median(draws.signal(spec.name, quarter, firm.region)))
        found += thresholds(spec, now, recommender)
    return found


def _threshold_row(label: dict, firm: Enterprise, threshold: Threshold) -> dict:
    return {**label, "workload": firm.names[threshold.workload], "signal": threshold.signal,
            "direction": threshold.direction, "now": threshold.now, "bound": threshold.bound,
            "threshold": np.nan if threshold.value is None else threshold.value,
            "becomes": threshold.becomes or ""}


def _scenario_record(scenario: Scenario, firm: Enterprise, draws: Draws, peers: PeerWorld
                     ) -> dict:
    """What a scenario is and how its advice was computed, for the manifest and the report."""
    return {"name": scenario.name, "description": " ".join(scenario.description.split()),
            "axes": dict(scenario.axes), "scenario_hash": scenario_hash(scenario),
            "draws": draws.count, "ml_capacity": firm.ml_capacity,
            "regulated": firm.regulated, "peer_group": "+".join(peers.group) or "all",
            "peer_enterprises": peers.enterprises, "peer_replications": peers.replications,
            "horizon": [scenario.horizon.start, scenario.horizon.end]}
