"""A deterministic, parallel pyabc sampler: the same seed gives the same posterior on any
number of workers, on a local process pool or on Dask.

pyabc's own parallel samplers reseed every worker from the operating system's entropy, so two
fits with the same seed differ. :class:`OrderedSampler` keeps every random choice reproducible:

* the seed of every candidate is drawn in this process, from numpy's global generator (which the
  caller seeds, and which pyabc also uses here between generations);
* candidates are simulated in batches of a fixed size, chosen by the fit, never by the number of
  workers; each simulation first seeds numpy's and ``random``'s global generators with its
  candidate's seed, then calls pyabc's ``simulate_one`` once (which draws the candidate's
  parameters from the generation's proposal and runs the model; it is cloudpickled once a
  generation);
* results are taken in candidate order until ``n`` are accepted; the rest of the last batch is
  discarded (it is simulated, but never seen by pyabc).

Only the number of candidates simulated in vain depends on the batch size, and the posterior on
the seed and the batch size. This module imports pyabc: import it only to calibrate.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

from sim.running.executors import ordered_map

SEEDS = 2**31 - 1   # candidate seeds are drawn from [0, SEEDS)


def seeded(seed: int, fn: Callable, *args):
    """``fn(*args)`` with numpy's and ``random``'s global generators seeded with ``seed``, both
    restored afterwards (a one-worker executor runs in the calling process, whose own stream of
    draws must not depend on what the simulations drew)."""
    saved = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        return fn(*args)
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])


#: This process's ``simulate_one`` of the generation being sampled, by its payload's digest:
#: unpickling it rebuilds every prior and proposal distribution (milliseconds a candidate), so
#: each process does it once a generation. pyabc's ``simulate_one`` keeps no state between
#: calls (its randomness is the global generators, seeded per candidate).
_loaded: dict[str, Callable] = {}


def _simulate_candidate(task: tuple):
    """One candidate: pyabc's ``simulate_one`` (cloudpickled) run under the candidate's seed."""
    digest, payload, seed = task
    if digest not in _loaded:
        _loaded.clear()
        _loaded[digest] = cloudpickle.loads(payload)
    return seeded(seed, _loaded[digest])


class OrderedSampler(Sampler):
    """Samples a generation on ``executor`` in batches of ``batch`` candidates, in candidate
    order (see the module docstring). ``progress(t, accepted, n, evaluations)`` is called when
    a generation starts and after each of its batches. ``simulations`` counts every candidate
    simulated, the discarded ones included;
    ``nr_evaluations_`` (what pyabc records) the ones the generation's sample holds."""

    def __init__(self, executor, batch: int, progress: Callable | None = None):
        super().__init__()
        self.executor, self.batch, self.progress = executor, batch, progress
        self.simulations = 0

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                ana_vars=None):
        """Candidates until ``n`` are accepted or ``max_eval`` have been evaluated (then the
        sample is marked not ok, which stops pyabc). With ``all_accepted`` (pyabc's calibration
        sample from the prior) the last batch holds only as many candidates as are missing."""
        payload = cloudpickle.dumps(simulate_one)
        digest = hashlib.sha256(payload).hexdigest()
        sample = self._create_empty_sample()
        evaluations = 0
        while True:
            if self.progress:
                self.progress(t, sample.n_accepted, n, evaluations)
            if sample.n_accepted >= n or evaluations >= max_eval:
                break
            size = min(self.batch, n - sample.n_accepted) if all_accepted else self.batch
            seeds = np.random.randint(0, SEEDS, size=size)
            candidates = ordered_map(self.executor, _simulate_candidate,
                                     [(digest, payload, int(seed)) for seed in seeds])
            self.simulations += size
            for particle in candidates:
                if sample.n_accepted >= n or evaluations >= max_eval:
                    break
                sample.append(particle)
                evaluations += 1
        self.nr_evaluations_ = evaluations
        if sample.n_accepted < n:
            sample.ok = False
        return sample
