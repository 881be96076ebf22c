"""Loading scenarios: YAML files with ``extends:``, ``--set`` overrides and readable errors.

A scenario source is a YAML file, an already-parsed dict or a :class:`~sim.schema.Scenario`.
Files may start from another file (``extends: base.yaml``, relative to the extending file); the
extending file's keys are deep-merged over the base (mappings merge key by key, lists and
scalars replace). ``--set a.b.c=value`` overrides are applied after that, with the value parsed
as YAML. The merged dict is then validated by :mod:`sim.schema`.

Every problem is raised as a :class:`ScenarioError` that names the file and line (or the
``--set`` override) that last set the offending key, and the dotted key path.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.schema import Scenario

MAX_LISTED_ERRORS = 10

KeyPath = tuple[str, ...]
Model = TypeVar("Model", bound=BaseModel)


class ScenarioError(Exception):
    """A scenario that cannot be loaded. ``file`` is the file's path, or ``--set a.b=value`` when an
    override caused the problem; ``others`` holds further problems found in the same validation."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 key_path: str | None = None, others: tuple[ScenarioError, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.key_path = key_path
        self.others = others

    def headline(self) -> str:
        """This problem alone, as ``file:line: key.path: message``."""
        where = ":".join([self.file or "", str(self.line or "")]).strip(":")
        return ": ".join(part for part in (where, self.key_path, self.message) if part)

    def __str__(self) -> str:
        problems = (self, *self.others)
        lines = [problem.headline() for problem in problems[:MAX_LISTED_ERRORS]]
        if len(problems) > MAX_LISTED_ERRORS:
            lines.append(f"(and {len(problems) - MAX_LISTED_ERRORS} more)")
        return "\n".join(lines)


class _Origin(NamedTuple):
    """Where a key was last set: a file and line, or a ``--set`` override (``file``, no line)."""

    file: str | None
    line: int | None = None


Origins = dict[KeyPath, _Origin]


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
        raw, origins = source.model_dump(), {(): _Origin(None)}
    elif isinstance(source, dict):
        raw, origins = _resolve_extends(copy.deepcopy(source), {(): _Origin(None)}, None, ())
    else:
        raw, origins = _load_file(Path(source), ())
    for text in overrides:
        origins = _apply_override(raw, origins, text)
    _unpin_posterior(raw, origins)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise _from_validation_error(error, origins) from None
    _check_posterior(scenario, origins)
    return scenario


def load_model_file(path: str | Path, model: type[Model]) -> Model:
    """Load any YAML settings file (targets, sweeps) into a pydantic ``model``, with the same
    readable errors as scenarios (file, line, key path, did-you-mean). No ``extends`` here."""
    raw, origins = _parse_yaml(_read_text(Path(path)), str(path))
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise _from_validation_error(error, origins, model) from None


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

def _load_file(path: Path, chain: tuple[Path, ...]) -> tuple[dict, Origins]:
    """Parse one file and, recursively, the files it extends."""
    raw, origins = _parse_yaml(_read_text(path), str(path))
    _read_posterior(raw, origins, path)
    return _resolve_extends(raw, origins, path, chain + (path,))


# --- posterior draws --------------------------------------------------------------------------

def _read_posterior(raw: dict, origins: Origins, path: Path) -> None:
    """Fill a file's ``posterior: {file: draws.csv}`` with the parameters and draws of the CSV
    (relative to the file that names it)."""
    posterior = raw.get("posterior")
    if not isinstance(posterior, dict) or not isinstance(posterior.get("file"), str):
        return
    here = origins.get(("posterior", "file"), origins[()])
    csv_path = path.parent / posterior["file"]
    text = _read_text(csv_path)
    header, *rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if not header or header[0].strip() != "draw" or len(header) < 2:
        raise ScenarioError(f"{csv_path}: the first line must be 'draw,<parameter>,...'",
                            here.file, here.line, "posterior.file")
    try:
        draws = [[float(value) for value in row[1:]] for row in rows]
    except ValueError as error:
        raise ScenarioError(f"{csv_path}: {error}", here.file, here.line, "posterior.file") from None
    posterior["parameters"] = [name.strip() for name in header[1:]]
    posterior["draws"] = draws


def _unpin_posterior(raw: dict, origins: Origins) -> None:
    """Leave out of the draws every posterior parameter that a file or ``--set`` after the one
    holding the posterior sets: the user pinned it."""
    posterior = raw.get("posterior")
    if not isinstance(posterior, dict) or not isinstance(posterior.get("parameters"), list):
        return
    home = origins.get(("posterior",), origins[()]).file
    keep = [index for index, name in enumerate(posterior["parameters"])
            if origins.get(tuple(str(name).split(".")), _Origin(home)).file == home]
    if len(keep) < len(posterior["parameters"]):
        posterior["parameters"] = [posterior["parameters"][i] for i in keep]
        posterior["draws"] = [[row[i] for i in keep] for row in posterior.get("draws", [])]


def _check_posterior(scenario: Scenario, origins: Origins) -> None:
    """Every posterior parameter must be a numeric key of the scenario."""
    from sim.posterior import value_at

    if scenario.posterior is None:
        return
    for name in scenario.posterior.parameters:
        try:
            value_at(scenario, name)
        except (AttributeError, KeyError, TypeError, ValueError):
            here = origins.get(("posterior",), origins[()])
            raise ScenarioError(f"posterior parameter '{name}' is not a numeric key of the scenario",
                                here.file, here.line, "posterior.parameters") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("file not found", file=str(path)) from None
    except OSError as error:
        raise ScenarioError(f"cannot read file: {error.strerror}", file=str(path)) from None


