"""The profiles of the My enterprise view: the files it offers, a profile as a document the page
edits, and the YAML it saves.

A profile file (:mod:`sim.advise.profile`) lives under the project's ``profiles/``
(:data:`PROFILES_FOLDER`); every path the page asks for goes through
:func:`sim.explorer.files.safe_path` kept to that folder, and a file is read as ``adoptsim
advise`` reads it (:func:`sim.advise.profile.load_profile`: a bad one raises a
:class:`~sim.core.settings_file.ScenarioError` naming the file, line and key). The page edits a
*document*: the keys the file sets, as plain data (:func:`read_document`), changed one key at a
time (:func:`edited`, :func:`with_workload`, :func:`without_workload`) and checked as the file
would be (:func:`profile_of`, whose errors name the key). :func:`profile_yaml` writes a checked
document as a profile file that ``adoptsim validate`` and ``adoptsim advise`` read;
:func:`sim.explorer.files.save_profile` saves it under ``profiles/explore/``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.advise.profile import Profile, load_profile
from sim.core.settings_file import Origin, from_validation_error
from sim.explorer.files import SAVED_PROFILES, PathRefused, safe_path

PROFILES_FOLDER = "profiles"
#: A workload the page adds: a routine, high-volume one (the user sets its class and tokens).
NEW_WORKLOAD = {"class": "internal_high_volume", "million_tokens_per_month": 100.0}
#: A profile to start from when there is none to load: a mid-size EU firm with one workload.
NEW_PROFILE = {"kind": "profile", "name": "my-enterprise", "sector": "professional_services",
               "region": "eu", "size": "mid", "ml_engineers": 2.0,
               "workloads": [{"name": "workload-1", **NEW_WORKLOAD}]}


def profile_choices(root: str | Path) -> list[Path]:
    """The profile files the page offers: every ``*.yaml`` under the project's ``profiles/``,
    those directly in it first, then those in sub-folders (``profiles/explore/``, where the page
    saves), each by name; hidden names and links that lead out of the folder are passed over.
    The files are not read here: one that is bad says why when it is picked."""
    folder = safe_path(root, PROFILES_FOLDER)
    if not folder.is_dir():
        return []
    top = sorted(folder.glob("*.yaml"))
    chosen = []
    for path in [*top, *sorted(set(folder.rglob("*.yaml")) - set(top))]:
        relative = Path(PROFILES_FOLDER, path.relative_to(folder))
        if any(part.startswith(".") for part in relative.parts):
            continue
        try:
            safe_path(root, relative, allowed=(PROFILES_FOLDER,))
        except PathRefused:
            continue
        chosen.append(path)
    return chosen


def read_document(root: str | Path, requested: str | Path) -> dict:
    """The profile file ``requested`` (relative to ``root``, under ``profiles/``) as a document:
    the keys it sets, as plain data. A path outside ``profiles/`` raises
    :class:`~sim.explorer.files.PathRefused`; a bad, binary or vanished file a
    :class:`~sim.core.settings_file.ScenarioError` naming the file, line and key."""
    return document_of(load_profile(safe_path(root, requested, allowed=(PROFILES_FOLDER,))))


def document_of(profile: Profile) -> dict:
    """The keys a profile sets (not its defaults), as plain data; the description on one line
    (a folded YAML block ends in a line break)."""
    document = profile.model_dump(mode="json", exclude_unset=True)
    if "description" in document:
        document["description"] = " ".join(document["description"].split())
    return document


def new_document() -> dict:
    """A profile to start from (:data:`NEW_PROFILE`)."""
    return copy.deepcopy(NEW_PROFILE)


def profile_of(document: dict) -> Profile:
    """The document checked as a profile file is: a problem raises a
    :class:`~sim.core.settings_file.ScenarioError` naming its key (``workloads.2.class``)."""
    try:
        return Profile.model_validate(document)
    except ValidationError as error:
        raise from_validation_error(error, {(): Origin(None)}, Profile) from None


def edited(document: dict, key_path: str, value: Any) -> dict:
    """A copy of ``document`` with the value at ``key_path`` (dotted; list items by index:
    ``workloads.0.million_tokens_per_month``) set to ``value``."""
    changed = copy.deepcopy(document)
    *parents, last = key_path.split(".")
    node: Any = changed
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return changed


def with_workload(document: dict) -> dict:
    """A copy of ``document`` with one more workload (:data:`NEW_WORKLOAD`), named
    ``workload-N`` with the first N no workload has."""
    changed = copy.deepcopy(document)
    workloads = changed.setdefault("workloads", [])
    names = {workload.get("name") for workload in workloads}
    number = next(n for n in range(len(workloads) + 1, len(workloads) + len(names) + 2)
                  if f"workload-{n}" not in names)
    workloads.append({"name": f"workload-{number}", **NEW_WORKLOAD})
    return changed


def without_workload(document: dict, index: int) -> dict:
    """A copy of ``document`` without its ``index``-th workload."""
    changed = copy.deepcopy(document)
    del changed["workloads"][index]
    return changed


def profile_yaml(document: dict) -> str:
    """The document as a profile file (checked first: :func:`profile_of` raises on a bad one),
    with a header saying where it came from; ``adoptsim validate`` and ``adoptsim advise`` read
    it. The keys are the document's, in the schema's order."""
    profile = profile_of(document)
    header = (f"# Saved by the adoptsim explorer's My enterprise view: profile '{profile.name}'"
              f" with {len(profile.workloads)} workload(s).\n# Keep it under profiles/ (the page"
              f" saves to {'/'.join(SAVED_PROFILES)}/); `adoptsim advise FILE` advises it.\n")
    return header + yaml.safe_dump(document_of(profile), sort_keys=False, allow_unicode=True,
                                   width=100)
