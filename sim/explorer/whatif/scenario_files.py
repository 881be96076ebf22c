"""The scenario files of the What-if page: the scenarios it offers (:func:`scenario_choices`)
and the file that reproduces what it shows (:func:`saved_yaml`).

The saved file ``extends`` the chosen scenario and holds only the keys the changes set
(:func:`sim.explorer.whatif.changes.changed_document`), with the page's seed, replications and
population size, so ``adoptsim run`` on it gives the page's figures. Every path goes through
:func:`sim.explorer.files.safe_path`; :func:`sim.explorer.files.save_scenario` writes the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from sim.core.scenario import load_scenario
from sim.errors import UserError
from sim.explorer.files import SAVED_FOLDER, safe_path, saved_folder
from sim.explorer.whatif.changes import changed_document, effective_changes, merge_keys
from sim.workflows import resolve


def saved_yaml(source: str | Path, changes: dict[str, Any], root: str | Path, *,
               replications: int, enterprises: int, name: str | None = None) -> str:
    """A scenario file that reproduces the page: it ``extends`` ``source`` and holds only the
    changed keys, a name and description, and the page's seed, replications and population
    size, so ``adoptsim run`` on it gives the page's figures (same size, same seeds).

    It is meant for ``root/scenarios/explore/`` (:func:`sim.explorer.files.save_scenario`
    writes it there): ``extends`` is relative to that folder, as a scenario file's is to itself.
    A changed scheduled event list holds the scenario's own events too (lists replace)."""
    reference = resolve(source)
    checked = effective_changes(reference, changes, source)
    enterprises = min(enterprises, reference.population.enterprises)
    folder = saved_folder(root)
    document = {"extends": Path(os.path.relpath(Path(source).resolve(), folder)).as_posix(),
                **changed_document(reference, checked, name), "seed": reference.seed,
                "replications": replications}
    merge_keys(document, {"population": {"enterprises": enterprises}})
    header = (f"# Saved by the adoptsim explorer: {reference.name} with {len(checked)} change(s),\n"
              f"# at the page's size ({replications} replications of {enterprises:,} enterprises)"
              f" and seed.\n# Keep it in {'/'.join(SAVED_FOLDER)}/ (extends is relative to that "
              "folder); `adoptsim run FILE`\n# gives the page's figures.\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def scenario_choices(root: str | Path) -> list[Path]:
    """The scenarios the page offers: ``scenarios/baseline.yaml``, then the watch library
    (``scenarios/watch/``), then every other ``*.yaml`` under ``scenarios/`` that loads as a
    scenario (not targets, sweep specs or fragments such as ``calibrated.yaml``); each inside
    the project's ``scenarios/`` (:func:`sim.explorer.files.safe_path`)."""
    folder = safe_path(root, "scenarios")
    first = [folder / "baseline.yaml", *sorted((folder / "watch").glob("*.yaml"))]
    rest = sorted(set(folder.rglob("*.yaml")) - set(first))
    chosen = []
    for path in [*first, *rest]:
        try:
            safe_path(root, Path("scenarios", path.relative_to(folder)))
            if path.name.startswith(".") or not path.is_file():
                continue
            load_scenario(path)
        except (UserError, ValueError):
            continue
        chosen.append(path)
    return chosen
