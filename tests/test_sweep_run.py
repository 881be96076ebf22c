"""Running sweeps: the folder, byte-identical results across executors and worker counts,
resuming after kill -9, failing design points, and user errors."""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import assert_workers_die, children, held, wait_until

import sim.sweep.sweep as sweep_module
from sim.cli import main
from sim.running.runner import simulate
from sim.sweep import ProgressReporter, SweepError, load_sweep, run_sweep
from sim.sweep.store import SweepStore, read_run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = ["population.enterprises=100", "horizon.end=2025Q4", "scheduled_events=[]",
         "burn_in_quarters=2"]
GRID = """
parameters:
  behaviour.peer_weight: {levels: [0.5, 2.0, 5.0, 8.0]}
  parity:
    categories:
      flat: {signals.task_parity.points: {2024Q1: 0.85}}
      rising: {signals.task_parity.points: {2024Q1: 0.8, 2025Q4: 0.95}}
design: {method: grid, seed: 3}
replications: 3
outcomes:
  - workload_share_open_any@2025Q4
  - stack_share_hybrid[region=eu]@2025Q4
  - plans_to_expand_open@2025Q2
"""
GRID_SPEC = yaml.safe_load(GRID)
#: Every combination of the grid's levels and categories, each run once per replication.
GRID_POINTS = list(itertools.product(*(parameter.get("levels") or list(parameter["categories"])
                                       for parameter in GRID_SPEC["parameters"].values())))
GRID_RUNS = len(GRID_POINTS) * GRID_SPEC["replications"]


def write_sweep(folder: Path, name: str, body: str, settings=SMALL) -> Path:
    """A sweep file on the baseline with a small population and short horizon."""
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nbase: {BASELINE}\nset: {json.dumps(list(settings))}\n{body}",
                    encoding="utf-8")
    return path


def finished_files(runs: Path) -> int:
    """Run files with their final name (temporaries start with a dot)."""
    return sum(1 for path in runs.glob("*.parquet") if not path.name.startswith("."))


def results_bytes(folder: Path) -> bytes:
    return (folder / "results.parquet").read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The grid sweep run uninterrupted in this process (one worker)."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_sweep(folder, "grid", GRID)
    return spec, run_sweep(spec, workers=1, out=folder / "out")


def test_sweep_writes_the_folder(reference):
    spec, result = reference
    assert result.folder == load_sweep(spec).folder(result.folder.parents[2])
    assert result.folder.parent.name == "grid" and len(result.folder.name) == 8
    counts = (result.runs, result.finished, result.failed, result.executed)
    assert counts == (GRID_RUNS, GRID_RUNS, 0, GRID_RUNS)
    design = pd.read_parquet(result.folder / "design.parquet")
    assert list(design.columns[:4]) == ["run_id", "design_point", "replication", "seed"]
    assert len(design) == GRID_RUNS and design["run_key"].is_unique
    replications = list(range(GRID_SPEC["replications"]))
    for point, (values, runs) in enumerate(zip(GRID_POINTS, design.groupby("design_point"))):
        assert runs[0] == point and list(runs[1]["replication"]) == replications
        assert set(runs[1][list(GRID_SPEC["parameters"])].itertuples(index=False, name=None)) \
            == {values}
    assert sorted(p.stem for p in (result.folder / "runs").iterdir()) == sorted(design["run_key"])
    results = pd.read_parquet(result.folder / "results.parquet")
    assert list(results["run_id"]) == list(range(GRID_RUNS))
    assert set(results["status"]) == {"finished"}
    outcomes = ["workload_share_open_any@2025Q4", "stack_share_hybrid[region=eu]@2025Q4",
                "plans_to_expand_open@2025Q2"]
    assert results[outcomes].notna().all().all()
    assert results[outcomes].apply(lambda column: column.between(0, 1)).all().all()
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["runs"] == {"total": GRID_RUNS, "finished": GRID_RUNS, "failed": 0,
                                "executed_last": GRID_RUNS}
    assert yaml.safe_load((result.folder / "sweep.yaml").read_text())["outcomes"] == outcomes


