"""Where outputs go: every command checks its output folder before computing anything (inside
the output root, a writable folder, no dangling link or loop on the way), and nothing is left
behind: unfinished folders of killed runs are removed after a day, or by ``adoptsim clean``."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE

import sim.calibration
import sim.running.runner
import sim.sweep.sweep
from sim.cli import main
from sim.running import storage
from sim.running.storage import OutputError, output_folder, stale_partials

SMALL = ["--set", "population.enterprises=100", "--replications", "1", "--workers", "1",
         "--no-plots"]
TWO_DAYS = 2 * 24 * 3600


@pytest.fixture
def no_computing(monkeypatch):
    """Any simulation fails the test: the output folder must be refused before."""
    def computing(*args, **kwargs):
        raise AssertionError("computing started before the output folder was checked")

    monkeypatch.setattr(sim.running.runner, "run_replications", computing)
    monkeypatch.setattr(sim.running.runner, "simulate", computing)
    monkeypatch.setattr(sim.calibration, "calibrate", computing)
    monkeypatch.setattr(sim.sweep.sweep, "_execute", computing)


def refused(capsys, *arguments) -> str:
    code = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.startswith("adoptsim: error: ") and "Traceback" not in captured.err
    return captured.err.removeprefix("adoptsim: error: ").strip()


def sweep_file(folder: Path, name: str = "tiny") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nbase: {BASELINE.as_posix()}\n"
        'set: ["population.enterprises=100", "horizon.end=2024Q4", "burn_in_quarters=1", '
        '"scheduled_events=[]"]\n'
        "parameters:\n  behaviour.peer_weight: {levels: [1.0, 2.0]}\n"
        "design: {method: grid}\noutcomes: [workload_share_open_any@2024Q4]\n"
    )
    return path


def commands(folder: Path, out: Path) -> dict[str, list]:
    """Every command that computes and writes, with ``out`` as its output folder."""
    return {
        "run": ["run", BASELINE, *SMALL, "--out", out],
        "compare": ["compare", BASELINE.parent / "watch" / "price-hike.yaml", "--replications", "1",
                    "--workers", "1", "--out", out],
        "calibrate": ["calibrate", BASELINE, "--quick", "--workers", "1", "--out", out, "--quiet"],
        "sweep": ["sweep", sweep_file(folder), "--workers", "1", "--out", out, "--quiet"],
    }


def partial(path: Path, folder: bool = True) -> Path:
    """An unfinished folder (or temporary file) as a killed run leaves it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        path.mkdir()
        (path / "manifest.json").write_text("{}")
    else:
        path.write_text("{")
    return path


def make_old(path: Path) -> Path:
    old = time.time() - TWO_DAYS
    os.utime(path, (old, old), follow_symlinks=False)
    return path


# --- the output root ---------------------------------------------------------------------------

@pytest.mark.parametrize("parts", [("..",), ("a", "..", ".."), ("/etc",), (".",), ("a/../../b",)])
def test_output_paths_outside_the_output_root_are_refused(tmp_path, parts):
    with pytest.raises(OutputError, match="not a folder inside the output folder"):
        output_folder(tmp_path / "out", *parts)
    assert not (tmp_path / "out").exists() and sorted(tmp_path.iterdir()) == []


def test_output_folder_is_created_and_checked_for_writing(tmp_path):
    folder = output_folder(tmp_path / "out", "baseline")
    assert folder == tmp_path / "out" / "baseline" and folder.is_dir()
    assert list(folder.iterdir()) == []  # the write check leaves nothing


@pytest.mark.parametrize("command", ["run", "compare", "calibrate", "sweep"])
def test_out_naming_a_file_exits_2_before_computing(tmp_path, capsys, no_computing, command):
    out = tmp_path / "results.csv"
    out.write_text("keep me\n")
    assert refused(capsys, *commands(tmp_path, out)[command]) == (
        f"{out}: a file, not a folder; choose another --out")
    assert out.read_text() == "keep me\n"