def _parse_yaml(text: str, file: str) -> tuple[dict, Origins]:
    """Safe-load ``text`` and record the line of every key and list item."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        raw = loader.construct_document(node) if node is not None else None
        origins: Origins = {(): _Origin(file)}
        if isinstance(raw, dict):
            _record_lines(loader, node, (), file, origins)
    except yaml.MarkedYAMLError as error:
        raise _from_yaml_error(error, file) from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise ScenarioError(f"the top level must be a mapping of keys, not {_kind(raw)}", file=file)
    return raw, origins


def _record_lines(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, file: str,
                  origins: Origins) -> None:
    if isinstance(node, yaml.MappingNode):
        children = [(str(loader.construct_object(key)), key, value) for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [(str(index), item, item) for index, item in enumerate(node.value)]
    else:
        return
    for name, mark_node, value in children:
        origins[path + (name,)] = _Origin(file, mark_node.start_mark.line + 1)
        _record_lines(loader, value, path + (name,), file, origins)


def _from_yaml_error(error: yaml.MarkedYAMLError, file: str) -> ScenarioError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context = f" ({error.context})" if error.context else ""
    return ScenarioError(f"invalid YAML: {problem}{context}", file=file,
                         line=mark.line + 1 if mark else None)


def _resolve_extends(raw: dict, origins: Origins, path: Path | None, chain: tuple[Path, ...]
                     ) -> tuple[dict, Origins]:
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
        base, base_origins = _load_file(_extends_target(target, path, chain, here), chain)
        merged, merged_origins = _merge_with_origins(merged, merged_origins, base, base_origins)
    return _merge_with_origins(merged, merged_origins, raw, origins)


def _extends_target(target: str, path: Path | None, chain: tuple[Path, ...], here: _Origin) -> Path:
    base_path = (path.parent if path else Path.cwd()) / target
    if any(base_path.resolve() == seen.resolve() for seen in chain):
        names = " -> ".join(str(p) for p in (*chain, base_path))
        raise ScenarioError(f"extends cycle: {names}", here.file, here.line, "extends")
    if not base_path.is_file():
        raise ScenarioError(f"extends target not found: {base_path}", here.file, here.line, "extends")
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


# --- overrides --------------------------------------------------------------------------------

def _apply_override(raw: dict, origins: Origins, text: str) -> Origins:
    """Apply one ``a.b.c=value`` override to ``raw`` in place, creating mapping keys as needed;
    return the updated origins."""
    origin = _Origin(f"--set {text}")
    dotted, sep, value_text = text.partition("=")
    keys = tuple(key.strip() for key in dotted.split("."))
    if not sep or not all(keys):
        raise ScenarioError("malformed override; write --set key.path=value", origin.file)
    try:
        value = yaml.safe_load(value_text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"cannot parse the value: {getattr(error, 'problem', error)}",
                            origin.file, key_path=dotted) from None
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


def _slot(container: Any, keys: KeyPath, origin: _Origin) -> str | int:
    """The dict key or list index under which ``keys[-1]`` addresses ``container``."""
    key = keys[-1]
    if isinstance(container, dict):
        return key
    if isinstance(container, list) and key.isdigit() and int(key) < len(container):
        return int(key)
    parent = ".".join(keys[:-1])
    what = f"a list of length {len(container)}" if isinstance(container, list) else _kind(container)
    raise ScenarioError(f"cannot set '{key}' inside '{parent}', which is {what}", origin.file,
                        key_path=".".join(keys))


# --- validation errors ------------------------------------------------------------------------

def _from_validation_error(error: ValidationError, origins: Origins,
                           root: type[BaseModel] = Scenario) -> ScenarioError:
    first, *others = (_problem(detail, origins, root) for detail in error.errors())
    first.others = tuple(others)
    return first


def _problem(detail: dict, origins: Origins, root: type[BaseModel]) -> ScenarioError:
    loc = tuple(str(part) for part in detail["loc"] if part != "[key]")
    origin = next(origins[loc[:depth]] for depth in range(len(loc), -1, -1)
                  if loc[:depth] in origins)
    return ScenarioError(_describe(detail, loc, root), origin.file, origin.line, ".".join(loc) or None)


def _describe(detail: dict, loc: KeyPath, root: type[BaseModel]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_key(loc, root)
    if kind == "missing":
        return "missing required key"
    if kind == "value_error":
        return detail["msg"].removeprefix("Value error, ")
    return f"{detail['msg']} (got {_short(detail['input'])})"


def _unknown_key(loc: KeyPath, root: type[BaseModel]) -> str:
    model = _model_at(loc[:-1], root)
    if model is None:
        return "unknown key"
    allowed = list(model.model_fields)
    guess = difflib.get_close_matches(loc[-1], allowed, n=1)
    hint = f"; did you mean '{guess[0]}'?" if guess else ";"
    return f"unknown key{hint} allowed: {', '.join(allowed)}"


def _model_at(loc: KeyPath, root: type[BaseModel]) -> type[BaseModel] | None:
    """The schema model that validates the mapping at ``loc`` under ``root``, if there is one."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if _is_model(annotation):
            field = annotation.model_fields.get(part)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if _is_model(annotation) else None


def _unwrap(annotation: Any) -> Any:
    """Peel ``Annotated[...]`` and ``X | None`` down to the type inside."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            inner = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _kind(value: Any) -> str:
    return {type(None): "nothing", dict: "a mapping", list: "a list"}.get(
        type(value), f"a {type(value).__name__} ({_short(value)})")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
