"""Loading scenarios: YAML files with ``extends:``, ``--set`` overrides and readable errors.

A scenario source is a YAML file, an already-parsed dict or a :class:`~sim.core.schema.Scenario`.
Files may start from another file (``extends: base.yaml``, relative to the extending file); the
extending file's keys are deep-merged over the base (mappings merge key by key, lists and
scalars replace). ``--set a.b.c=value`` overrides are applied after that, with the value parsed
as YAML. The merged dict is then validated by :mod:`sim.core.schema`.

Every problem is raised as a :class:`ScenarioError` that names the file and line (or the
``--set`` override) that last set the offending key, and the dotted key path.

What a file may cost is capped before and while it is parsed, and the message names the cap
that was hit: its size (``MAX_FILE_BYTES``), its nesting (``MAX_YAML_DEPTH``), the values it
expands to through YAML aliases and merges (``MAX_YAML_NODES``), and the ``extends`` chain
(``MAX_EXTENDS_DEPTH`` files deep, ``MAX_EXTENDS_FILES`` files in all). A key given twice in
one mapping is an error, not a silent replacement.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import stat
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.core.schema import Scenario

MAX_LISTED_ERRORS = 10
MAX_FILE_BYTES = 1 << 20      # 1 MiB: a scenario, sweep or targets file is a few KiB
MAX_YAML_NODES = 100_000      # values a file may expand to through aliases; a scenario has ~1,000
MAX_YAML_DEPTH = 64           # nesting of mappings and lists (and of merges, <<)
MAX_EXTENDS_DEPTH = 32        # files in one extends chain
MAX_EXTENDS_FILES = 64        # files read for one scenario, all extends lists included
MERGE_TAG = "tag:yaml.org,2002:merge"

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
        raw, origins = _resolve_extends(copy.deepcopy(source), {(): _Origin(None)}, None, (), [])
    else:
        raw, origins = _load_file(Path(source), (), [])
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
    raw, origins = read_yaml(path)
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

def read_text(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a user's file, checked before anything parses it: a regular file (not a
    folder, device or pipe) of at most ``limit`` bytes, not empty, UTF-8 text rather than binary.
    Anything else raises a :class:`ScenarioError` naming the file; nothing of its content is
    echoed."""
    file = str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError("is a folder, not a file", file=file)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError("is not a regular file (a device, pipe or socket?)", file=file)
        if info.st_size > limit:
            raise _too_large(file, info.st_size, limit)
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise ScenarioError("file not found", file=file) from None
    except OSError as error:
        raise ScenarioError(f"cannot read file: {error.strerror}", file=file) from None
    if len(data) > limit:
        raise _too_large(file, len(data), limit)
    if not data.strip():
        raise ScenarioError("the file is empty", file=file)
    if b"\0" in data:
        raise ScenarioError("a binary file, not text (it holds NUL bytes; UTF-16 text does too: "
                            "save it as UTF-8)", file=file)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8",
            file=file,
            line=data.count(b"\n", 0, error.start) + 1,
        ) from None


def _too_large(file: str, size: int, limit: int) -> ScenarioError:
    return ScenarioError(f"the file is {size:,} bytes, over the cap of {limit:,} bytes on files "
                         "read as settings", file=file)


def load_yaml(path: str | Path) -> Any:
    """The value a YAML file holds, read like every settings file (:func:`read_text`, then the
    capped parser), whatever its top level; problems raise :class:`ScenarioError`."""
    return _parse_yaml(read_text(path), str(path))[0]


def read_yaml(path: str | Path) -> tuple[dict, Origins]:
    """A YAML settings file (:func:`read_text`, then the capped parser) as a mapping, and the
    file and line that set each key path. Anything else raises a :class:`ScenarioError`."""
    raw, origins = _parse_yaml(read_text(path), str(path))
    if raw is None:
        raise ScenarioError("the top level must be a mapping of keys; the file holds nothing but "
                            "comments", file=str(path))
    if not isinstance(raw, dict):
        raise ScenarioError(f"the top level must be a mapping of keys, not {_kind(raw)}",
                            file=str(path))
    return raw, origins


