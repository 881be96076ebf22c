"""The fit: a posterior over the free parameters by ABC-SMC (pyabc), and its posterior predictive.

A candidate is one replication of the scenario with the candidate's parameter values, run up to
the last fitted observation; its summary statistics are the panel's simulated values, and its
distance to the panel is ``sqrt(sum misfit_k^2)``, each misfit in tolerances (for an upper bound,
only an excess counts). Generations of particles move from the uniform priors toward the values
whose simulations land near every observation at once, each generation with a lower acceptance
threshold (pyabc's default: the median distance of the previous generation). The fit stops at
the targets file's minimum threshold, minimum acceptance rate or number of generations.

The last generation's weighted particles are resampled (multinomial, seeded) into equally
weighted draws, which projections use one per replication (:mod:`sim.core.posterior`). In a
dozen dimensions the importance weights concentrate on a few particles, so the resampled draws
repeat a handful of vectors; :func:`resample_move` then moves every draw by ABC-MCMC steps at the
final threshold, which keep the same posterior and make the draws distinct. The draws are
exchangeable, so any first ``k`` of them are a fair sample. The posterior predictive simulates
one replication per draw, up to the panel's last quarter; with ``until``, the entries after that
quarter are not fitted and the predictive tests the model on them (out of sample).

Nothing here writes files or draws plots: :func:`calibrate` returns a :class:`Calibration`.
"""

from __future__ import annotations

import functools
import logging
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sim.calibration.panel import Fit, Target, check_targets, fitted_mask, load_targets
from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.posterior import point_scenario
from sim.core.quarters import parse_quarter
from sim.core.scenario import load_scenario
from sim.core.schema import Scenario
from sim.core.settings_file import ScenarioError
from sim.running import runner

#: identified: the posterior's 90% interval narrower than this share of the prior's
IDENTIFIED_BELOW = 0.8


def candidate(base: Scenario, names: list[str], values) -> Scenario:
    """The base scenario with the free parameters set (validated like ``--set``)."""
    return load_scenario(base, [f"{name}={float(value)!r}" for name, value in zip(names, values)])


class PanelSimulation:
    """The pyabc model: one replication of a candidate, reduced to the panel's values.

    ``series`` are the panel's distinct (metric, segment) pairs; :meth:`paths` follows them over
    the quarters up to the last observation. Called by pyabc, the replication's seed is drawn from
    numpy's global generator, which the sampler seeds per candidate: every candidate's
    simulation is reproducible."""

    def __init__(self, base: Scenario, names: list[str], targets: list[Target]):
        self.base, self.names, self.targets = base, names, targets
        self.series = list(dict.fromkeys((t.metric, t.segment) for t in targets))
        start = parse_quarter(base.horizon.start)
        self.cells = [(parse_quarter(t.quarter) - start, self.series.index((t.metric, t.segment)))
                      for t in targets]
        self.quarters = max(quarter for quarter, _ in self.cells) + 1

    def paths(self, values, seed) -> np.ndarray:
        """(quarters, series) of one replication with these parameter values and seed."""
        metrics = runner.simulate(candidate(self.base, self.names, values), seed,
                                  quarters=self.quarters)[:self.quarters]
        return np.stack([metrics[:, METRIC_INDEX[metric], SEGMENTS.index(segment)]
                         for metric, segment in self.series], axis=1)

    def values(self, paths: np.ndarray) -> np.ndarray:
        """The panel's values in ``paths`` (..., quarters, series) -> (..., targets)."""
        return np.stack([paths[..., quarter, series] for quarter, series in self.cells], axis=-1)

    def __call__(self, parameters) -> dict:
        seed = np.random.SeedSequence(int(np.random.randint(0, 2**31 - 1)))
        paths = self.paths([parameters[pyabc_name(i)] for i in range(len(self.names))], seed)
        return {
            target.name: float(value) for target, value in zip(self.targets, self.values(paths))
        }


class PanelDistance:
    """The pyabc distance: sqrt(sum of squared misfits) over the fitted entries, in tolerances."""

    def __init__(self, targets: list[Target]):
        self.targets = targets

    def __call__(self, simulated: dict, observed: dict) -> float:
        return self.of([simulated[target.name] for target in self.targets])

    def of(self, values) -> float:
        """The distance of the panel's simulated ``values``, in the targets' order."""
        return math.sqrt(sum(target.misfit(value) ** 2
                             for target, value in zip(self.targets, values)))


