"""Shared helpers for the test suite: repository paths and small scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def baseline(*overrides: str, enterprises: int = 300, replications: int = 2):
    """The baseline scenario with a small population and the given ``--set`` overrides."""
    return load_scenario(BASELINE, [f"population.enterprises={enterprises}",
                                    f"replications={replications}", *overrides])


@pytest.fixture
def small_baseline():
    return baseline()
