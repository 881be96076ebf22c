"""Bayesian calibration: a posterior over the free parameters from a panel of dated observations.

``adoptsim calibrate`` fits the model to every dated, sourced observation of enterprise adoption
in the targets file (``scenarios/targets.yaml``), by approximate Bayesian computation (ABC-SMC,
pyabc), and returns a posterior, not a point: projections draw each replication's parameters
from it (:mod:`sim.core.posterior`). ``until`` fits only the observations up to a quarter and tests
the posterior predictive on the later ones.

One module per concern:

* :mod:`sim.calibration.panel`: the targets file: panel entries (:class:`Target`), priors and
  fit settings, :func:`load_targets`, :func:`check_targets`;
* :mod:`sim.calibration.sampler`: :class:`OrderedSampler`, a pyabc sampler that is parallel
  (local processes or Dask) and deterministic (same seed, same posterior, any workers);
* :mod:`sim.calibration.fit`: the model as pyabc sees it, the fit (:func:`calibrate`) and its
  result (:class:`Calibration`), with the posterior predictive;
* :mod:`sim.calibration.persist`: the posterior draws and the fragment the baseline extends,
  written where scenarios read them (put back as they were if the scenario does not take them);
* :mod:`sim.views.calibration`: the result as tables, strict JSON and Markdown.

Names are loaded on first use: ``from sim.calibration import load_targets`` imports neither the
model nor pyabc.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "Target": "sim.calibration.panel",
    "TargetsFile": "sim.calibration.panel",
    "CalibrationSettings": "sim.calibration.panel",
    "Fit": "sim.calibration.panel",
    "load_targets": "sim.calibration.panel",
    "project_targets": "sim.calibration.panel",
    "check_targets": "sim.calibration.panel",
    "calibrate": "sim.calibration.fit",
    "Calibration": "sim.calibration.fit",
    "Progress": "sim.calibration.fit",
    "OrderedSampler": "sim.calibration.sampler",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
