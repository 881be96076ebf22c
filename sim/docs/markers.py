"""Markers in the documentation's Markdown that the build replaces with generated text.

A page holds ``<!-- generated: NAME ARGUMENT -->`` on a line of its own where a table read from
the code belongs (an HTML comment, so the page still reads well where it is shown unbuilt, as on
a code host). :func:`expand` replaces each marker with what the generator of that name returns;
an unknown name, or a generator that fails, stops the build with the page and marker named, so a
page can never show a stale or missing table.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from sim.docs import odd, tables

MARKER = re.compile(r"^<!-- generated: (?P<name>[\w-]+)(?: (?P<argument>\S+))? -->$",
                    re.MULTILINE)

#: The modules whose docstrings the Python API page shows, after the public functions: the
#: core's, then one enterprise's advice (``adoptsim advise``) and a comparison's signposts.
API_MODULES = ("sim.core.schema", "sim.core.scenario", "sim.core.signal_table",
               "sim.core.metric_table", "sim.core.signals", "sim.core.population",
               "sim.core.vendors", "sim.core.economics", "sim.core.market", "sim.core.kernel",
               "sim.core.agents", "sim.core.model", "sim.core.metrics", "sim.core.peers",
               "sim.core.quarters",
               "sim.advise.profile", "sim.advise.enterprise", "sim.advise.draws",
               "sim.advise.evaluate", "sim.advise.peers", "sim.advise.flips", "sim.advise.advice",
               "sim.analysis.signposts")


class MarkerError(ValueError):
    """A marker the build cannot expand (an unknown generator, or one that failed)."""


def public_api() -> str:
    """mkdocstrings directives for every name ``import sim`` exports, then the core modules."""
    import sim

    names = [f"::: {getattr(sim, name).__module__}.{name}" for name in sim.__all__]
    modules = [f"## `{module}`\n\n::: {module}\n    options:\n      show_root_heading: false"
               for module in API_MODULES]
    return "## `import sim`\n\n" + "\n\n".join(names) + "\n\n" + "\n\n".join(modules)


def generators(root: Path, parser: argparse.ArgumentParser) -> dict[str, Callable[..., str]]:
    """Each generator a marker may name, for the project at ``root`` and the command line's
    ``parser``."""
    baseline = cache(lambda: odd.load_baseline(root))
    return {
        "scenario-keys": tables.scenario_key_reference,
        "signals": tables.signal_reference,
        "metrics": tables.metric_reference,
        "segments": tables.segment_reference,
        "cli": lambda: tables.cli_reference(parser),
        "api": public_api,
        "schedule": odd.schedule,
        "parameters": lambda block: odd.block_table(baseline(), block),
        "entries": lambda path: odd.entries_table(baseline(), path),
        "inputs": lambda: odd.input_data(baseline()),
        "panel": lambda: odd.panel(root),
        "priors": lambda: odd.priors(root),
        "sweeps": lambda: tables.sweep_examples(root),
    }


def expand(markdown: str, known: dict[str, Callable[..., str]], page: str = "") -> str:
    """``markdown`` with every marker replaced by its generator's text."""

    def replace(match: re.Match) -> str:
        name, argument = match["name"], match["argument"]
        if name not in known:
            raise MarkerError(f"{page}: unknown generated block '{name}'; known: "
                              f"{', '.join(sorted(known))}")
        try:
            return known[name](*([argument] if argument else []))
        except Exception as error:
            raise MarkerError(f"{page}: {match[0]} failed: {error}") from error

    return MARKER.sub(replace, markdown)
