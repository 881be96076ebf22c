"""Every shipped example says something: each sweep file's PRIM question still splits its runs
under the current baseline (some runs meet the condition, some do not), so the box PRIM finds
restricts something. A refit or a model change that moves the baseline past a threshold fails
here, and the threshold in the sweep file (and its comment) follows.

Each sweep runs smaller than shipped, with its own parameters, ranges and outcomes: a grid at
its levels with one replication, a sampled design as a Latin hypercube over the same ranges, on
1,000 enterprises; the share of runs meeting each condition estimates the full sweep's.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from sim.sweep import run_sweep
from sim.sweep.spec import load_sweep_spec, parse_condition

SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
SPLIT = (0.2, 0.8)     # the share of runs meeting a PRIM condition must lie in this range
ENTERPRISES = 1000
SAMPLES = 24


def smaller(path, folder):
    """A copy of the sweep file at ``path``, smaller as the module says, written in ``folder``."""
    raw = yaml.safe_load(path.read_text())
    raw["base"] = str((path.parent / raw["base"]).resolve())
    raw["set"] = [*raw.get("set", []), f"population.enterprises={ENTERPRISES}"]
    raw["replications"] = 1
    if raw["design"]["method"] != "grid":
        raw["design"] = {"method": "lhs", "samples": SAMPLES, "seed": 1}
    copy = folder / path.name
    copy.write_text(yaml.safe_dump(raw))
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("path", SWEEPS, ids=[path.stem for path in SWEEPS])
def test_each_prim_question_splits_the_runs(path, tmp_path):
    conditions = [parse_condition(prim.condition)
                  for prim in load_sweep_spec(path).analysis.prim]
    assert conditions, f"{path.name} asks no PRIM question"
    result = run_sweep(smaller(path, tmp_path), out=tmp_path, workers=2)
    results = pd.read_parquet(result.folder / "results.parquet")
    for condition in conditions:
        share = float(condition.holds(results[condition.outcome]).mean())
        assert SPLIT[0] <= share <= SPLIT[1], (
            f"{path.name}: {share:.0%} of {len(results)} runs meet {condition} (range of "
            f"{condition.outcome}: {results[condition.outcome].min():.3f} to "
            f"{results[condition.outcome].max():.3f}); move the threshold")