def test_run_file_holds_the_quarterly_series(reference):
    _, result = reference
    run = pd.read_parquet(next((result.folder / "runs").iterdir()))
    assert list(run.columns) == ["quarter", "metric", "segment", "value"]
    assert run["quarter"].min() == "2024Q1" and run["quarter"].max() == "2025Q4"


def test_running_again_runs_nothing_and_gives_the_same_results(reference):
    spec, result = reference
    before = results_bytes(result.folder)
    again = run_sweep(spec, workers=1, out=result.folder.parents[2])
    assert again.executed == 0 and again.finished == GRID_RUNS
    assert results_bytes(again.folder) == before


def test_two_workers_give_identical_results(reference, tmp_path):
    spec, result = reference
    parallel = run_sweep(spec, workers=2, out=tmp_path)
    assert results_bytes(parallel.folder) == results_bytes(result.folder)


def test_dask_local_cluster_gives_identical_results(reference, tmp_path):
    pytest.importorskip("distributed")
    spec, result = reference
    on_dask = run_sweep(spec, executor="dask", workers=1, out=tmp_path)
    assert results_bytes(on_dask.folder) == results_bytes(result.folder)


def test_dask_local_cluster_slows_its_monitoring_in_every_worker_only():
    distributed = pytest.importorskip("distributed")
    import dask

    from sim.running.executors import DASK_LOCAL_SETTINGS, local_cluster

    def settings():
        return {key: dask.config.get(key) for key in DASK_LOCAL_SETTINGS}

    before = settings()
    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        in_workers = client.run(settings)
    assert len(in_workers) == 2
    assert all(seen == DASK_LOCAL_SETTINGS for seen in in_workers.values())
    assert settings() == before != DASK_LOCAL_SETTINGS  # this process keeps its own


def held_sweep(gated, spec: Path, out: Path) -> tuple[subprocess.Popen, Path]:
    """The sweep started behind a gate that holds every run after the first three, so it never
    finishes on its own (3 to 5 runs finish: both workers may be past the gate), into ``out``;
    returns the process and the sweep folder once both workers are held and the sweep has
    written the runs that finished (a held worker sent its results before it took the next
    run, so they come)."""
    process, _ = held(gated("hold:3", ["sweep", spec, "--workers", "2", "--quiet",
                                       "--no-analysis"]), "held-", 2)
    folder = load_sweep(spec).folder(out)
    wait_until(lambda: finished_files(folder / "runs") >= 3, 60, "three run files written")
    return process, folder


def resume(spec: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", "sweep", str(spec), "--workers", "2",
                           "--out", str(out), "--quiet", "--no-analysis"],
                          capture_output=True, text=True, timeout=300)


def test_killed_sweep_resumes_to_the_same_results(reference, gated, tmp_path):
    spec, result = reference
    process, folder = held_sweep(gated, spec, tmp_path / "out")
    for pid in [process.pid, *children(process.pid)]:   # the sweep and its workers
        os.kill(pid, signal.SIGKILL)
    process.wait()
    runs = folder / "runs"
    finished = finished_files(runs)
    assert 3 <= finished < GRID_RUNS
    assert not (folder / "results.parquet").exists()
    (runs / ".half-written.parquet.x1y2.parquet").write_bytes(b"PAR1 and then nothing")

    resumed = resume(spec, tmp_path / "out")
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["runs"]["executed_last"] == GRID_RUNS - finished
    assert not list(runs.glob(".*"))
    assert results_bytes(folder) == results_bytes(result.folder)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_sweep_whose_parent_is_killed_resumes_within_seconds(reference, gated, tmp_path, signum):
    spec, result = reference
    process, folder = held_sweep(gated, spec, tmp_path / "out")
    workers = children(process.pid)
    process.send_signal(signum)  # the parent alone: its workers must not outlive it
    _, err = process.communicate(timeout=60)
    assert_workers_die(workers)
    if signum == signal.SIGTERM:
        assert process.returncode == 128 + signal.SIGTERM
        assert err.strip().endswith("adoptsim: terminated") and "Traceback" not in err
        assert (folder / ".lock").read_text() == ""  # released, no owner left on record

    resumed = resume(spec, tmp_path / "out")
    assert resumed.returncode == 0, resumed.stderr
    assert "another sweep is running" not in resumed.stderr
    assert ("taking over the lock" in resumed.stderr) == (signum == signal.SIGKILL)
    assert results_bytes(folder) == results_bytes(result.folder)