class SimulatedDistance:
    """A candidate's distance to the panel: ``(values, seed)`` -> the distance of one replication
    with those parameter values and seed (the move step's task, picklable for the workers)."""

    def __init__(self, panel: PanelSimulation):
        self.panel, self.distance = panel, PanelDistance(panel.targets)

    def __call__(self, task) -> float:
        values, seed = task
        return self.distance.of(self.panel.values(self.panel.paths(values, seed)))


def pyabc_name(index: int) -> str:
    """pyabc's name for free parameter ``index`` (dotted scenario keys are not valid there)."""
    return f"p{index}"


class Progress(NamedTuple):
    """Where a fit is, after each batch of simulations. ``stage`` is "prior" (pyabc's first
    sample, which sets the first threshold), "generation" (``generation`` with threshold
    ``epsilon``), "move" (move ``generation`` of :func:`resample_move`, at threshold ``epsilon``) or
    "predictive" (the posterior predictive, one simulation per draw)."""

    stage: str
    generation: int | None
    epsilon: float | None
    done: int          # accepted particles, or predictive simulations
    total: int
    evaluations: int   # candidates evaluated in this stage


@dataclass
class Calibration:
    """The posterior, how the fit went, and the panel against the posterior predictive."""

    scenario: Scenario             # the base scenario (point values, the fit's population)
    targets: list[Target]          # the whole panel
    fitted: list[bool]             # per entry: fitted, or held out (``until``)
    until: str | None
    names: list[str]               # the free parameters (dotted scenario keys)
    bounds: np.ndarray             # (parameters, 2): the uniform priors' ranges
    draws: np.ndarray              # (draws, parameters), equally weighted
    generations: list[dict]        # per generation: t, epsilon, accepted, evaluations, ess
    moves: list[dict]              # per move of the draws: move, proposed, inside, accepted
    stopped: str                   # why the fit stopped (see :func:`_why_stopped`)
    series: list[tuple[str, str]]  # the panel's (metric, segment) pairs
    paths: np.ndarray              # (draws, quarters, series): one replication per draw
    predictive: np.ndarray         # (draws, entries): the panel's values in those replications
    simulations: int               # every candidate simulated, the discarded ones included
    settings: Fit
    seed: int
    wall_seconds: float

    @property
    def distinct_draws(self) -> int:
        """How many different parameter vectors the draws hold (resampling repeats heavy
        particles)."""
        return len(np.unique(self.draws, axis=0))

    @property
    def medians(self) -> np.ndarray:
        return np.median(self.draws, axis=0)

    def interval(self, quantiles=(0.05, 0.95)) -> np.ndarray:
        """(2, parameters) posterior quantiles."""
        return np.quantile(self.draws, quantiles, axis=0)

    @property
    def narrowing(self) -> np.ndarray:
        """Per parameter, the width of the posterior's 90% interval over the prior's (a uniform
        prior's is 90% of its range)."""
        low, high = self.interval()
        return (high - low) / (0.9 * (self.bounds[:, 1] - self.bounds[:, 0]))

    @property
    def not_identified(self) -> list[str]:
        """Parameters the panel does not pin down: their posterior 90% interval is at least
        :data:`IDENTIFIED_BELOW` as wide as the prior's."""
        return [
            name for name, ratio in zip(self.names, self.narrowing) if ratio >= IDENTIFIED_BELOW
        ]

    @property
    def outside(self) -> list[float]:
        """Per panel entry, how far the observation lies outside its 90% predictive interval, in
        tolerances (0: inside; see :meth:`Target.outside`)."""
        return [target.outside(self.predictive[:, i]) for i, target in enumerate(self.targets)]

    @property
    def coverage(self) -> float | None:
        """Share of the held-out entries inside their 90% predictive interval (None without
        ``until``)."""
        held_out = [outside for outside, fitted in zip(self.outside, self.fitted) if not fitted]
        return float(np.mean([outside == 0.0 for outside in held_out])) if held_out else None


