"""Sweep analysis: SALib indices on functions with known sensitivities, PRIM on a planted box,
and ``adoptsim analyze`` on small sweeps of the simulator."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import discover, find_box, load_sweep_data, morris, sobol
from sim.cli import main
from sim.sweep import load_sweep
from sim.sweep.design import build_design
from sim.sweep.spec import DesignSpec, Parameter

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = ('["population.enterprises=100", "horizon.end=2025Q4", "scheduled_events=[]", '
         '"burn_in_quarters=2"]')

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: the analytic first-order and total Sobol indices
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function():
    parameters = {f"x{i}": Parameter(range=(-math.pi, math.pi)) for i in (1, 2, 3)}
    design = build_design(parameters, DesignSpec(method="sobol", samples=1024, seed=1))
    indices = sobol(design, ishigami(design.points.to_numpy()))
    assert list(indices.index) == ["x1", "x2", "x3"]
    for column, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        assert np.abs(indices[column] - truth).max() < 0.04
        assert (np.abs(indices[column] - truth) <= indices[f"{column}_conf"]).all()


def test_morris_effects_of_a_linear_model_are_per_whole_range():
    parameters = {"a": Parameter(range=(0, 2)), "b": Parameter(range=(10, 11)),
                  "c": Parameter(levels=[1, 2, 3])}
    design = build_design(parameters, DesignSpec(method="morris", samples=10, seed=1))
    x = design.points.to_numpy(dtype=float)
    indices = morris(design, 3 * x[:, 0] + 1 * x[:, 1])
    assert indices["mu_star"].to_numpy() == pytest.approx([6.0, 1.0, 0.0], abs=1e-9)
    assert indices["sigma"].to_numpy() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_the_methods_share_one_call_and_check_their_design():
    assert inspect.signature(sobol) == inspect.signature(morris)
    design = build_design({"a": Parameter(range=(0, 1))}, DesignSpec(method="lhs", samples=4))
    with pytest.raises(ValueError, match="sobol design"):
        sobol(design, np.zeros(4))


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(4)
    n = 1500
    x = pd.DataFrame({"a": rng.random(n), "b": rng.random(n), "noise": rng.random(n),
                      "kind": rng.choice(["p", "q", "r"], n)})
    inside = x["a"].between(0.2, 0.6) & (x["b"] > 0.5) & (x["kind"] != "r")
    result = find_box(x, inside)
    box = result.box()
    assert box.loc["a", "lower"] == pytest.approx(0.2, abs=0.04)
    assert box.loc["a", "upper"] == pytest.approx(0.6, abs=0.04)
    assert box.loc["b", "lower"] == pytest.approx(0.5, abs=0.04)
    assert box.loc["kind", "categories"] == "p, q"
    assert box["restricted"].to_dict() == {"a": True, "b": True, "noise": False, "kind": True}
    assert result.stats["density"] >= 0.8 and result.stats["coverage"] >= 0.9
    assert list(result.trajectory.columns) == ["coverage", "density", "mass", "res_dim", "n", "k"]
    assert result.trajectory.loc[0, "coverage"] == 1.0


def sweep_file(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nbase: {BASELINE}\nset: {SMALL}\n{body}", encoding="utf-8")
    return path


GRID = """
parameters:
  behaviour.peer_weight: {levels: [0.5, 8.0], label: Peer influence}
  behaviour.closed_preference: {levels: [-5.0, 10.0]}
design: {method: grid}
replications: 2
outcomes: [workload_share_open_any@2025Q4, stack_share_hybrid@2025Q4]
analysis:
  prim: ["workload_share_open_any@2025Q4 >= 0.3"]
"""


def test_sweep_then_analyze_a_grid(tmp_path, capsys):
    spec = sweep_file(tmp_path, "grid", GRID)
    assert main(["sweep", str(spec), "--workers", "1", "--out", str(tmp_path), "--quiet"]) == 0
    folder = load_sweep(spec).folder(tmp_path)
    printed = capsys.readouterr().out
    assert (
        f"Analysis: {folder / 'analysis'}" in printed and "PRIM workload_share_open_any" in printed
    )
    names = {path.name for path in (folder / "analysis").iterdir()}
    assert {"point_summary.csv",
            "heatmap_workload_share_open_any_2025Q4__behaviour.peer_weight__behaviour.closed_preference.png",
            "lines_stack_share_hybrid_2025Q4__behaviour.closed_preference.png",
            "prim_workload_share_open_any_2025Q4_ge_0.3.png",
            "prim_workload_share_open_any_2025Q4_ge_0.3_trajectory.csv",
            "prim_workload_share_open_any_2025Q4_ge_0.3_limits.csv"} <= names
    summary = pd.read_csv(folder / "analysis" / "point_summary.csv")
    assert len(summary) == 4 * 2 and set(summary["runs"]) == {2}
    report = (folder / "report.html").read_text()  # the analysis rebuilds the sweep's report
    assert (
        "<h2>Outcomes over the grid</h2>" in report
        and "<h2>Scenario discovery (PRIM)</h2>" in report
    )
    assert report.count("data:image/png;base64,") >= 3

    assert (
        main(["analyze", str(folder), "--no-plots", "--prim", "stack_share_hybrid@2025Q4 < 0.25"])
        == 0
    )
    assert (folder / "analysis" / "prim_stack_share_hybrid_2025Q4_lt_0.25_limits.csv").exists()
    listed = json.loads((folder / "analysis" / "prim.json").read_text())["prim"]
    assert [entry["name"] for entry in listed] == ["prim_workload_share_open_any_2025Q4_ge_0.3",
                                                   "prim_stack_share_hybrid_2025Q4_lt_0.25"]
    assert listed[1]["condition"] == "stack_share_hybrid@2025Q4 < 0.25"
    assert listed[1]["limits"] == "prim_stack_share_hybrid_2025Q4_lt_0.25_limits.csv"
    data = load_sweep_data(folder)
    assert discover(data, "stack_share_hybrid@2025Q4 < 0.25").trajectory.loc[0, "n"] == 8

    assert main(["analyze", str(folder), "--prim", "stack_share_open@2025Q4 > 0.1"]) == 2
    assert "not an outcome of this sweep" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path)]) == 2
    assert "not a finished sweep folder" in capsys.readouterr().err


SOBOL = """
parameters:
  behaviour.peer_weight: {range: [0.0, 8.0]}
  behaviour.closed_preference: {range: [0.0, 3.0]}
design: {method: sobol, samples: 2, seed: 1}
outcomes: [workload_share_open_any@2025Q4]
"""


def test_analyze_a_sobol_sweep_writes_indices_and_bars(tmp_path):
    spec = sweep_file(tmp_path, "sobol", SOBOL)
    assert main(["sweep", str(spec), "--workers", "1", "--out", str(tmp_path), "--quiet"]) == 0
    analysis = load_sweep(spec).folder(tmp_path) / "analysis"
    table = pd.read_csv(analysis / "sensitivity.csv")
    assert list(table.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert list(table["parameter"]) == ["behaviour.peer_weight", "behaviour.closed_preference"]
    assert (analysis / "sensitivity_workload_share_open_any_2025Q4.png").exists()
    manifest = json.loads((analysis.parent / "manifest.json").read_text())
    assert (analysis.parent / "sweep.yaml").exists()
    assert manifest["design"] == {"method": "sobol", "points": 2 * (2 + 2), "replications": 1}


def test_analysis_imports_no_view():
    code = ("import sys, sim.analysis.analyze, sim.analysis.data, sim.analysis.prim, "
            "sim.analysis.sensitivity; "
            "assert not [m for m in sys.modules if m.startswith('sim.views')], sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