@pytest.mark.parametrize("orphan_holds_it", [False, True])
def test_a_dead_owners_lock_is_taken_over_with_a_message(reference, tmp_path, capsys,
                                                         orphan_holds_it):
    spec, result = reference
    folder = load_sweep(spec).folder(tmp_path)
    shutil.copytree(result.folder, folder)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    owner = {"pid": int(dead.stdout), "started": "1", "since": "2020-01-01T00:00:00+00:00"}
    lock = folder / ".lock"
    lock.write_text(json.dumps(owner))
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; "
                               f"handle = open({str(lock)!r}); fcntl.flock(handle, fcntl.LOCK_EX); "
                               "print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True) if orphan_holds_it else None
    try:
        assert holder is None or holder.stdout.readline() == "held\n"
        again = run_sweep(spec, workers=1, out=tmp_path)
    finally:
        if holder is not None:
            holder.kill()
            holder.communicate()
    assert again.executed == 0 and again.finished == GRID_RUNS
    assert (f"adoptsim: taking over the lock of {folder} from process {owner['pid']}, started "
            f"{owner['since']}, which is no longer running") in capsys.readouterr().err
    assert lock.read_text() == ""


FAILING = """
parameters:
  behaviour.peer_weight: {levels: [2.0, 8.0]}
design: {method: grid}
outcomes: [workload_share_open_any@2025Q4]
"""


def test_a_failing_design_point_is_recorded_and_the_others_finish(tmp_path, capsys, monkeypatch):
    def simulate_or_fail(scenario, seed):
        if scenario.behaviour.peer_weight == 8.0:
            raise FloatingPointError("the model blew up at this design point")
        return simulate(scenario, seed)

    monkeypatch.setattr(sweep_module, "simulate", simulate_or_fail)  # runs in this process
    spec = write_sweep(tmp_path, "failing", FAILING)
    arguments = ["sweep", str(spec), "--workers", "1", "--out", str(tmp_path), "--no-analysis"]
    assert main(arguments) == 1
    printed = capsys.readouterr().out
    assert "2 runs, 1 finished, 1 failed" in printed
    folder = load_sweep(spec).folder(tmp_path)
    failures = list((folder / "failures").iterdir())
    assert len(failures) == 1
    assert "FloatingPointError: the model blew up" in failures[0].read_text()
    assert "behaviour.peer_weight=8.0" in failures[0].read_text()
    results = pd.read_parquet(folder / "results.parquet")
    assert list(results["status"]) == ["finished", "failed"]
    assert results["workload_share_open_any@2025Q4"].isna().tolist() == [False, True]

    assert run_sweep(spec, workers=1, out=tmp_path).executed == 0  # failures are not retried
    retried = run_sweep(spec, workers=1, out=tmp_path, retry_failed=True)
    assert (retried.executed, retried.failed) == (1, 1)
    monkeypatch.undo()
    fixed = run_sweep(spec, workers=1, out=tmp_path, retry_failed=True)
    assert (fixed.executed, fixed.failed, fixed.finished) == (1, 0, 2)
    assert not list((folder / "failures").iterdir())


def test_a_changed_design_in_the_folder_is_not_overwritten(reference, tmp_path):
    spec, result = reference
    copy = load_sweep(spec).folder(tmp_path)
    shutil.copytree(result.folder, copy)
    design_file = copy / "design.parquet"
    tampered = pd.read_parquet(design_file).assign(seed=1)
    tampered.to_parquet(design_file, index=False)
    with pytest.raises(SweepError, match="different design"):
        run_sweep(spec, workers=1, out=tmp_path)
    assert pd.read_parquet(design_file).equals(tampered)