def _load_file(path: Path, chain: tuple[Path, ...], reads: list[Path]) -> tuple[dict, Origins]:
    """Parse one file and, recursively, the files it extends. ``chain`` is the files that extend
    it, ``reads`` every file read so far for this scenario."""
    reads.append(path)
    raw, origins = read_yaml(path)
    _read_posterior(raw, origins, path)
    return _resolve_extends(raw, origins, path, chain + (path,), reads)


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


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with caps (see the module docstring) and duplicate keys refused.

    Composed nodes and the entries merges (``<<``) copy count towards ``MAX_YAML_NODES``, so
    neither a huge file nor a merge that doubles at every level can exhaust memory."""

    def __init__(self, text: str, file: str):
        super().__init__(text)
        self.file = file
        self.built = 0
        self.depth = 0

    def _deeper(self, node_or_event) -> None:
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise _too_deep(self.file, node_or_event)

    def _count(self, values: int, node_or_event) -> None:
        self.built += values
        if self.built > MAX_YAML_NODES:
            raise _too_many(self.file, node_or_event.start_mark.line + 1)

    def compose_node(self, parent, index):
        event = self.peek_event()
        self._count(1, event)
        self._deeper(event)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        first: dict[tuple[str, str], yaml.Node] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != MERGE_TAG:
                earlier = first.setdefault((key.tag, key.value), key)
                if earlier is not key:
                    raise ScenarioError(f"duplicate key '{_clip(key.value)}': it is already set on "
                                        f"line {earlier.start_mark.line + 1} of this mapping",
                                        self.file, key.start_mark.line + 1)
        return node

    def flatten_mapping(self, node):
        sources = [source for key, value in node.value if key.tag == MERGE_TAG
                   for source in (value.value if isinstance(value, yaml.SequenceNode) else [value])
                   if isinstance(source, yaml.MappingNode)]
        self._deeper(node)
        try:
            for source in sources:
                self.flatten_mapping(source)
        finally:
            self.depth -= 1
        self._count(sum(len(source.value) for source in sources), node)
        super().flatten_mapping(node)


def _too_deep(file: str, node_or_event) -> ScenarioError:
    return ScenarioError(f"the YAML nests deeper than {MAX_YAML_DEPTH} levels (or an alias is used "
                         "inside its own anchor), the cap on nesting", file,
                         node_or_event.start_mark.line + 1)


def _too_many(file: str, line: int | None = None) -> ScenarioError:
    return ScenarioError(f"the YAML holds more than {MAX_YAML_NODES:,} values (counting what "
                         "aliases, *name, and merges, <<, expand to), the cap on values per file",
                         file, line)


def _parse_yaml(text: str, file: str) -> tuple[Any, Origins]:
    """Safe-load ``text`` within the caps and record the line of every key and list item."""
    try:
        loader = _Loader(text, file)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {(): _Origin(file)}
            return loader.construct_document(node), _record_lines(loader, node, file)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        raise _from_yaml_error(error, file) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ScenarioError(f"invalid YAML: character #x{error.character:04x} is not allowed in "
                            "YAML text", file, line) from None
    except (ValueError, OverflowError) as error:  # a date like 2024-02-30, an integer too long
        raise ScenarioError(f"invalid YAML value: {_clip(str(error), 120)}", file) from None


def _record_lines(loader: _Loader, root: yaml.Node, file: str) -> Origins:
    """The line of every key and list item, keyed by path, aliases expanded as validation will
    see them; more than ``MAX_YAML_NODES`` values (an alias bomb) or paths deeper than
    ``MAX_YAML_DEPTH`` (an alias inside its own anchor) is an error."""
    origins: Origins = {(): _Origin(file)}
    pending: list[tuple[KeyPath, yaml.Node]] = [((), root)]
    visited = 0
    while pending:
        path, node = pending.pop()
        visited += 1
        if visited > MAX_YAML_NODES:
            raise _too_many(file)
        if len(path) > MAX_YAML_DEPTH:
            raise _too_deep(file, node)
        if isinstance(node, yaml.MappingNode):
            children = [
                (str(loader.construct_object(key)), key, value) for key, value in node.value
            ]
        elif isinstance(node, yaml.SequenceNode):
            children = [(str(index), item, item) for index, item in enumerate(node.value)]
        else:
            continue
        for name, mark_node, _ in children:
            origins[path + (name,)] = _Origin(file, mark_node.start_mark.line + 1)
        pending.extend((path + (name,), value) for name, _, value in reversed(children))
    return origins


def _from_yaml_error(error: yaml.MarkedYAMLError, file: str) -> ScenarioError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context = f" ({error.context})" if error.context else ""
    return ScenarioError(f"invalid YAML: {problem}{context}", file=file,
                         line=mark.line + 1 if mark else None)


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
                    here: _Origin) -> Path:
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
        value, _ = _parse_yaml(value_text, origin.file)
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
    """The error of one validation problem, located at its key (a check of a whole scenario
    names the key it found at fault in its context, ``key``)."""
    named = detail.get("ctx", {}).get("key")
    loc = tuple(named.split(".")) if named else tuple(
        str(part) for part in detail["loc"] if part != "[key]")
    origin = next(origins[loc[:depth]] for depth in range(len(loc), -1, -1)
                  if loc[:depth] in origins)
    return ScenarioError(
        _describe(detail, loc, root), origin.file, origin.line, ".".join(loc) or None
    )


def _describe(detail: dict, loc: KeyPath, root: type[BaseModel]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_key(loc, root)
    if kind == "missing":
        return "missing required key"
    if kind == "value_error":
        return detail["msg"].removeprefix("Value error, ")
    if kind == "signal_range":
        return detail["msg"]
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
    """What sort of value this is, in words; never its content (which may come from any file)."""
    return {
        type(None): "nothing",
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
    }.get(type(value), f"a {type(value).__name__}")


def _short(value: Any, limit: int = 40) -> str:
    return _clip(repr(value), limit)


def _clip(text: str, limit: int = 40) -> str:
    """``text`` cut to at most ``limit`` characters."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
