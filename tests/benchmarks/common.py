"""What the benchmarks share: the baseline scenario, the summary of repeated figures."""

from __future__ import annotations

import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def median_range(values: list[float]) -> dict:
    """Median, min and max of repeated measurements, with the measurements themselves."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": list(values)}
