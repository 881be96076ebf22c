"""Reading a user's settings file (a scenario, targets or sweep file): capped, and with errors
that say where.

The text is checked before anything parses it (:func:`read_text`: a regular UTF-8 text file of
at most ``MAX_FILE_BYTES``); the YAML is parsed by PyYAML's safe loader within caps on its
nesting (``MAX_YAML_DEPTH``) and on the values it expands to through aliases and merges
(``MAX_YAML_NODES``), with a key given twice in one mapping an error rather than a silent
replacement; the file and line of every key is recorded (:class:`Origin`), so that a pydantic
validation error becomes a :class:`ScenarioError` naming the file, line and dotted key path,
with "did you mean" for an unknown key (:func:`from_validation_error`). Every message names the
cap that was hit and never echoes the file's content.

:func:`load_model_file` does all of it for a settings file validated by a pydantic model
(targets, sweeps); :mod:`sim.core.scenario` adds what only scenarios have (``extends``, ``--set``
overrides, posterior draws).
"""

from __future__ import annotations

import difflib
import os
import stat
import types
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import UserError

MAX_FILE_BYTES = 1 << 20      # 1 MiB: a scenario, sweep or targets file is a few KiB
MAX_YAML_NODES = 100_000      # values a file may expand to through aliases; a scenario has ~1,000
MAX_YAML_DEPTH = 64           # nesting of mappings and lists (and of merges, <<)
MERGE_TAG = "tag:yaml.org,2002:merge"

KeyPath = tuple[str, ...]
Model = TypeVar("Model", bound=BaseModel)


class ScenarioError(UserError):
    """A scenario or other settings file (targets, sweep) that cannot be loaded. ``file`` is the
    file's path, or ``--set a.b=value`` when an override caused the problem; ``others`` holds
    further problems found in the same validation."""


class Origin(NamedTuple):
    """Where a key was last set: a file and line, or a ``--set`` override (``file``, no line)."""

    file: str | None
    line: int | None = None


Origins = dict[KeyPath, Origin]


def load_model_file(path: str | Path, model: type[Model]) -> Model:
    """Load any YAML settings file (targets, sweeps) into a pydantic ``model``, with the same
    readable errors as scenarios (file, line, key path, did-you-mean). No ``extends`` here."""
    raw, origins = read_yaml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise from_validation_error(error, origins, model) from None


# --- reading the text -------------------------------------------------------------------------

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
    return parse_yaml(read_text(path), str(path))[0]


def read_yaml(path: str | Path) -> tuple[dict, Origins]:
    """A YAML settings file (:func:`read_text`, then the capped parser) as a mapping, and the
    file and line that set each key path. Anything else raises a :class:`ScenarioError`."""
    raw, origins = parse_yaml(read_text(path), str(path))
    if raw is None:
        raise ScenarioError("the top level must be a mapping of keys; the file holds nothing but "
                            "comments", file=str(path))
    if not isinstance(raw, dict):
        raise ScenarioError(f"the top level must be a mapping of keys, not {value_kind(raw)}",
                            file=str(path))
    return raw, origins



# --- parsing within the caps ------------------------------------------------------------------

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


def parse_yaml(text: str, file: str) -> tuple[Any, Origins]:
    """Safe-load ``text`` within the caps and record the line of every key and list item."""
    try:
        loader = _Loader(text, file)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {(): Origin(file)}
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
    origins: Origins = {(): Origin(file)}
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
            origins[path + (name,)] = Origin(file, mark_node.start_mark.line + 1)
        pending.extend((path + (name,), value) for name, _, value in reversed(children))
    return origins


def _from_yaml_error(error: yaml.MarkedYAMLError, file: str) -> ScenarioError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context = f" ({error.context})" if error.context else ""
    return ScenarioError(f"invalid YAML: {problem}{context}", file=file,
                         line=mark.line + 1 if mark else None)



# --- validation errors ------------------------------------------------------------------------

def from_validation_error(error: ValidationError, origins: Origins,
                          root: type[BaseModel]) -> ScenarioError:
    """The problems of a pydantic validation of ``root`` as one :class:`ScenarioError` (the
    rest in its ``others``), each naming the file and line that set the key (``origins``)."""
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


def value_kind(value: Any) -> str:
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
