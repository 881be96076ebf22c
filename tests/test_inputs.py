"""Hostile and mistaken input files: every one ends in exit code 2 and one readable message that
names the file (and the cap, when one was hit), without a traceback and without writing anything.

Scenario files, the files they extend, targets files and sweep files share one reader
(:func:`sim.core.settings_file.read_text` and the capped YAML parser), so most cases are tried on
scenarios.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BASELINE

from sim.cli import main
from sim.core.scenario import MAX_EXTENDS_DEPTH, MAX_EXTENDS_FILES, load_scenario
from sim.core.settings_file import MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, ScenarioError
from sim.running.storage import write_json

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi"))  # 9 levels of 9: 9**9 values expanded


def refused(tmp_path: Path, capsys, *arguments: str) -> str:
    """Run the command line in this process; it must exit 2 with one message, write nothing
    under ``tmp_path/out`` and print no traceback. Returns the message."""
    out = tmp_path / "out"
    code = main([*map(str, arguments), *(["--out", str(out)] if arguments[0] == "run" else [])])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.startswith("adoptsim: error: ") and "Traceback" not in captured.err
    assert not out.exists()
    return captured.err.removeprefix("adoptsim: error: ").strip()


def scenario_file(tmp_path: Path, body: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"extends: {BASELINE.as_posix()}\n{body}", encoding="utf-8")
    return path


# --- what a file is -------------------------------------------------------------------------

def test_binary_scenario_file_exits_2_without_traceback(tmp_path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    result = subprocess.run([sys.executable, "-m", "sim", "run", str(binary), "--out",
                             str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr == f"adoptsim: error: {binary}: a binary file, not text (it holds NUL " \
                            "bytes; UTF-16 text does too: save it as UTF-8)\n"
    assert sorted(tmp_path.iterdir()) == [binary]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_non_utf8_scenario_file_names_the_file_and_line(tmp_path, capsys, encoding):
    path = tmp_path / "accents.yaml"
    path.write_bytes(f"extends: {BASELINE.as_posix()}\ndescription: caf\u00e9\n".encode(encoding))
    assert refused(tmp_path, capsys, "validate", path) == (
        f"{path}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8")


def test_utf16_scenario_file_is_refused_as_not_utf8(tmp_path, capsys):
    path = tmp_path / "utf16.yaml"
    path.write_bytes(f"extends: {BASELINE.as_posix()}\n".encode("utf-16"))
    assert "save it as UTF-8" in refused(tmp_path, capsys, "run", path)


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_empty_scenario_file_is_refused(tmp_path, capsys, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    assert refused(tmp_path, capsys, "run", path) == f"{path}: the file is empty"


def test_scenario_path_naming_a_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "scenarios.yaml"
    folder.mkdir()
    assert refused(tmp_path, capsys, "run", folder) == f"{folder}: is a folder, not a file"


def test_unreadable_scenario_file_is_refused(tmp_path, capsys):
    if os.geteuid() == 0:  # root reads any mode; the kernel refuses reading this one to anyone
        path = Path("/proc/self/mem")
    else:
        path = tmp_path / "secret.yaml"
        path.write_text("name: x\n")
        path.chmod(0)
    assert refused(tmp_path, capsys, "run", path).startswith(f"{path}: cannot read file: ")


@pytest.mark.parametrize("kind", ["device", "pipe"])
def test_device_or_pipe_is_not_read(tmp_path, capsys, kind):
    if kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)  # opening it would wait for a writer forever
    assert refused(tmp_path, capsys, "validate", path) == (
        f"{path}: is not a regular file (a device, pipe or socket?)")


def test_huge_scenario_file_is_refused_before_parsing(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    started = time.perf_counter()
    message = refused(tmp_path, capsys, "validate", path)
    assert time.perf_counter() - started < 1
    assert (
        message.startswith(f"{path}: the file is ") and "over the cap of 1,048,576 bytes" in message
    )


# --- what the YAML costs ----------------------------------------------------------------------

def test_yaml_alias_bomb_is_capped_quickly(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    started = time.perf_counter()
    message = refused(tmp_path, capsys, "validate", path)
    assert time.perf_counter() - started < 5
    assert message == (f"{path}: the YAML holds more than {MAX_YAML_NODES:,} values (counting what "
                       "aliases, *name, and merges, <<, expand to), the cap on values per file")


def test_yaml_alias_bomb_in_an_override_is_capped(capsys, tmp_path):
    bomb = ALIAS_BOMB.replace("\n", ", ").replace(": &", ": &").rstrip(", ")
    message = refused(tmp_path, capsys, "validate", BASELINE, "--set", f"axes={{{bomb}}}")
    assert "cap on values per file" in message and message.startswith("--set axes=")


def test_alias_inside_its_own_anchor_is_refused(tmp_path, capsys):
    path = scenario_file(tmp_path, "axes: &loop {self: *loop}\n")
    assert f"{path}:2: the YAML nests deeper than {MAX_YAML_DEPTH} levels" in refused(
        tmp_path, capsys, "validate", path)


def test_deep_nesting_is_capped(tmp_path, capsys):
    path = scenario_file(tmp_path, "axes: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "the cap on nesting" in refused(tmp_path, capsys, "validate", path)


def test_duplicate_keys_are_errors_with_file_line_and_key(tmp_path, capsys):
    path = scenario_file(tmp_path, "behaviour:\n  review_rate: 0.2\nseed: 3\nbehaviour:\n"
                                   "  review_rate: 0.3\n")
    assert refused(tmp_path, capsys, "validate", path) == (
        f"{path}:5: duplicate key 'behaviour': it is already set on line 2 of this mapping")


def test_duplicate_nested_keys_are_errors(tmp_path):
    path = scenario_file(tmp_path, "behaviour: {review_rate: 0.2, review_rate: 0.3}\n")
    with pytest.raises(ScenarioError, match="duplicate key 'review_rate'") as caught:
        load_scenario(path)
    assert caught.value.line == 2


def test_a_merge_key_may_still_be_overridden(tmp_path):
    path = scenario_file(tmp_path, "axes: {<<: {tooling: fast}, tooling: slow}\n")
    assert load_scenario(path).axes == {"tooling": "slow"}


@pytest.mark.parametrize("text, message", [
    ("description: 2024-02-30\n", "invalid YAML value: day is out of range for month"),
    ("seed: " + "9" * 5000 + "\n", "invalid YAML value: Exceeds the limit (4300 digits)"),
    ("description: \x01\n", ":3: invalid YAML: character #x0001 is not allowed in YAML text"),
])
def test_unconstructible_yaml_values_are_errors(tmp_path, capsys, text, message):
    path = scenario_file(tmp_path, "name: odd\n" + text)
    assert message in refused(tmp_path, capsys, "validate", path)


# --- extends ---------------------------------------------------------------------------------

def test_extends_chain_deeper_than_the_cap_is_refused(tmp_path, capsys):
    for index in range(1000):
        (tmp_path / f"level{index}.yaml").write_text(f"extends: level{index + 1}.yaml\n")
    (tmp_path / "level1000.yaml").write_text(f"extends: {BASELINE.as_posix()}\n")
    last = tmp_path / f"level{MAX_EXTENDS_DEPTH - 1}.yaml"
    assert refused(tmp_path, capsys, "validate", tmp_path / "level0.yaml") == (
        f"{last}:1: extends: the extends chain is deeper than {MAX_EXTENDS_DEPTH} files, the cap "
        "on extends depth")


def test_extends_fan_out_is_capped(tmp_path, capsys):
    middle = tmp_path / "middle.yaml"
    middle.write_text("extends: [" + ", ".join([BASELINE.as_posix()] * 10) + "]\n")
    top = tmp_path / "top.yaml"
    top.write_text("extends: [" + ", ".join(["middle.yaml"] * 10) + "]\n")
    assert f"extends reads more than {MAX_EXTENDS_FILES} files for one scenario" in refused(
        tmp_path, capsys, "validate", top)


@pytest.mark.parametrize("content", [
    "root:x:0:0:SECRET-TEXT:/root:/bin/bash\n",
    "SECRET-TEXT: [never closed\n",
    "- SECRET-TEXT\n",
    "\x00SECRET-TEXT",
    "SECRET-TEXT \xff".encode("latin-1").decode("latin-1"),
])
def test_extends_naming_a_non_yaml_file_does_not_echo_its_content(tmp_path, capsys, content):
    system_file = tmp_path / "elsewhere" / "passwd"
    system_file.parent.mkdir()
    system_file.write_bytes(content.encode("latin-1"))
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {system_file}\nname: child\n")
    message = refused(tmp_path, capsys, "validate", path)
    assert str(system_file) in message and "SECRET" not in message


# --- numbers and names -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_numbers_are_schema_errors(tmp_path, capsys, value):
    path = scenario_file(tmp_path, f"behaviour:\n  closed_preference: {value}\n")
    assert refused(tmp_path, capsys, "run", path).startswith(
        f"{path}:3: behaviour.closed_preference: Input should be a finite number")
    override = refused(tmp_path, capsys, "validate", BASELINE, "--set",
                       f"signals.benchmark_gap.points.2024Q1={value}")
    assert "signals.benchmark_gap.points.2024Q1: Input should be a finite number" in override


def test_a_class_mix_of_new_work_summing_to_zero_is_a_schema_error(tmp_path, capsys):
    """Every class's share 0 but one's, whose share_path is all 0: new workloads would have no
    class from 2024Q4 on (they went silently to the first class, with a warning)."""
    others = "".join(f"    {name}: {{share: 0}}\n" for name in
                     ("customer_facing", "exploratory", "internal_high_volume",
                      "privacy_sensitive", "domain_specific"))
    path = scenario_file(tmp_path, "population:\n  workload_classes:\n" + others
                         + "    coding_agents:\n      share: 1\n"
                         "      share_path: {2024Q4: 0, 2025Q2: 0, 2025Q4: 0}\n")
    assert refused(tmp_path, capsys, "run", path, "--replications", "1").startswith(
        f"{path}:3: population.workload_classes: every workload class's share of new workloads "
        "is 0 at 2024Q4")


@pytest.mark.parametrize("value", ["1e308", "-1.0e+13", "1e13"])
def test_absurd_magnitudes_are_schema_errors(tmp_path, capsys, value):
    message = refused(
        tmp_path, capsys, "run", BASELINE, "--set", f"behaviour.closed_preference={value}"
    )
    assert message.startswith(
        f"--set behaviour.closed_preference={value}: behaviour.closed_preference: "
    )
    assert f"{float(value):g} is beyond the cap of 1e+12 on the size of any number" in message


def test_non_finite_levels_of_a_sweep_are_refused(tmp_path, capsys):
    sweep = tmp_path / "nan.yaml"
    sweep.write_text(f"name: nan\nbase: {BASELINE.as_posix()}\nparameters:\n"
                     "  behaviour.peer_weight: {levels: [1.0, .nan]}\n"
                     "design: {method: grid}\noutcomes: [workload_share_open_any@2030Q4]\n")
    assert refused(tmp_path, capsys, "sweep", sweep, "--out", tmp_path / "out") == (
        f"{sweep}:4: parameters.behaviour.peer_weight.levels: nan is not a finite number")


def test_non_finite_target_is_refused(tmp_path, capsys):
    targets = tmp_path / "targets.yaml"
    text = (BASELINE.parent / "targets.yaml").read_text(encoding="utf-8")
    targets.write_text(text.replace("value: 0.87", "value: .nan", 1), encoding="utf-8")
    message = refused(tmp_path, capsys, "calibrate", BASELINE, "--targets", targets, "--out",
                      tmp_path / "out", "--quick")
    assert "targets.4.value: Input should be a finite number" in message  # closed_workloads_2025


def test_manifests_are_strict_json(tmp_path):
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_json(tmp_path / "manifest.json", {"value": math.nan})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../outside", "a\\b", "", "x" * 101])
def test_scenario_name_dot_dot_is_refused(tmp_path, capsys, name):
    path = scenario_file(tmp_path, f"name: {json.dumps(name)}\n")
    message = refused(tmp_path, capsys, "run", path, "--replications", "1")
    assert message.startswith(f"{path}:2: name: the name becomes a folder name: use letters, "
                              "digits, '_', '.' and '-', starting with a letter or digit")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_scenario_name_from_the_command_line_is_checked_too(tmp_path, capsys):
    assert "name: the name becomes a folder name" in refused(
        tmp_path, capsys, "run", BASELINE, "--set", "name=..")


def test_sweep_name_dot_dot_is_refused(tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: '..'\nbase: {BASELINE.as_posix()}\nparameters:\n"
                     "  behaviour.peer_weight: {levels: [1.0, 2.0]}\n"
                     "design: {method: grid}\noutcomes: [workload_share_open_any@2030Q4]\n")
    assert refused(tmp_path, capsys, "sweep", sweep, "--out", tmp_path / "out").startswith(
        f"{sweep}:1: name: the name becomes a folder name")


# --- the other files that share the reader ----------------------------------------------------

def test_binary_targets_file_exits_2(tmp_path, capsys):
    targets = tmp_path / "targets.yaml"
    targets.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert (
        refused(
            tmp_path,
            capsys,
            "calibrate",
            BASELINE,
            "--targets",
            targets,
            "--quick",
            "--out",
            tmp_path / "out",
        )
        == f"{targets}: a binary file, not text (it holds "
        "NUL bytes; UTF-16 text does too: save it as UTF-8)"
    )


def test_alias_bomb_sweep_file_is_capped(tmp_path, capsys):
    sweep = tmp_path / "bomb.yaml"
    sweep.write_text(ALIAS_BOMB)
    assert "the cap on values per file" in refused(tmp_path, capsys, "sweep", sweep, "--out",
                                                   tmp_path / "out")
