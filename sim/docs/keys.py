"""Every key a scenario file may hold, read from the scenario schema (:mod:`sim.core.schema`).

:func:`scenario_keys` walks :class:`~sim.core.schema.Scenario` field by field and gives one
:class:`Key` per key path, written as a reader would type it: mappings keyed by a name the
schema restricts show a placeholder (``population.sectors.<sector>.share``), a list of blocks
``[]`` (``scheduled_events[].quarter``), and the signal paths of ``signals`` are described once
under ``signals.<signal>`` (every signal takes the same form). Type, allowed values, default,
unit and description all come from the schema's fields, so a key added there appears in the
reference without anyone writing it down.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.core import schema
from sim.core.signal_table import SIGNALS

#: The names a mapping's keys may take, by the placeholder that stands for them in a key path.
PLACEHOLDERS = {
    "population.sectors": ("sector", schema.SECTOR_NAMES),
    "population.regions": ("region", schema.REGIONS),
    "population.sizes": ("size", schema.SIZES),
    "population.workload_classes": ("class", schema.WORKLOAD_CLASSES),
    "vendors": ("vendor", ()),
    "axes": ("axis", ()),
}
#: Where the form every signal path takes is described.
SIGNAL = "signals.<signal>"
_QUARTER = r"^\d{4}Q[1-4]$"   # the pattern of schema.QuarterText


@dataclass(frozen=True)
class Key:
    """One documented key path."""

    path: str
    kind: str          # what a value is: number, whole number, quarter, block, mapping...
    allowed: str       # the range or the choices ("" when anything of the kind goes)
    default: str       # "required", or the value used when the key is left out
    unit: str          # from the field's Unit, "" when it has none
    description: str

    def matches(self, path: str) -> bool:
        """Whether a concrete key path (``population.sizes.small.share``) is this one."""
        pattern = re.sub(r"<\w+>", "[^.]+", re.escape(self.path))
        return re.fullmatch(pattern, path) is not None

    @property
    def block(self) -> str:
        """The top-level key the path belongs to."""
        return self.path.split(".")[0].split("[")[0]


def unit_of(field: FieldInfo) -> str:
    """The :class:`~sim.core.schema.Unit` a field declares (on an optional value too), or ""."""
    return next((item.text for item in (*field.metadata, *_metadata(field.annotation))
                 if isinstance(item, schema.Unit)), "")


def scenario_keys() -> list[Key]:
    """Every key of a scenario, in the schema's order."""
    return list(_model_keys(schema.Scenario, "", (schema.Scenario,)))


def _model_keys(model: type[BaseModel], prefix: str, seen: tuple) -> Iterator[Key]:
    for name, field in model.model_fields.items():
        yield from _field_keys(f"{prefix}{name}", field, seen)


def _field_keys(path: str, field: FieldInfo, seen: tuple) -> Iterator[Key]:
    annotation = _unwrap(field.annotation)
    description = field.description or ""
    if path == "signals":
        yield from _signal_keys(field)
        return
    model = _model(annotation)
    if model is not None:
        yield Key(path, "block", "", _default(field), "", description or _summary(model))
        if model in seen:
            return
        yield from _model_keys(model, f"{path}.", (*seen, model))
        return
    origin = typing.get_origin(annotation)
    if origin is dict:
        yield from _mapping_keys(path, field, annotation, seen)
        return
    if origin is list and _model(typing.get_args(annotation)[0]) is not None:
        item = _model(typing.get_args(annotation)[0])
        yield Key(path, "list of blocks", "", _default(field), "", description or _summary(item))
        yield Key(f"{path}[]", "block", "", "", "", _summary(item))
        yield from _model_keys(item, f"{path}[].", (*seen, item))
        return
    kind, allowed = _kind(annotation, (*field.metadata, *_metadata(field.annotation)))
    yield Key(path, kind, allowed, _default(field), unit_of(field), description)