def calibrate(scenario: Scenario | str | Path, targets_path: str | Path, *, quick: bool = False,
              until: str | None = None, executor: str = "local", workers: int | None = None,
              scheduler: str | None = None,
              progress: Callable[[Progress], None] | None = None) -> Calibration:
    """Fit the targets file's free parameters of ``scenario`` (its point values: posterior draws
    it carries are ignored) to the panel entries up to ``until`` (all by default), by ABC-SMC on
    ``executor`` ("local" or "dask", see :func:`sim.running.executors.make_executor`); ``quick``
    uses the file's small settings. The same targets file gives the same posterior on any
    executor and number of workers."""
    from sim.calibration.sampler import seeded
    from sim.running.executors import make_executor, ordered_map

    started = time.perf_counter()
    targets_file = load_targets(targets_path)
    settings = targets_file.calibration
    mode = "quick" if quick else "fit"
    fit = getattr(settings, mode)
    base = point_scenario(load_scenario(scenario, [f"population.enterprises={fit.enterprises}"]))
    check_targets(base, targets_file, targets_path, until)
    targets = targets_file.targets
    fitted = fitted_mask(targets, until)
    names = list(settings.parameters)
    bounds = np.array([[prior.low, prior.high] for prior in settings.parameters.values()])
    panel = PanelSimulation(base, names, targets)
    with make_executor(executor, workers=workers, scheduler=scheduler, tasks=fit.batch) as pool:
        fitted_panel = PanelSimulation(base, names, [t for t, keep in zip(targets, fitted) if keep])
        # pyabc and the sampler draw from numpy's global generator: seeded for the fit, and
        # put back as it was afterwards
        particles, weights, generations, simulations = seeded(
            settings.seed, _abc_smc, pool, fitted_panel, bounds, fit, progress)
        if not generations:
            raise ScenarioError(
                f"the first generation accepted under {fit.min_acceptance_rate:.0%} "
                "of its candidates, so there is no posterior: lower "
                "min_acceptance_rate, or widen the priors or the tolerances",
                file=str(targets_path),
                key_path=f"calibration.{mode}.min_acceptance_rate",
            )
        rng = np.random.default_rng(settings.seed)
        draws = particles[rng.choice(len(weights), size=fit.draws, p=weights / weights.sum())]
        epsilon = generations[-1]["epsilon"]
        draws, moves = resample_move(
            pool, SimulatedDistance(fitted_panel), draws, np.cov(particles, rowvar=False), bounds,
            epsilon, fit.moves, rng, progress and (lambda move, total, done: progress(
                Progress("move", move, epsilon, done, total, done))))
        tasks = [(panel, draw, seed) for draw, seed
                 in zip(draws, runner.replication_seeds(base.seed, len(draws)))]
        paths = np.array(ordered_map(pool, _predict, tasks, progress and (
            lambda done: progress(Progress("predictive", None, None, done, len(tasks), done)))))
    return Calibration(scenario=base, targets=targets, fitted=fitted, until=until, names=names,
                       bounds=bounds, draws=draws, generations=generations, moves=moves,
                       stopped=_why_stopped(generations, fit), series=panel.series, paths=paths,
                       predictive=panel.values(paths), settings=fit,
                       simulations=simulations + sum(move["inside"] for move in moves),
                       seed=settings.seed, wall_seconds=time.perf_counter() - started)


def _abc_smc(
    pool,
    panel: PanelSimulation,
    bounds: np.ndarray,
    fit: Fit,
    progress: Callable[[Progress], None] | None,
) -> tuple[np.ndarray, np.ndarray, list[dict], int]:
    """The ABC-SMC run on ``pool``: uniform priors over ``bounds``, ``panel`` as the model and its
    entries as the data, the pyabc database in a temporary folder. Returns the last generation's
    particles (particles, parameters) and weights, each generation's record, and the number of
    simulations run."""
    import pyabc

    from sim.calibration.sampler import OrderedSampler

    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)
    prior = pyabc.Distribution(**{pyabc_name(i): pyabc.RV("uniform", low, high - low)
                                  for i, (low, high) in enumerate(bounds)})
    abc = None

    def report(t: int, accepted: int, wanted: int, evaluations: int) -> None:
        if progress:
            progress(Progress("prior", None, None, accepted, wanted, evaluations) if t < 0 else
                     Progress("generation", t, float(abc.eps(t)), accepted, wanted, evaluations))

    sampler = OrderedSampler(pool, fit.batch, report)
    abc = pyabc.ABCSMC(panel, prior, PanelDistance(panel.targets), population_size=fit.particles,
                       sampler=sampler)
    with tempfile.TemporaryDirectory(prefix="adoptsim-abc-") as scratch:
        abc.new(f"sqlite:///{Path(scratch) / 'abc.db'}", {t.name: t.value for t in panel.targets})
        history = abc.run(minimum_epsilon=fit.minimum_epsilon, max_nr_populations=fit.generations,
                          min_acceptance_rate=fit.min_acceptance_rate)
        generations = [
            {
                "t": int(row.t),
                "epsilon": float(row.epsilon),
                "accepted": int(row.particles),
                "evaluations": int(row.samples),
                "ess": effective_sample_size(history.get_distribution(m=0, t=int(row.t))[1]),
            }
            for row in history.get_all_populations().itertuples()
            if row.t >= 0
        ]
        particles, weights = history.get_distribution(m=0, t=history.max_t)
    columns = [pyabc_name(i) for i in range(len(bounds))]
    return (particles.reindex(columns=columns).to_numpy(), np.asarray(weights, dtype=float),
            generations, sampler.simulations)