def test_a_busy_folder_is_refused(reference, tmp_path):
    spec, _ = reference
    folder = load_sweep(spec).folder(tmp_path)
    with (
        SweepStore(folder).lock(),
        pytest.raises(SweepError, match="another sweep is running") as busy,
    ):
        run_sweep(spec, workers=1, out=tmp_path)
    assert f"(process {os.getpid()}, started " in str(busy.value)


def test_missing_dask_is_a_clear_error(reference, tmp_path, monkeypatch):
    spec, _ = reference
    from sim.running.executors import ExecutorError

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ExecutorError, match=r"pip install -e \"\.\[dask\]\""):
        run_sweep(spec, executor="dask", out=tmp_path)


def damage_truncated(path: Path, other: Path) -> None:
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def damage_empty(path: Path, other: Path) -> None:
    path.write_bytes(b"")


def damage_not_parquet(path: Path, other: Path) -> None:
    path.write_text("quarter,metric,segment,value\n")


def damage_swapped(path: Path, other: Path) -> None:
    mine, theirs = path.read_bytes(), other.read_bytes()
    path.write_bytes(theirs)
    other.write_bytes(mine)


def damage_values(path: Path, other: Path) -> None:
    """A well-formed file whose values were changed after it was written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    value = table.column_names.index("value")
    pq.write_table(table.set_column(value, "value", pa.compute.add(table["value"], 0.01)), path)


@pytest.mark.parametrize("damage", [damage_truncated, damage_empty, damage_not_parquet,
                                    damage_swapped, damage_values],
                         ids=lambda damage: damage.__name__.removeprefix("damage_"))
def test_damaged_or_swapped_run_file_is_reported_and_rerun(reference, tmp_path, capsys, damage):
    spec, result = reference
    folder = load_sweep(spec).folder(tmp_path)
    shutil.copytree(result.folder, folder)
    first, second = sorted((folder / "runs").iterdir())[:2]
    damage(first, second)
    damaged = [first, second] if damage is damage_swapped else [first]
    resumed = run_sweep(spec, workers=1, out=tmp_path, retry_failed=True)
    err = capsys.readouterr().err
    assert resumed.executed == len(damaged) and resumed.finished == GRID_RUNS
    for path in damaged:
        assert f"adoptsim: {path}: " in err and "the run will be run again" in err
    assert results_bytes(folder) == results_bytes(result.folder)


def test_run_files_record_their_key_and_checksum(reference):
    _, result = reference
    path = next((result.folder / "runs").iterdir())
    table = read_run(path, path.stem)
    assert table.schema.metadata[b"adoptsim.run_key"] == path.stem.encode()
    assert len(table.schema.metadata[b"adoptsim.sha256"]) == 64


def test_truncated_design_file_is_written_again(reference, tmp_path, capsys):
    spec, result = reference
    folder = load_sweep(spec).folder(tmp_path)
    shutil.copytree(result.folder, folder)
    damage_truncated(folder / "design.parquet", folder)
    assert run_sweep(spec, workers=1, out=tmp_path).executed == 0
    assert (f"adoptsim: {folder / 'design.parquet'}: unreadable (truncated or damaged); written "
            "again from the sweep file") in capsys.readouterr().err
    assert (folder / "design.parquet").read_bytes() == (
        result.folder / "design.parquet"
    ).read_bytes()


@pytest.mark.parametrize("name", ["design.parquet", "results.parquet"])
def test_truncated_sweep_table_is_a_clear_error_in_analyze_and_sweep_rebuilds_it(
        reference, tmp_path, capsys, name):
    spec, result = reference
    folder = load_sweep(spec).folder(tmp_path)
    shutil.copytree(result.folder, folder)
    damage_truncated(folder / name, folder)
    assert main(["analyze", str(folder), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"adoptsim: error: {folder / name}: cannot read it: truncated or damaged")
    assert err.rstrip().endswith("run adoptsim sweep on the sweep file again to rebuild it")
    assert "Traceback" not in err
    assert main(["sweep", str(spec), "--workers", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert results_bytes(folder) == results_bytes(result.folder)


def test_reordering_the_parameters_changes_the_folder(reference, tmp_path):
    spec, result = reference
    lines = GRID.splitlines(keepends=True)
    reordered = "".join([lines[0], lines[1], *lines[3:7], lines[2], *lines[7:]])
    assert reordered != GRID and sorted(reordered) == sorted(GRID)
    swapped = write_sweep(tmp_path, "grid", reordered)
    sweep = load_sweep(swapped)
    assert list(sweep.spec.parameters) == ["parity", "behaviour.peer_weight"]
    assert sweep.folder(result.folder.parents[2]) != result.folder
    again = run_sweep(swapped, workers=2, out=tmp_path)
    assert again.finished == GRID_RUNS

    def by_values(folder: Path) -> pd.DataFrame:
        columns = ["behaviour.peer_weight", "parity", "replication"]
        results = pd.read_parquet(folder / "results.parquet").drop(
            columns=["run_id", "design_point"]
        )
        return results.sort_values(columns).reset_index(drop=True)[sorted(results.columns)]

    pd.testing.assert_frame_equal(by_values(again.folder), by_values(result.folder))


@pytest.mark.parametrize(
    "body, message",
    [
        (
            GRID.replace("behaviour.peer_weight", "behaviour.peer_wieght"),
            "{name}.yaml:6: parameters.behaviour.peer_wieght: 0.5 does not fit the base scenario: "
            "behaviour.peer_wieght: unknown key; did you mean 'peer_weight'?",
        ),
        (
            GRID.replace("levels: [0.5", "levels: [-0.5"),
            "{name}.yaml:6: parameters.behaviour.peer_weight: -0.5 does not fit the base scenario",
        ),
        (
            GRID.replace("method: grid", "method: sobol, samples: 6"),
            "{name}.yaml:11: design: sobol samples must be a power of two (got 6)",
        ),
        (
            GRID.replace("{levels: [0.5, 2.0, 5.0, 8.0]}", "{range: [0.5, 8.0]}"),
            "{name}.yaml:11: design: a grid needs levels or categories",
        ),
        (
            GRID.replace("plans_to_expand_open@2025Q2", "plans_to_expand_open[region=mars]@2025Q2"),
            "{name}.yaml:16: outcomes.2: unknown segment 'region=mars'",
        ),
        (
            GRID.replace("plans_to_expand_open@2025Q2", "plans_to_expand_open@2029Q2"),
            "{name}.yaml:16: outcomes.2: 'plans_to_expand_open@2029Q2' is outside the base "
            "scenario's horizon",
        ),
        (
            GRID + "replicates: 2\n",
            "{name}.yaml:17: replicates: unknown key; did you mean 'replications'?",
        ),
    ],
)
def test_bad_sweep_files_exit_2_with_one_message(tmp_path, capsys, body, message):
    spec = write_sweep(tmp_path, "bad", body)
    assert main(["sweep", str(spec), "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("adoptsim: error: " + message.format(name=tmp_path / "bad"))
    assert "Traceback" not in captured.err
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")),
                         ids=lambda path: path.stem)
def test_example_sweeps_are_valid(path):
    sweep = load_sweep(path)
    assert len(sweep.design) > 0 and sweep.outcomes


def test_progress_logs_runs_failures_rate_and_eta():
    stream = io.StringIO()
    progress = ProgressReporter("grid", stream=stream)
    progress(0, 0, 10)
    progress(3, 1, 10)
    progress(9, 1, 10)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep grid: 0/10 runs done, 0 failed")
    assert lines[-1].startswith("sweep grid: 10/10 runs done, 1 failed, ")
    assert "runs/s, ETA 0:00:00" in lines[-1]
