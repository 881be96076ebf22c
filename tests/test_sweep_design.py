"""Experiment designs: sizes, bounds and value mapping of grid, LHS, Sobol and Morris; run seeds."""

from __future__ import annotations

import numpy as np
import pytest

from sim.sweep.design import build_design, overrides, run_table, yaml_text
from sim.sweep.spec import DesignSpec, Parameter

PARAMETERS = {
    "behaviour.peer_weight": Parameter(range=(0.5, 4.0)),
    "economics.platform_fte": Parameter(range=(1.0, 100.0), distribution="loguniform"),
    "population.network.neighbours": Parameter(range=(4, 12), distribution="integer"),
    "behaviour.review_rate": Parameter(levels=[0.1, 0.2, 0.4]),
    "mix": Parameter(categories={"even": {"a.b": 0.5}, "skewed": {"a.b": 0.9, "a.c": {"x": 1}}}),
}


def check_bounds(design) -> None:
    points = design.points
    assert ((design.unit >= 0) & (design.unit <= 1)).all()
    assert points["behaviour.peer_weight"].between(0.5, 4.0).all()
    assert points["economics.platform_fte"].between(1.0, 100.0).all()
    neighbours = points["population.network.neighbours"]
    assert neighbours.dtype == np.int64 and neighbours.between(4, 12).all()
    assert set(points["behaviour.review_rate"]) <= {0.1, 0.2, 0.4}
    assert set(points["mix"]) <= {"even", "skewed"}


def test_grid_takes_every_combination_first_parameter_slowest():
    parameters = {"a": Parameter(levels=[1, 2, 3]), "b": Parameter(levels=["x", "y"])}
    design = build_design(parameters, DesignSpec(method="grid"))
    assert len(design) == 6
    assert list(design.points.itertuples(index=False, name=None)) == [
        (1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]


def test_lhs_size_bounds_and_one_point_per_stratum():
    design = build_design(PARAMETERS, DesignSpec(method="lhs", samples=20, seed=3))
    assert len(design) == 20
    check_bounds(design)
    strata = np.floor(design.unit * 20).astype(int)
    for column in strata.T:
        assert sorted(column) == list(range(20))


@pytest.mark.parametrize("second_order, size", [(False, 8 * (5 + 2)), (True, 8 * (2 * 5 + 2))])
def test_sobol_size_and_bounds(second_order, size):
    design = build_design(PARAMETERS, DesignSpec(method="sobol", samples=8, seed=1,
                                                 second_order=second_order))
    assert len(design) == size
    check_bounds(design)
    assert design.problem == {"num_vars": 5, "names": list(PARAMETERS), "bounds": [[0.0, 1.0]] * 5}


def test_morris_size_bounds_and_levels():
    design = build_design(PARAMETERS, DesignSpec(method="morris", samples=6, seed=1))
    assert len(design) == 6 * (5 + 1)
    check_bounds(design)
    assert set(np.round(design.unit.ravel(), 6)) <= {0.0, round(1 / 3, 6), round(2 / 3, 6), 1.0}


def test_designs_are_deterministic_in_the_seed():
    spec = DesignSpec(method="lhs", samples=5, seed=7)
    first, again = build_design(PARAMETERS, spec), build_design(PARAMETERS, spec)
    other = build_design(PARAMETERS, DesignSpec(method="lhs", samples=5, seed=8))
    assert first.points.equals(again.points)
    assert not first.points.equals(other.points)


def test_overrides_expand_categories_and_round_trip_values():
    values = {"behaviour.peer_weight": np.float64(1e-05), "economics.platform_fte": 2.0,
              "population.network.neighbours": np.int64(5), "behaviour.review_rate": 0.1,
              "mix": "skewed"}
    assert overrides(PARAMETERS, values) == [
        "behaviour.peer_weight=1.0e-05", "economics.platform_fte=2.0",
        "population.network.neighbours=5", "behaviour.review_rate=0.1", "a.b=0.9", "a.c={x: 1}"]
    assert yaml_text("2026Q2") == "2026Q2"


def test_common_random_numbers_share_replication_seeds_across_points():
    design = build_design({"a": Parameter(levels=[1, 2, 3])}, DesignSpec(method="grid"))
    common = run_table(design, 2, seed=5, common_random_numbers=True)
    assert list(common["run_id"]) == list(range(6))
    assert common.groupby("replication")["seed"].nunique().tolist() == [1, 1]
    assert common["seed"].nunique() == 2
    independent = run_table(design, 2, seed=5, common_random_numbers=False)
    assert independent["seed"].nunique() == 6
    assert (independent["seed"] >= 0).all() and independent["seed"].dtype == np.int64
