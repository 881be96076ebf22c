"""End-to-end tests of the command line (``adoptsim`` and ``python -m sim``) in subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT

from sim.core.scenario import load_scenario, scenario_hash

ADOPTSIM = Path(sys.executable).parent / "adoptsim"
PYTHON_M_SIM = [sys.executable, "-m", "sim"]


def cli(*args: str, cwd: Path, script: bool = False) -> subprocess.CompletedProcess:
    command = [str(ADOPTSIM)] if script else PYTHON_M_SIM
    return subprocess.run([*command, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*")] if folder.exists() else []


def test_help():
    for command in ([*PYTHON_M_SIM, "--help"], [str(ADOPTSIM), "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "usage: adoptsim" in result.stdout
        assert "run" in result.stdout and "validate" in result.stdout


def test_run_writes_one_folder_and_prints_the_headline(tmp_path):
    out = tmp_path / "out"
    overrides = ["population.enterprises=200"]
    result = cli("run", BASELINE, "--set", overrides[0], "--replications", "2", "--workers", "1",
                 "--out", out, "--no-plots", cwd=tmp_path, script=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    folders = [path for path in (out / "baseline").iterdir()]
    assert len(folders) == 1
    folder = folders[0]
    digest = scenario_hash(load_scenario(BASELINE, overrides + ["replications=2"]))
    assert re.fullmatch(r"\d{8}-\d{6}-" + digest[:8], folder.name)
    names = {path.name for path in folder.iterdir()}
    assert {"manifest.json", "quarterly.parquet", "summary.csv"} <= names
    assert "plots" not in names  # --no-plots
    assert [folder] == [p for p in out.rglob("*") if p.is_dir() and p.parent.name == "baseline"]
    stdout = result.stdout
    assert f"Run folder: {folder}" in stdout
    assert "2 replications, 200 enterprises" in stdout
    header = next(line for line in stdout.splitlines() if "2025Q4" in line)
    assert "2030Q4" in header and header.index("2025Q4") < header.index("2030Q4")
    for label in ("Workloads on closed APIs", "Enterprises hybrid",
                  "Enterprises planning to expand open use"):
        row = next(line for line in stdout.splitlines() if line.startswith(label))
        assert len(re.findall(r"\d+\.\d%\s*\[\d+\.\d%, \d+\.\d%\]", row)) == 2, row


def test_a_run_where_nobody_uses_ai_says_so_in_a_sentence(tmp_path):
    never = [f"population.sizes.{size}.{key}=0" for size in ("small", "mid", "large")
             for key in ("ai_use_at_start", "ai_use_ceiling")]
    result = cli("run", BASELINE, *(f"--set={setting}" for setting in never), "--set",
                 "population.enterprises=100", "--replications", "1", "--workers", "1",
                 "--no-plots", "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(
        "No enterprise uses AI at 2025Q4 or 2030Q4 in this run, so there are no shares to "
        "report (population.sizes: ai_use_at_start, ai_use_ceiling).")
    assert "DataFrame" not in result.stdout


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_bad_scheduler_address_exits_2_with_one_readable_message(tmp_path, command):
    pytest.importorskip("distributed")
    scenario = BASELINE if command == "run" else BASELINE.parent / "watch" / "price-hike.yaml"
    reference = ["--reference", BASELINE] if command == "compare" else []
    result = cli(command, scenario, *reference, "--replications", "2", "--executor", "dask",
                 "--scheduler", "not-an-address", "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("adoptsim: error: not-an-address: cannot reach the Dask "
                                     "scheduler: missing port number in address 'not-an-address'")
    assert not [path for path in files_under(tmp_path / "out") if path.is_file()]


def test_a_scheduler_without_the_dask_executor_exits_2_before_running(tmp_path):
    result = cli("compare", BASELINE.parent / "watch" / "price-hike.yaml", "--reference", BASELINE,
                 "--replications", "2", "--scheduler", "tcp://127.0.0.1:8786",
                 "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("adoptsim: error: a scheduler address is for the dask "
                                     "executor; add --executor dask")
    assert files_under(tmp_path / "out") == []


def test_bench_outside_a_checkout_exits_2_with_one_readable_message(tmp_path):
    result = cli("bench", "--repeats", "1", cwd=tmp_path, script=True)
    assert result.returncode == 2
    assert result.stderr.startswith("adoptsim: error: ") and "tests/benchmarks" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bench_help_from_a_checkout_describes_the_benchmarks():
    result = cli("bench", "--help", cwd=ROOT, script=True)
    assert result.returncode == 0, result.stderr
    assert "usage: adoptsim bench" in result.stdout and "--repeats" in result.stdout


def test_validate_baseline(tmp_path):
    result = cli("validate", BASELINE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid scenario 'baseline'" in result.stdout
    assert result.stderr == ""


BAD_SCENARIOS = {
    "misspelt_key": ("extends: {base}\nbehaviour:\n  review_rat: 0.3\n",
                     ["review_rat", "unknown key", "did you mean 'review_rate'"], 3),
    "syntax_error": ("extends: {base}\nbehaviour: {{review_rate: 0.3\nname: broken\n",
                     ["invalid YAML"], None),
    "share_out_of_range": ("extends: {base}\nbehaviour:\n  review_rate: 1.5\n",
                           ["behaviour.review_rate", "1.5"], 3),
    "unknown_vendor": ("extends: {base}\nscheduled_events:\n"
                       "  - {{quarter: 2026Q1, vendor: vendor_z, type: withdrawal}}\n",
                       ["unknown vendor 'vendor_z'"], None),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_exits_2_with_one_readable_message(tmp_path, case):
    text, expected, line = BAD_SCENARIOS[case]
    bad = tmp_path / f"{case}.yaml"
    bad.write_text(text.format(base=BASELINE.as_posix()), encoding="utf-8")
    out = tmp_path / "out"
    result = cli("run", bad, "--out", out, "--workers", "1", "--no-plots", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("adoptsim: error: ")
    assert str(bad) in message
    if line is not None:
        assert f"{bad}:{line}:" in message
    for fragment in expected:
        assert fragment in message, message
    assert files_under(out) == []
    assert "Run folder" not in result.stdout


def test_validate_reports_the_same_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {BASELINE.as_posix()}\nbehaviour:\n  review_rat: 0.3\n", encoding="utf-8"
    )
    result = cli("validate", bad, cwd=tmp_path, script=True)
    assert result.returncode == 2
    assert f"{bad}:3:" in result.stderr and "Traceback" not in result.stderr


def test_missing_file_and_bad_override_exit_2(tmp_path):
    missing = cli("run", tmp_path / "nowhere.yaml", "--out", tmp_path / "out", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere.yaml" in missing.stderr and "file not found" in missing.stderr
    override = cli("validate", BASELINE, "--set", "behaviour.review_rate=2", cwd=tmp_path)
    assert override.returncode == 2
    assert "--set behaviour.review_rate=2" in override.stderr
    assert "Traceback" not in missing.stderr + override.stderr
    assert files_under(tmp_path / "out") == []


def test_relative_paths_resolve_from_the_working_directory(tmp_path):
    result = cli("validate", "scenarios/baseline.yaml", cwd=ROOT)
    assert result.returncode == 0, result.stderr
