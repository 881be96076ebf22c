"""The stored baseline: a small scenario's metrics at a fixed seed against a committed file.

Any change to what the model computes, intended or not, shows here as the first metrics and
quarters that moved. When a change is intended, regenerate the file and commit it with the
change (the diff then shows which figures moved):

    python tests/test_regression.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.metric_table import METRIC_NAMES
from sim.core.metrics import SEGMENTS
from sim.core.scenario import load_scenario
from sim.running.runner import replication_seeds, simulate

ROOT = Path(__file__).resolve().parents[1]
STORED = ROOT / "tests" / "fixtures" / "regression_world.csv"
#: The hand-set world (no posterior, so a refit does not move it), small and short enough to run
#: in a few seconds; every mechanism acts in it.
SCENARIO = ROOT / "scenarios" / "world.yaml"
SETTINGS = ["population.enterprises=400", "replications=2"]
RELATIVE_TOLERANCE = 1e-9


def current() -> pd.DataFrame:
    """Every replication's metrics for all workloads: replication, quarter, metric, value."""
    scenario = load_scenario(SCENARIO, SETTINGS)
    all_workloads = SEGMENTS.index("all")
    rows = []
    for replication, seed in enumerate(replication_seeds(scenario.seed, scenario.replications)):
        values = simulate(scenario, seed)[:, :, all_workloads]
        for quarter, row in zip(scenario.quarters, values):
            rows += [(replication, quarter, metric, value)
                     for metric, value in zip(METRIC_NAMES, row)]
    return pd.DataFrame(rows, columns=["replication", "quarter", "metric", "value"])


def test_the_world_scenario_gives_the_stored_metrics():
    stored = pd.read_csv(STORED, keep_default_na=False, na_values=[""])
    now = current()
    assert list(now.columns) == list(stored.columns)
    assert now[["replication", "quarter", "metric"]].equals(
        stored[["replication", "quarter", "metric"]]
    ), (
        "the rows differ (metrics or quarters added or removed): regenerate with "
        "`python tests/test_regression.py` if intended"
    )
    moved = ~np.isclose(
        now["value"], stored["value"], rtol=RELATIVE_TOLERANCE, atol=0, equal_nan=True
    )
    assert not moved.any(), (
        f"{moved.sum()} values moved, first: "
        f"{now[moved].head(5).assign(stored=stored['value'][moved].head(5)).to_dict('records')}; "
        "regenerate with `python tests/test_regression.py` if intended")


if __name__ == "__main__":
    current().to_csv(STORED, index=False, float_format="%.17g")
    print(f"wrote {STORED.relative_to(ROOT)}")
