"""Loading scenarios: YAML files with ``extends:``, ``--set`` overrides and readable errors.

A scenario source is a YAML file, an already-parsed dict or a :class:`~sim.core.schema.Scenario`.
Files may start from another file (``extends: base.yaml``, relative to the extending file); the
extending file's keys are deep-merged over the base (mappings merge key by key, lists and
scalars replace). ``--set a.b.c=value`` overrides are applied after that, with the value parsed
as YAML. The merged dict is then validated by :mod:`sim.core.schema`. A file's
``posterior: {file: draws.csv}`` is read into the posterior draws, and a parameter a later file
or override sets leaves the draws.

Every file is read as a settings file (:mod:`sim.core.settings_file`: capped size, nesting and
alias expansion, duplicate keys refused), and every problem is raised as a
:class:`~sim.core.settings_file.ScenarioError` that names the file and line (or the ``--set``
override) that last set the offending key, and the dotted key path. The ``extends`` chain is
capped too (``MAX_EXTENDS_DEPTH`` files deep, ``MAX_EXTENDS_FILES`` files in all).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.core.schema import Scenario
from sim.core.settings_file import (
    KeyPath,
    Origin,
    Origins,
    ScenarioError,
    from_validation_error,
    parse_yaml,
    read_text,
    read_yaml,
    value_kind,
)

MAX_EXTENDS_DEPTH = 32        # files in one extends chain
MAX_EXTENDS_FILES = 64        # files read for one scenario, all extends lists included


# --- public API -------------------------------------------------------------------------------

def load_scenario(source: str | Path | dict | Scenario, overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge, override and validate a scenario; any problem raises :class:`ScenarioError`.

    ``source`` is a YAML file's path, a raw dict (its ``extends`` is relative to the working
    directory; the dict is not modified) or a Scenario (returned as is when there are no
    overrides). ``overrides`` are ``--set`` strings, ``a.b.c=value``.
    """
    if isinstance(source, Scenario):
        if not overrides:
            return source
        raw, origins = source.model_dump(), {(): Origin(None)}
    elif isinstance(source, dict):
        raw, origins = _resolve_extends(copy.deepcopy(source), {(): Origin(None)}, None, (), [])
    else:
        raw, origins = _load_file(Path(source), (), [])
    for text in overrides:
        origins = _apply_override(raw, origins, text)
    _unpin_posterior(raw, origins)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise from_validation_error(error, origins, Scenario) from None
    _check_posterior(scenario, origins)
    return scenario


def canonical_json(scenario: Scenario) -> str:
    """The scenario as compact JSON with sorted keys: equal scenarios give equal text."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 hex digest of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(scenario).encode("utf-8")).hexdigest()


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario (defaults filled in, extends and overrides applied) as YAML."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


# --- files and extends ------------------------------------------------------------------------

def _load_file(path: Path, chain: tuple[Path, ...], reads: list[Path]) -> tuple[dict, Origins]:
    """Parse one file and, recursively, the files it extends. ``chain`` is the files that extend
    it, ``reads`` every file read so far for this scenario."""
    reads.append(path)
    raw, origins = read_yaml(path)
    _read_posterior(raw, origins, path)
    return _resolve_extends(raw, origins, path, chain + (path,), reads)


def _resolve_extends(raw: dict, origins: Origins, path: Path | None, chain: tuple[Path, ...],
                     reads: list[Path]) -> tuple[dict, Origins]:
    """Merge ``raw`` over the file(s) its top-level ``extends`` names (relative to ``path``).

    ``extends`` is one file or a list of files, merged in order (later ones win)."""
    if "extends" not in raw:
        return raw, origins
    targets = raw.pop("extends")
    here = origins.pop(("extends",), origins[()])
    targets = [targets] if isinstance(targets, str) else targets
    if not isinstance(targets, list) or not targets or not all(
            isinstance(target, str) and target.strip() for target in targets):
        raise ScenarioError("extends must name a scenario file or a list of them",
                            here.file, here.line, "extends")
    merged, merged_origins = {}, {}
    for target in targets:
        target_path = _extends_target(target, path, chain, reads, here)
        base, base_origins = _load_file(target_path, chain, reads)
        merged, merged_origins = _merge_with_origins(merged, merged_origins, base, base_origins)
    return _merge_with_origins(merged, merged_origins, raw, origins)


def _extends_target(target: str, path: Path | None, chain: tuple[Path, ...], reads: list[Path],
                    here: Origin) -> Path:
    base_path = (path.parent if path else Path.cwd()) / target
    if any(os.path.realpath(base_path) == os.path.realpath(seen) for seen in chain):
        names = " -> ".join(str(p) for p in (*chain, base_path))
        raise ScenarioError(f"extends cycle: {names}", here.file, here.line, "extends")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"the extends chain is deeper than {MAX_EXTENDS_DEPTH} files, the cap "
                            "on extends depth", here.file, here.line, "extends")
    if len(reads) >= MAX_EXTENDS_FILES:
        raise ScenarioError(f"extends reads more than {MAX_EXTENDS_FILES} files for one scenario, "
                            "the cap on extended files", here.file, here.line, "extends")
    if not os.path.lexists(base_path):
        raise ScenarioError(
            f"extends target not found: {base_path}", here.file, here.line, "extends"
        )
    return base_path


def _merge_with_origins(base: dict, base_origins: Origins, over: dict, over_origins: Origins
                        ) -> tuple[dict, Origins]:
    replaced: set[KeyPath] = set()
    merged = _deep_merge(base, over, (), replaced)
    return merged, {**_without_below(base_origins, replaced), **over_origins}


def _deep_merge(base: Any, over: Any, path: KeyPath, replaced: set[KeyPath]) -> Any:
    """``over`` merged onto ``base``; collects the paths where ``over`` replaced a whole value."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = (_deep_merge(base[key], value, path + (str(key),), replaced)
                           if key in base else value)
        return merged
    replaced.add(path)
    return over


