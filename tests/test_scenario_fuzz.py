"""Property-based tests of the scenario loader (hypothesis): random mutations of the baseline's
YAML (values of other types and ranges, renamed, repeated, moved and deleted keys, broken
indentation, truncation, other encodings, random bytes) always give either a valid scenario or a
:class:`sim.core.scenario.ScenarioError` with a message, never another exception; and ``adoptsim
validate`` and ``run`` on them exit 0 or 2 and never write anything for a bad file."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from conftest import BASELINE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.scenario import ScenarioError, load_scenario, scenario_to_yaml
from sim.core.schema import Scenario

BASE_TEXTS = (
    scenario_to_yaml(load_scenario(BASELINE)),  # every key of the baseline, resolved
    BASELINE.read_text(encoding="utf-8").replace(  # the file itself, extends made absolute
        "extends: [world.yaml, calibrated.yaml]",
        f"extends: [{BASELINE.parent / 'world.yaml'}, {BASELINE.parent / 'calibrated.yaml'}]"),
)
ODD_VALUES = [".nan", ".inf", "-.inf", "1e308", "1.0e+13", "-1", "0", "-0.0", "2", "1.5", "null",
              "~", "''", "[]", "{}", "[1, 2]", "{a: 1}", "true", "no", "2024-02-30", "2024Q5",
              "'..'", "../x", "&a [1, *a]", "*nowhere", "!!python/object:os.system x", "!!binary x",
              "!!set {a, b}", "9" * 5000, "\x01", "'\u00e9'", "|", ">", "- 1", "? a", "@", "`"]
FAST = settings(max_examples=100, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = st.one_of(st.sampled_from(ODD_VALUES), st.integers().map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.text(max_size=30))


@st.composite
def mutated_baselines(draw) -> bytes:
    """The baseline's YAML with one to four random edits, in some encoding, maybe with bytes."""
    lines = draw(st.sampled_from(BASE_TEXTS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        key, colon, value = line.partition(":")
        edit = draw(st.sampled_from(["value", "key", "delete", "repeat", "move", "indent",
                                     "insert", "truncate"]))
        if edit == "value" and colon:
            lines[index] = f"{key}: {draw(scalars)}\n"
        elif edit == "key" and colon:
            lines[index] = key[:len(key) - len(key.lstrip())] + draw(scalars) + colon + value
        elif edit == "delete":
            del lines[index]
        elif edit == "repeat":
            lines.insert(index, line)
        elif edit == "move":
            lines.insert(draw(st.integers(0, len(lines))), lines.pop(index))
        elif edit == "indent":
            lines[index] = draw(st.sampled_from(["  ", " ", "\t", ""])) + line.lstrip(
                draw(st.sampled_from(["", " ", "  "])))
        elif edit == "insert":
            lines.insert(index, draw(st.text(max_size=40)) + "\n")
        elif edit == "truncate":
            lines = lines[:index] + [line[:draw(st.integers(0, len(line)))]]
        if not lines:
            lines = [""]
    data = "".join(lines).encode(draw(st.sampled_from(["utf-8"] * 5 + ["utf-16", "latin-1"])),
                                 errors="replace")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    return data


@contextlib.contextmanager
def written(data: bytes):
    """``data`` as the only file of a fresh temporary folder; yields its path."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.yaml"
        path.write_bytes(data)
        yield path


@FAST
@given(data=mutated_baselines())
def test_mutated_baseline_gives_a_scenario_or_a_scenario_error(data):
    with written(data) as path:
        try:
            assert isinstance(load_scenario(path), Scenario)
        except ScenarioError as error:
            assert str(error).strip() and error.message.strip()


@FAST
@given(data=mutated_baselines())
def test_validate_and_run_on_mutated_baselines_never_write(data):
    with written(data) as path:
        out = path.parent / "out"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            validated = main(["validate", str(path)])
            assert validated in (0, 2)
            if validated == 2:  # a valid one would run for real; a bad one must write nothing
                assert main(["run", str(path), "--out", str(out), "--workers", "1"]) == 2
        assert "Traceback" not in stderr.getvalue()
        if validated == 2:
            assert stderr.getvalue().count("adoptsim: error: ") == 2
        assert [p.name for p in path.parent.iterdir()] == ["mutated.yaml"]
