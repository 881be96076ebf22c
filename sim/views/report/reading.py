"""Reading an output folder's files for its report: the manifest (size-capped, JSON, checked
against the shape the reports read: :data:`MANIFEST_SHAPE`, :func:`check_shape`) and Parquet
tables with the columns a report needs. A file that cannot be used is a :class:`ReportError`
naming it (and the key), never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import UserError


class ReportError(UserError):
    """A folder that cannot be reported on (missing, or not an adoptsim output folder)."""


MAX_MANIFEST_BYTES = 16 << 20
#: What the reports read from a manifest, of any kind (see :func:`check_shape`).
MANIFEST_SHAPE: dict = {
    "scenario": str, "scenario_hash": str, "seed": int, "replications": int, "created": str,
    "resolved_scenario": {"name": str, "population": {"enterprises": int, "sectors": {"*": dict}}},
    "replication_seeds": [{"spawn_key": list}], "versions": dict, "git_commit": str,
    "wall_seconds": (int, float),
    "sweep": str, "sweep_hash": str, "sweep_file": str, "executor": str, "updated": str,
    "base_scenario": {"name": str, "hash": str, "resolved": dict}, "runs": dict, "spec": dict,
    "reference": str, "dates": list,
    "scenarios": {"*": {"scenario_hash": str, "run_folder": str, "description": str,
                        "axes": dict}},
}
_SHAPE_WORDS = {dict: "a mapping", list: "a list", str: "text", int: "a whole number"}


def read_manifest(folder: Path) -> dict:
    """``folder/manifest.json``: a readable JSON file (at most ``MAX_MANIFEST_BYTES``) holding an
    object of :data:`MANIFEST_SHAPE`, or a :class:`ReportError` saying what is wrong."""
    from sim.core.settings_file import ScenarioError, read_text

    path = folder / "manifest.json"
    try:
        manifest = json.loads(read_text(path, MAX_MANIFEST_BYTES))
    except ScenarioError as error:
        raise ReportError(str(error)) from None
    except (ValueError, RecursionError) as error:
        raise ReportError(f"{path}: cannot read the manifest (not JSON: {error})") from None
    if not isinstance(manifest, dict):
        raise ReportError(f"{path}: not a manifest: it should hold a mapping, not "
                          f"{_json_kind(manifest)}")
    check_shape(manifest, MANIFEST_SHAPE, path)
    return manifest


def check_shape(value: Any, shape: Any, file: Path, where: str = "") -> None:
    """Raise :class:`ReportError` naming ``file`` and the key path unless ``value`` (read from
    ``file``) fits ``shape``: a type or tuple of types; ``{key: shape}`` for a mapping (``"*"``
    for every value); ``[shape]`` for a list of such items. Null fits anything, and keys the
    shape does not name are not checked."""
    if value is None:
        return
    expected = dict if isinstance(shape, dict) else list if isinstance(shape, list) else shape
    if not isinstance(value, expected):
        words = _SHAPE_WORDS.get(expected, "a number")
        raise ReportError(f"{file}: {where}: should be {words}, not {_json_kind(value)}")
    if isinstance(shape, dict):
        for key, inner in shape.items():
            for name, item in (value.items() if key == "*" else [(key, value.get(key))]):
                check_shape(item, inner, file, f"{where}.{name}".lstrip("."))
    elif isinstance(shape, list):
        for index, item in enumerate(value):
            check_shape(item, shape[0], file, f"{where}.{index}".lstrip("."))


def _json_kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def read_parquet(path: Path, columns: Sequence[str] = ()):
    """A Parquet table of the folder that holds ``columns``, or a :class:`ReportError`."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: cannot read ({error})") from None
    missing = [column for column in columns if column not in frame]
    if missing:
        raise ReportError(f"{path}: no column {', '.join(missing)}")
    return frame
