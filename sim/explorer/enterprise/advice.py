"""The My enterprise view's advice: a profile advised under the scenario the What-if view has
made, at the page's smaller settings, and the tables the page shows.

:func:`whatif_scenario` is the scenario the What-if view shows: its scenario itself when nothing
changed, else :func:`sim.explorer.whatif.apply_changes`'s changed scenario (the one the What-if
view runs and saves). :func:`advise_whatif` advises a profile under it with
:func:`sim.advise.advice.advise`, the function behind ``adoptsim advise``: the same table as
``sim.advise_profile(profile, baseline=<the saved what-if scenario>, scenarios=[], draws=...,
peer_replications=..., peer_enterprises=...)``. The page uses fewer posterior draws and peer
replications than the command (:data:`DEFAULT_DRAWS`, :data:`DEFAULT_PEER_REPLICATIONS`;
``adoptsim explore --draws`` and ``--peer-replications``), its peers have the page's
``--enterprises``, and their simulations are kept (:class:`PeerCache`), so an edit of the
workloads does not run them again. A newer request cancels a run
(:class:`sim.explorer.whatif.Cancelled`) between peer replications and years.

:func:`recommendation_grid`, :func:`year_costs` and :func:`caption` arrange the advice for the
page's table and cost bars. Nothing here draws.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.advise.advice import COST_PARTS, NOT_PAID, Advice, Settings, advise
from sim.advise.peers import PeerWorld, simulate_peers
from sim.advise.profile import Profile
from sim.core.scenario import scenario_hash
from sim.core.schema import Scenario
from sim.explorer.whatif.changes import apply_changes, describe, effective_changes
from sim.explorer.whatif.ensemble import DEFAULT_ENTERPRISES, Cancelled
from sim.views.terminal import ADVICE_WORDS
from sim.workflows import resolve

DEFAULT_DRAWS = 100            # posterior draws (the command's default: all 200)
DEFAULT_PEER_REPLICATIONS = 2  # replications of the peers' simulation (the command's: 4)
PEER_WORLDS_KEPT = 16          # peers' simulations a PeerCache keeps
#: Every part of the options' costs; those paid, in the order the page stacks them; and those
#: not paid (the compliance penalty's money equivalent), which the page shows apart.
PARTS = tuple(dict.fromkeys(part for parts in COST_PARTS.values() for part in parts))
PAID_PARTS = tuple(part for part in PARTS if part not in NOT_PAID)


@dataclass
class PageAdvice:
    """A profile's advice under the What-if view's scenario: ``scenario`` (the changed one, or
    the chosen one unchanged), the ``changes`` that made it (checked), the advice's tables
    (:class:`sim.advise.advice.Advice`) and the seconds it took."""

    profile: Profile
    scenario: Scenario
    changes: dict[str, Any]
    advice: Advice
    seconds: float

    @property
    def table(self) -> pd.DataFrame:
        return self.advice.table

    @property
    def years(self) -> list[int]:
        return sorted(int(year) for year in self.table["year"].unique())


@dataclass(frozen=True)
class WhatIfScenario:
    """The scenario the What-if view shows: ``scenario`` (the chosen one, or it changed), the
    checked ``changes`` that made it, and the changes in words (``description``)."""

    scenario: Scenario
    changes: dict[str, Any]
    description: str


def whatif_scenario(source: str | Path, changes: dict[str, Any]) -> WhatIfScenario:
    """The scenario the What-if view shows for ``source`` and ``changes``: ``source`` itself
    when the changes change nothing, else ``source`` with them, named ``<source's
    name>-whatif`` (:func:`sim.explorer.whatif.apply_changes`, as the What-if view runs and
    saves it). A bad change raises :class:`~sim.core.settings_file.ScenarioError` naming its
    control; a bad or vanished scenario file one naming the file."""
    reference = resolve(source)
    checked = effective_changes(reference, changes, source)
    return WhatIfScenario(scenario=apply_changes(source, checked) if checked else reference,
                          changes=checked, description=describe(reference, checked))


class PeerCache:
    """The peers' simulations the page has run (:func:`sim.advise.peers.simulate_peers`), the
    last :data:`PEER_WORLDS_KEPT`, by what they depend on: the resolved scenario (its hash), the
    profile's sector, region, size and vendor, the quarters, replications and enterprises. An
    edit of the workloads or the ML team reuses them: the same peers, computed once. Called as
    ``simulate_peers`` is (``step()`` still follows each replication)."""

    def __init__(self, kept: int = PEER_WORLDS_KEPT):
        self.kept = kept
        self.simulated = 0                       # simulations run (not taken from the cache)
        self._worlds: OrderedDict[tuple, PeerWorld] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, scenario: Scenario, profile: Profile, *, quarters: int,
                 replications: int, enterprises: int | None = None,
                 step: Callable[[], None] | None = None) -> PeerWorld:
        key = (scenario_hash(scenario), profile.sector, profile.region, profile.size,
               profile.vendor, quarters, replications, enterprises)
        with self._lock:
            world = self._worlds.get(key)
        if world is not None:
            for _ in range(replications if step is not None else 0):
                step()
            return world
        world = simulate_peers(scenario, profile, quarters=quarters, replications=replications,
                               enterprises=enterprises, step=step)
        with self._lock:
            self.simulated += 1
            self._worlds[key] = world
            while len(self._worlds) > self.kept:
                self._worlds.popitem(last=False)
        return world


_PEERS = PeerCache()


def advise_whatif(profile: Profile, under: WhatIfScenario, *, draws: int = DEFAULT_DRAWS,
                  peer_replications: int = DEFAULT_PEER_REPLICATIONS,
                  peer_enterprises: int = DEFAULT_ENTERPRISES,
                  cancelled: Callable[[], bool] | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  peers: PeerCache | None = None) -> PageAdvice:
    """``profile`` advised under the What-if view's scenario (``under``, from
    :func:`whatif_scenario`) with ``draws`` posterior draws and peers from ``peer_replications``
    replications of ``peer_enterprises`` enterprises (at most the scenario's own), every year
    from the profile's ``as_of`` to the horizon's end; the peers' simulations are kept in
    ``peers`` (default: one cache for the process). ``progress(done, total)`` follows the peer
    replications and the years; ``cancelled()``, asked before the advice and at each of those
    steps, stops it with :class:`~sim.explorer.whatif.Cancelled`. A profile the scenario cannot
    advise (a sector or vendor it does not have) raises
    :class:`~sim.core.settings_file.ScenarioError`."""
    started = time.perf_counter()
    scenario = under.scenario

    def step(done: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled(f"cancelled after {done} of {total} steps")
        if progress is not None:
            progress(done, total)

    step(0, 1)
    settings = Settings(draws=draws, peer_replications=peer_replications,
                        peer_enterprises=min(peer_enterprises, scenario.population.enterprises))
    advice = advise(profile, [scenario], settings, step, peers or _PEERS)
    return PageAdvice(profile=profile, scenario=scenario, changes=under.changes, advice=advice,
                      seconds=time.perf_counter() - started)


def caption(page: PageAdvice) -> str:
    """What the advice shown is of and how it was computed, in one sentence."""
    record, settings = page.advice.scenarios[0], page.advice.settings
    return (f"{page.profile.name} under {page.scenario.name}: {record['draws']} posterior draws; "
            f"peers: {record['peer_enterprises']:,} simulated enterprises of the same "
            f"{record['peer_group'].replace('+', ', ')} in {settings.peer_replications} "
            f"replication(s) of {settings.peer_enterprises:,} enterprises; "
            f"{page.seconds:.1f} s.")


def recommendation_grid(table: pd.DataFrame) -> pd.DataFrame:
    """Workloads (in the profile's order) by year: the recommended deployment and the share of
    posterior draws that agree, as the command prints them ("closed 100%")."""
    cells = table.assign(cell=[f"{ADVICE_WORDS[option]} {agreement:.0%}" for option, agreement
                               in zip(table["recommended"], table["agreement"])])
    order = list(dict.fromkeys(table["workload"]))
    return cells.pivot(index="workload", columns="year", values="cell").reindex(order)


def year_costs(page: PageAdvice, year: int) -> pd.DataFrame:
    """The yearly cost of each workload's options in ``year`` by part: one row per workload (in
    the profile's order) and option (closed, open, fine-tuned), a column per part of
    :data:`PARTS` (mean USD over the posterior draws; 0 where the option has no such part; the
    closed option's ``compliance`` is the penalty's money equivalent, not paid) and
    ``recommended`` (whether the option is the workload's recommendation that year)."""
    costs = page.advice.costs
    mine = costs[costs["year"] == year]
    frame = (mine.pivot_table(index=["workload", "option"], columns="part", values="mean",
                              aggfunc="first", sort=False)
             .reindex(columns=list(PARTS)).fillna(0.0))
    order = pd.MultiIndex.from_product([list(dict.fromkeys(page.table["workload"])),
                                        list(COST_PARTS)], names=["workload", "option"])
    frame = frame.reindex(order).fillna(0.0)
    table = page.table[page.table["year"] == year].set_index("workload")["recommended"]
    frame["recommended"] = [table.get(workload) == option for workload, option in frame.index]
    return frame