@pytest.mark.parametrize("command", ["run", "compare", "calibrate", "sweep"])
def test_read_only_out_exits_2_before_computing(tmp_path, capsys, no_computing, command):
    if os.geteuid() == 0:  # root writes in any folder whatever its mode; sysfs refuses everyone
        out = Path("/sys/fs/adoptsim-outputs")
    else:
        out = tmp_path / "read-only"
        out.mkdir()
        out.chmod(0o555)
    message = refused(capsys, *commands(tmp_path, out)[command])
    assert message.startswith(str(out)) and "cannot write output here" in message


def test_outputs_a_dangling_symlink_exits_2(tmp_path, capsys, no_computing):
    out = tmp_path / "outputs"
    out.symlink_to(tmp_path / "gone")
    assert refused(capsys, *commands(tmp_path, out)["run"]) == (
        f"{out}: a symbolic link to {tmp_path / 'gone'}, which does not exist")
    assert not (tmp_path / "gone").exists()


def test_outputs_a_symlink_loop_exits_2(tmp_path, capsys, no_computing):
    out = tmp_path / "outputs"
    out.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(out)
    assert refused(capsys, *commands(tmp_path, out)["sweep"]) == f"{out}: a symbolic link loop"


def test_a_scenario_folder_that_is_a_file_exits_2(tmp_path, capsys, no_computing):
    out = tmp_path / "outputs"
    out.mkdir()
    (out / "baseline").write_text("")
    assert refused(capsys, *commands(tmp_path, out)["run"]) == (
        f"{out / 'baseline'}: a file, not a folder; choose another --out")


def test_analysis_folder_that_is_a_file_exits_2(tmp_path, capsys):
    sweep = sweep_file(tmp_path)
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(tmp_path / "out"), "--quiet",
                 "--no-analysis"]) == 0
    folder = next((tmp_path / "out" / "sweeps" / "tiny").iterdir())
    (folder / "analysis").write_text("")
    capsys.readouterr()
    assert refused(capsys, "analyze", folder) == (
        f"{folder / 'analysis'}: a file, not a folder; choose another --out")


def test_calibration_writes_only_beside_its_targets(tmp_path, capsys, no_computing):
    targets = tmp_path / "targets.yaml"
    text = (BASELINE.parent / "targets.yaml").read_text(encoding="utf-8")
    targets.write_text(text.replace("writes: calibrated.yaml", "writes: ../../calibrated.yaml"))
    message = refused(
        capsys, "calibrate", BASELINE, "--targets", targets, "--out", tmp_path / "out"
    )
    assert message.startswith(f"{targets}:") and "calibration.writes: name a file in the " \
                                                 "targets file's folder or below it" in message


# --- nothing left behind ----------------------------------------------------------------------

