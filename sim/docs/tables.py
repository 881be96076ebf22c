"""Reference tables in Markdown, each read from the table the code itself runs on: the scenario
keys (:mod:`sim.docs.keys`), the signal table, the metric table and its segments, and the
command line's argument parser.

The argument parser is passed in (:func:`cli_reference` takes any ``argparse`` parser), so this
module does not import the command line that calls it.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable, Sequence

from sim.core.metric_table import METRICS
from sim.core.metrics import ENTERPRISE_DIMENSIONS, SEGMENTS, WORKLOAD_DIMENSIONS
from sim.core.schema import EVENT_TYPES, REGIONS
from sim.core.signal_table import SIGNAL_PANELS, SIGNALS
from sim.docs.keys import Key, scenario_keys


def cell(value: object) -> str:
    """Text fit for a Markdown table cell: one line, pipes escaped, and outside code spans the
    asterisks too (a help text's ``tooling-*-gap-*.yaml`` is a glob, not emphasis)."""
    parts = " ".join(str(value).split()).replace("|", "\\|").split("`")
    return "`".join(part if inside else part.replace("*", "\\*")
                    for inside, part in zip(itertools.cycle((False, True)), parts))


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def code(text: str) -> str:
    return f"`{text}`" if text else ""


# --- scenario keys ----------------------------------------------------------------------------

def scenario_key_reference(keys: list[Key] | None = None) -> str:
    """Every scenario key, one table per top-level block."""
    keys = scenario_keys() if keys is None else keys
    sizes = {key.block: sum(other.block == key.block for other in keys) for key in keys}
    blocks: dict[str, list[Key]] = {}
    for key in keys:   # keys without a block of their own go together, first
        blocks.setdefault(key.block if sizes[key.block] > 1 else "", []).append(key)
    sections = []
    for block, rows in blocks.items():
        title = f"`{block}`" if block else "The scenario itself"
        sections.append(f"### {title}\n\n" + table(
            ["key", "type", "allowed", "default", "unit", "description"],
            [(code(key.path), key.kind, key.allowed, key.default, key.unit, key.description)
             for key in rows]))
    return "\n\n".join(sections)


# --- signals and metrics ----------------------------------------------------------------------

def signal_reference() -> str:
    """The signal table: name, label, unit, allowed range, figure panel, metric, meaning."""
    return table(
        ["signal", "label", "unit", "allowed", "figure panel", "metric", "meaning"],
        [(code(spec.name), spec.label, spec.unit, spec.range_text
          + (" (one path per region)" if spec.regional else ""),
          SIGNAL_PANELS[spec.panel][0], code(spec.metric), spec.description)
         for spec in SIGNALS])


def segment_names(kind: str) -> list[str]:
    """The segments a metric of ``kind`` (a :class:`~sim.core.metric_table.MetricSpec`'s
    ``segments``) is recorded for."""
    if kind == "workload":
        dimensions = WORKLOAD_DIMENSIONS
    elif kind == "enterprise":
        dimensions = ENTERPRISE_DIMENSIONS
    elif kind == "event":
        return [f"event={event}" for event in EVENT_TYPES]
    elif kind == "region":
        return [f"region={region}" for region in REGIONS]
    else:
        return ["all"]
    names = ["all"] + [f"{dimension}={value}" for dimension, values in dimensions
                       for value in values]
    return [name for name in names if name in SEGMENTS]


def segment_reference() -> str:
    """Which segments each kind of metric has."""
    kinds = dict.fromkeys(spec.segments for spec in METRICS)
    return table(["segments of a … metric", "segment names"],
                 [(kind, ", ".join(code(name) for name in segment_names(kind)))
                  for kind in kinds])


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def metric_reference() -> str:
    """The metric table: name, label, unit, segments, whether a survey could measure it
    (``observable``), whether it may have no value (``may_be_missing``), meaning."""
    return table(["metric", "label", "unit", "segments", "observable", "may be missing",
                  "meaning"],
                 [(code(spec.name), spec.label, spec.unit, spec.segments,
                   yes_no(spec.observable), yes_no(spec.may_be_missing), spec.description)
                  for spec in METRICS])


# --- the command line -------------------------------------------------------------------------

def commands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """Each command of ``parser``: name -> (help, its parser)."""
    sub = next(action for action in parser._actions
               if isinstance(action, argparse._SubParsersAction))
    helps = {choice.dest: choice.help or "" for choice in sub._choices_actions}
    return {name: (helps.get(name, ""), command) for name, command in sub.choices.items()}


def _argument_row(action: argparse.Action) -> tuple[str, str, str]:
    if action.option_strings:
        takes = action.nargs != 0
        name = ", ".join(action.option_strings) + (
            f" {action.metavar or action.dest.upper()}" if takes else "")
    else:
        name = action.metavar or action.dest
    unset = action.default is None or action.default is False or action.default == [] \
        or action.default == argparse.SUPPRESS
    default = "" if unset or action.required else str(action.default)
    choices = f" (one of: {', '.join(map(str, action.choices))})" if action.choices else ""
    return code(name), (action.help or "").replace("%(default)s", default) + choices, default


def cli_reference(parser: argparse.ArgumentParser) -> str:
    """Every command of ``parser`` with its usage and every argument with its help."""
    sections = []
    for name, (summary, command) in commands(parser).items():
        arguments = [action for action in command._actions
                     if not isinstance(action, argparse._HelpAction)]
        usage = " ".join(command.format_usage().split())
        usage = usage.removeprefix("usage: ")
        body = [f"## `{parser.prog} {name}`", "", summary[:1].upper() + summary[1:] + ".", "",
                f"```\n{usage}\n```", ""]
        if arguments:
            body.append(table(["argument", "what it does", "default"],
                              [_argument_row(action) for action in arguments]))
        else:
            body.append(f"Its options are its own: `{parser.prog} {name} --help` lists them.")
        sections.append("\n".join(body))
    return "\n\n".join(sections)


# --- the shipped sweeps -----------------------------------------------------------------------

def sweep_examples(root) -> str:
    """Each sweep file under ``scenarios/sweeps/``: what it varies, its design and size, its
    outcomes and the PRIM questions it asks, read from the file."""
    from sim.sweep import load_sweep

    rows = []
    for path in sorted((root / "scenarios" / "sweeps").glob("*.yaml")):
        sweep = load_sweep(path)
        spec = sweep.spec
        varied = "; ".join(parameter.label or name for name, parameter in spec.parameters.items())
        prim = "; ".join(code(entry.condition) for entry in spec.analysis.prim)
        rows.append((code(f"scenarios/sweeps/{path.name}"), spec.description, varied,
                     f"{spec.design.method}, {len(sweep.design) * spec.replications} runs "
                     f"({len(sweep.design)} points x {spec.replications} replications)",
                     ", ".join(code(outcome) for outcome in spec.outcomes), prim))
    return table(["file", "question", "varies", "design", "outcomes", "PRIM conditions"], rows)