def _mapping_keys(path: str, field: FieldInfo, annotation, seen: tuple) -> Iterator[Key]:
    key_type, value_type = typing.get_args(annotation)
    placeholder, names = (("quarter", ()) if _is_quarter(key_type)
                          else PLACEHOLDERS.get(path, ("name", ())))
    allowed = ", ".join(f"`{name}`" for name in names) if names else (
        "quarters, YYYYQn" if placeholder == "quarter" else "any name")
    description = field.description or ""
    value_model = _model(value_type)
    yield Key(path, f"mapping of {placeholder} to "
              + ("block" if value_model else _kind(_unwrap(value_type), ())[0]),
              allowed, _default(field), "" if value_model else unit_of(field),
              description or (_summary(value_model) if value_model else ""))
    entry = f"{path}.<{placeholder}>"
    if value_model is not None:
        yield Key(entry, "block", allowed, "", "", f"one entry of {path}")
        yield from _model_keys(value_model, f"{entry}.", (*seen, value_model))
    else:
        kind, bounds = _kind(_unwrap(value_type), _metadata(value_type))
        yield Key(entry, kind, bounds, "", unit_of(field), f"one entry of {path}")


def _signal_keys(field: FieldInfo) -> Iterator[Key]:
    """``signals``: one key per signal of the signal table, then the form every path takes."""
    yield Key("signals", "block", "", _default(field), "", _summary(_unwrap(field.annotation)))
    signals_model = _unwrap(field.annotation)
    for spec in SIGNALS:
        signal_field = signals_model.model_fields[spec.name]
        kind = (f"mapping of region to signal path ({', '.join(schema.REGIONS)})"
                if spec.regional else "signal path")
        yield Key(f"signals.{spec.name}", kind, spec.range_text, _default(signal_field),
                  spec.unit, signal_field.description or spec.description)
        if spec.regional:
            yield Key(f"signals.{spec.name}.<region>", "signal path",
                      ", ".join(f"`{region}`" for region in schema.REGIONS), "required",
                      spec.unit, f"the region's path, with the keys of `{SIGNAL}`")
    yield Key(SIGNAL, "signal path", "", "", "the signal's unit", _summary(schema.Signal))
    yield from _model_keys(schema.Signal, f"{SIGNAL}.", (schema.Signal,))


def _summary(model: type) -> str:
    """The first paragraph of a block's docstring, on one line."""
    text = (model.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(text.split())


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return _show(field.default_factory())
    if field.default is PydanticUndefined:
        return "required"
    return _show(field.default)


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if value in ({}, []):
        return "empty"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _unwrap(annotation):
    """The type inside ``X | None`` and ``Annotated[X, ...]``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _metadata(annotation) -> tuple:
    """The constraints of an ``Annotated`` type (nested ones flattened, and those of the type
    in ``X | None``)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(item for arg in typing.get_args(annotation) for item in _metadata(arg))
    found = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            found += list(getattr(item, "metadata", ())) if isinstance(item, FieldInfo) else [item]
    return tuple(found)


def _model(annotation) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None


def _is_quarter(annotation) -> bool:
    return any(getattr(item, "pattern", None) == _QUARTER for item in _metadata(annotation))


def _kind(annotation, metadata) -> tuple[str, str]:
    """(kind, allowed values) of a scalar type and its constraints."""
    if typing.get_origin(annotation) is Literal:
        return "one of", ", ".join(f"`{choice}`" for choice in typing.get_args(annotation))
    if annotation is bool:
        return "true or false", ""
    if annotation is str:
        pattern = next((item.pattern for item in metadata if getattr(item, "pattern", None)), "")
        if pattern == _QUARTER:
            return "quarter", "YYYYQn"
        return "text", ""
    if typing.get_origin(annotation) is list:
        return f"list of {_kind(_unwrap(typing.get_args(annotation)[0]), ())[0]}", ""
    kind = "whole number" if annotation is int else "number"
    return kind, _bounds(metadata)


def _bounds(metadata) -> str:
    low = high = None
    low_open = high_open = False
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Gt):
            low, low_open = item.gt, True
        elif isinstance(item, annotated_types.Le):
            high = item.le
        elif isinstance(item, annotated_types.Lt):
            high, high_open = item.lt, True
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if low_open else '≥'} {low:g}"
    if low is None:
        return f"{'<' if high_open else '≤'} {high:g}"
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