def test_stale_partial_folders_are_removed_by_the_next_run(tmp_path, capsys):
    parent = tmp_path / "out" / "baseline"
    stale = make_old(partial(parent / ".20240101-000000-abcdef12.partial-x1y2"))
    fresh = partial(parent / ".20240101-000000-abcdef12.partial-z3w4")
    assert main(["run", str(BASELINE), *SMALL, "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"adoptsim: removed 1 unfinished folder(s) older than a day, left in {parent} by a " \
           f"killed run: {stale.name}" in err
    assert not stale.exists() and fresh.exists()
    assert len([path for path in parent.iterdir() if not path.name.startswith(".")]) == 1


def test_clean_lists_and_removes_stale_partials_on_request(tmp_path, capsys):
    out = tmp_path / "outputs"
    stale = [
        make_old(partial(out / "baseline" / ".20240101-000000-aaaaaaaa.partial-1")),
        make_old(partial(out / "compare" / ".20240101-000000-bbbbbbbb.partial-2")),
        make_old(
            partial(
                out / "sweeps" / "grid" / "12345678" / ".manifest.json.partial-3.json", folder=False
            )
        ),
    ]
    fresh = partial(out / "baseline" / ".20240101-000000-cccccccc.partial-4")
    assert sorted(stale_partials(out, recursive=True)) == sorted(stale)

    assert main(["clean", "--out", str(out)]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {path}\n" in listed for path in stale) and str(fresh) not in listed
    assert "Run adoptsim clean --yes to remove them." in listed
    assert all(os.path.lexists(path) for path in stale)

    assert main(["clean", "--out", str(out), "--yes"]) == 0
    assert "Removed 3." in capsys.readouterr().out
    assert not any(os.path.lexists(path) for path in stale) and fresh.exists()
    assert main(["clean", "--out", str(out)]) == 0
    assert "No unfinished folders older than a day" in capsys.readouterr().out


def test_clean_never_follows_a_link_out_of_the_outputs(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep")
    out = tmp_path / "outputs"
    out.mkdir()
    link = out / ".x.partial-1"
    link.symlink_to(elsewhere)
    make_old(link)
    assert main(["clean", "--out", str(out), "--yes"]) == 0
    assert not os.path.lexists(link) and (elsewhere / "precious.txt").read_text() == "keep"


def test_a_failed_atomic_write_leaves_nothing(tmp_path):
    def failing(target: Path) -> None:
        target.write_text("half")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        storage.write_atomic(tmp_path / "manifest.json", failing)
    assert list(tmp_path.iterdir()) == []


# --- the final rename and a full disk ---------------------------------------------------------

def test_two_folders_finishing_at_once_under_one_name_both_land(tmp_path, monkeypatch):
    """Two identical runs finishing in the same second: both reach the rename before either
    renames (a barrier holds them there); each ends in its own folder, nothing hidden is left."""
    rename, barrier = os.rename, threading.Barrier(2)

    def rename_together(source, target):
        barrier.wait(timeout=30)
        rename(source, target)

    monkeypatch.setattr(os, "rename", rename_together)
    parent, landed = tmp_path / "baseline", []

    def finish(text: str) -> None:
        with storage.new_folder(parent, "20260101-000000-abcdef12") as folder:
            (folder.staging / "manifest.json").write_text(text)
        landed.append(folder.path)

    threads = [threading.Thread(target=finish, args=(text,)) for text in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(path.name for path in landed) == ["20260101-000000-abcdef12",
                                                    "20260101-000000-abcdef12-2"]
    assert sorted((path / "manifest.json").read_text() for path in landed) == ["first", "second"]
    assert sorted(path.name for path in parent.iterdir()) == sorted(path.name for path in landed)


def test_a_name_taken_between_claim_and_rename_is_left_alone_and_the_next_one_used(
        tmp_path, monkeypatch):
    rename = os.rename

    def someone_fills_it_first(source, target):
        if not Path(target).name.endswith("-2"):
            (Path(target) / "theirs.txt").write_text("theirs")
        rename(source, target)

    monkeypatch.setattr(os, "rename", someone_fills_it_first)
    with storage.new_folder(tmp_path, "run") as folder:
        (folder.staging / "mine.txt").write_text("mine")
    assert folder.path == tmp_path / "run-2" and (folder.path / "mine.txt").read_text() == "mine"
    assert (tmp_path / "run" / "theirs.txt").read_text() == "theirs"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run", "run-2"]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_ends_a_run_in_one_line_and_leaves_no_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_space)
    out = tmp_path / "out"
    assert main(["run", str(BASELINE), *SMALL, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"adoptsim: error: no space left on device writing {out / 'baseline'}/")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_full_disk_stops_a_sweep_which_resumes_when_there_is_space(tmp_path, capsys,
                                                                    monkeypatch):
    spec, out = sweep_file(tmp_path), tmp_path / "out"
    arguments = ["sweep", str(spec), "--workers", "1", "--out", str(out), "--quiet",
                 "--no-analysis"]
    with monkeypatch.context() as full:
        full.setattr(Path, "write_bytes", no_space)   # run files: storage.write_atomic
        assert main(arguments) == 1
    err = capsys.readouterr().err
    runs = next(out.rglob("runs"))
    assert f"adoptsim: error: no space left on device writing {runs}/" in err
    assert not list(runs.iterdir())
    assert main(arguments) == 0
    assert len(list(runs.iterdir())) == 2