def resample_move(pool, distance: Callable, draws: np.ndarray, spread: np.ndarray,
                  bounds: np.ndarray, epsilon: float, moves: int, rng: np.random.Generator,
                  progress: Callable[[int, int, int], None] | None = None
                  ) -> tuple[np.ndarray, list[dict]]:
    """``moves`` ABC-MCMC steps (Marjoram et al. 2003) of every draw, as in the move step of
    Del Moral, Doucet and Jasra's ABC-SMC (2012). Each step proposes the draw plus a Gaussian
    step of covariance ``spread * 2.38^2 / parameters`` (the random-walk scale of Roberts, Gelman
    and Gilks 1997; ``spread`` is the last generation's particle covariance, which every
    accepted particle shares, unlike the collapsed weights); a proposal outside the uniform
    priors is refused unsimulated, and one inside is kept when ``distance((values, seed))``, one
    replication of it, is within ``epsilon``. With uniform priors and a symmetric step that is
    the Metropolis-Hastings rule for the posterior at threshold ``epsilon``, so the draws keep
    their distribution and lose their repeats. Proposals and seeds come from ``rng``, the
    simulations run on ``pool`` in draw order: the same ``rng`` gives the same draws on any
    executor. ``progress(move, total, done)`` after each simulation. Returns the moved draws and
    per move the draws proposed, the proposals inside the priors, and those accepted."""
    from sim.calibration.sampler import SEEDS
    from sim.running.executors import ordered_map

    step = spread * 2.38**2 / draws.shape[1]
    records = []
    for move in range(1, moves + 1):
        proposals = draws + rng.multivariate_normal(np.zeros(draws.shape[1]), step, len(draws))
        seeds = rng.integers(0, SEEDS, size=len(draws))
        inside = np.flatnonzero(np.all((proposals >= bounds[:, 0]) & (proposals <= bounds[:, 1]),
                                       axis=1))
        tasks = [(proposals[i], int(seeds[i])) for i in inside]
        distances = ordered_map(pool, distance, tasks,
                                progress and functools.partial(progress, move, len(tasks)))
        accepted = inside[np.asarray(distances, dtype=float) <= epsilon]
        draws = draws.copy()
        draws[accepted] = proposals[accepted]
        records.append({"move": move, "proposed": len(draws), "inside": len(inside),
                        "accepted": len(accepted)})
    return draws, records


def effective_sample_size(weights) -> float:
    """Kish's effective sample size of importance ``weights``: ``(sum w)^2 / sum w^2``; the number
    of equally weighted particles that would carry the same information."""
    weights = np.asarray(weights, dtype=float)
    return float(weights.sum() ** 2 / np.square(weights).sum())


def _predict(task) -> np.ndarray:
    """One replication of the posterior predictive: draw ``i`` with the scenario's replication
    seed ``i``, as ``adoptsim run`` runs replication ``i`` of a scenario carrying the draws."""
    panel, draw, seed = task
    return panel.paths(draw, seed)


def _why_stopped(generations: list[dict], fit: Fit) -> str:
    """Which of the fit's stopping rules ended it, as a clause."""
    if generations and generations[-1]["epsilon"] <= fit.minimum_epsilon:
        return f"the threshold reached minimum_epsilon ({fit.minimum_epsilon})"
    if len(generations) >= fit.generations:
        return f"all {fit.generations} generations ran"
    return f"the acceptance rate fell under min_acceptance_rate ({fit.min_acceptance_rate:.0%})"