def _without_below(origins: Origins, replaced: set[KeyPath]) -> Origins:
    """Drop the origins of keys that lie strictly inside a replaced value."""
    return {path: origin for path, origin in origins.items()
            if not any(path[:depth] in replaced for depth in range(len(path)))}


# --- posterior draws --------------------------------------------------------------------------

def _read_posterior(raw: dict, origins: Origins, path: Path) -> None:
    """Fill a file's ``posterior: {file: draws.csv}`` with the parameters and draws of the CSV
    (relative to the file that names it)."""
    posterior = raw.get("posterior")
    if not isinstance(posterior, dict) or not isinstance(posterior.get("file"), str):
        return
    here = origins.get(("posterior", "file"), origins[()])
    csv_path = path.parent / posterior["file"]
    text = read_text(csv_path)
    header, *rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if not header or header[0].strip() != "draw" or len(header) < 2:
        raise ScenarioError(f"{csv_path}: the first line must be 'draw,<parameter>,...'",
                            here.file, here.line, "posterior.file")
    try:
        draws = [[float(value) for value in row[1:]] for row in rows]
    except ValueError as error:
        raise ScenarioError(
            f"{csv_path}: {error}", here.file, here.line, "posterior.file"
        ) from None
    posterior["parameters"] = [name.strip() for name in header[1:]]
    posterior["draws"] = draws


def _unpin_posterior(raw: dict, origins: Origins) -> None:
    """Leave out of the draws every posterior parameter that a file or ``--set`` after the one
    holding the posterior sets: the user pinned it."""
    posterior = raw.get("posterior")
    if not isinstance(posterior, dict) or not isinstance(posterior.get("parameters"), list):
        return
    home = origins.get(("posterior",), origins[()]).file

    def set_by(name: str) -> str | None:
        """The file (or ``--set``) that last set the key or the mapping around it."""
        keys = tuple(str(name).split("."))
        return next((origins[keys[:depth]].file for depth in range(len(keys), 0, -1)
                     if keys[:depth] in origins), home)

    keep = [index for index, name in enumerate(posterior["parameters"]) if set_by(name) == home]
    if len(keep) < len(posterior["parameters"]):
        posterior["parameters"] = [posterior["parameters"][i] for i in keep]
        posterior["draws"] = [[row[i] for i in keep] for row in posterior.get("draws", [])]


def _check_posterior(scenario: Scenario, origins: Origins) -> None:
    """Every posterior parameter must be a numeric key of the scenario."""
    from sim.core.posterior import value_at

    if scenario.posterior is None:
        return
    for name in scenario.posterior.parameters:
        try:
            value_at(scenario, name)
        except (AttributeError, KeyError, TypeError, ValueError):
            here = origins.get(("posterior",), origins[()])
            raise ScenarioError(
                f"posterior parameter '{name}' is not a numeric key of the scenario",
                here.file,
                here.line,
                "posterior.parameters",
            ) from None


# --- overrides --------------------------------------------------------------------------------

def _apply_override(raw: dict, origins: Origins, text: str) -> Origins:
    """Apply one ``a.b.c=value`` override to ``raw`` in place, creating mapping keys as needed;
    return the updated origins."""
    origin = Origin(f"--set {text}")
    dotted, sep, value_text = text.partition("=")
    keys = tuple(key.strip() for key in dotted.split("."))
    if not sep or not all(keys):
        raise ScenarioError("malformed override; write --set key.path=value", origin.file)
    try:
        value, _ = parse_yaml(value_text, origin.file)
    except ScenarioError as error:
        raise ScenarioError(
            f"cannot parse the value: {error.message.removeprefix('invalid YAML: ')}",
            origin.file,
            key_path=dotted,
        ) from None
    container: Any = raw
    for depth in range(1, len(keys)):
        slot = _slot(container, keys[:depth], origin)
        if isinstance(container, dict) and slot not in container:
            container[slot] = {}
            origins[keys[:depth]] = origin
        container[slot] = copy.copy(container[slot])  # YAML aliases must not change together
        container = container[slot]
    container[_slot(container, keys, origin)] = value
    return {**_without_below(origins, {keys}), keys: origin}


def _slot(container: Any, keys: KeyPath, origin: Origin) -> str | int:
    """The dict key or list index under which ``keys[-1]`` addresses ``container``."""
    key = keys[-1]
    if isinstance(container, dict):
        return key
    if isinstance(container, list) and key.isdigit() and int(key) < len(container):
        return int(key)
    parent = ".".join(keys[:-1])
    what = (f"a list of length {len(container)}" if isinstance(container, list)
            else value_kind(container))
    raise ScenarioError(f"cannot set '{key}' inside '{parent}', which is {what}", origin.file,
                        key_path=".".join(keys))
