"""The explorer's files: the project folder, paths a browser may ask for, result folders, and
scenarios and profiles saved from the page.

The page reads and writes only under the project's ``scenarios/``, ``outputs/`` and
``profiles/`` folders (:data:`ALLOWED`): every path that comes from the browser goes through
:func:`safe_path`, which refuses absolute paths, ``..`` and symbolic links that lead out of them
(:class:`PathRefused`, reported like a bad setting). A scenario saved from the page goes to
``scenarios/explore/`` (:data:`SAVED_FOLDER`), a profile to ``profiles/explore/``
(:data:`SAVED_PROFILES`), each written atomically and never over an existing file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from sim.core.schema import PathName
from sim.core.settings_file import MAX_FILE_BYTES
from sim.errors import UserError
from sim.running import storage

ROOT_VARIABLE = "ADOPTSIM_PROJECT"   # names the project folder when set; else the working folder
#: The project's folders the page may read and write under: the scenarios it runs, the outputs
#: it writes and lists, and the enterprise profiles of the My enterprise view.
ALLOWED = ("scenarios", "outputs", "profiles")
SAVED_FOLDER = ("scenarios", "explore")
SAVED_PROFILES = ("profiles", "explore")
SWEEPS_FOLDER = "sweeps"             # outputs/sweeps/<name>/<hash8>/ (one level deeper)


class PathRefused(UserError):
    """A path the page may not use: outside the project's ``scenarios/``, ``outputs/`` and
    ``profiles/``, or a name that would leave its folder. ``file`` is the path as requested."""


def project_root(path: str | Path | None = None) -> Path:
    """The project folder (the one holding ``scenarios/`` and ``outputs/``), resolved: ``path``
    if given, else the folder named by the ``ADOPTSIM_PROJECT`` environment variable, else the
    working folder."""
    return Path(path or os.environ.get(ROOT_VARIABLE) or Path.cwd()).resolve()


def safe_path(root: str | Path, requested: str | Path, allowed=ALLOWED) -> Path:
    """``root/requested`` with symbolic links resolved, if it lies inside one of ``root``'s
    ``allowed`` folders; otherwise :class:`PathRefused`. An absolute path, a ``..`` component
    or a link that leads out of those folders is refused; the path need not exist."""
    text = str(requested)
    where = ", ".join(f"{name}/" for name in allowed)

    def refuse(why: str) -> PathRefused:
        return PathRefused(f"{why}; the explorer reads and writes only under {where} of the "
                           "project", file=text)

    if not text.strip() or "\0" in text:
        raise refuse("not a path")
    candidate = Path(text)
    if candidate.is_absolute() or candidate.drive:
        raise refuse("an absolute path; give one relative to the project folder")
    if ".." in candidate.parts:
        raise refuse("a path may not climb out of its folder with '..'")
    root = Path(root).resolve()
    try:
        resolved = (root / candidate).resolve()
    except (OSError, RuntimeError):   # a link loop
        raise refuse("a symbolic link loop") from None
    for name in allowed:
        folder = (root / name).resolve()
        if resolved == folder or resolved.is_relative_to(folder):
            return resolved
    raise refuse("outside the allowed folders (a symbolic link may lead out of them)")


def saved_folder(root: str | Path) -> Path:
    """Where scenarios saved from the page go: ``root/scenarios/explore``."""
    return safe_path(root, Path(*SAVED_FOLDER))


def save_scenario(root: str | Path, name: str, text: str) -> Path:
    """Write ``text`` to ``root/scenarios/explore/<name>.yaml`` atomically and return the path.
    An existing file is never replaced: the name gets a suffix (``-2``, ``-3``, ...) instead.
    ``name`` must be a plain file name (letters, digits, ``_``, ``.``, ``-``; ``.yaml`` may be
    given); anything else, or text over the settings-file cap, raises :class:`PathRefused`."""
    return _save_new(saved_folder(root), name, text, "scenario")


def save_profile(root: str | Path, name: str, text: str) -> Path:
    """Write a profile's ``text`` to ``root/profiles/explore/<name>.yaml`` as
    :func:`save_scenario` writes a scenario: atomically, never over an existing file, a plain
    file name only."""
    return _save_new(safe_path(root, Path(*SAVED_PROFILES)), name, text, "profile")


def _save_new(folder: Path, name: str, text: str, what: str) -> Path:
    """Write ``text`` to ``folder/<name>.yaml`` (a new file: ``-2``, ``-3``, ... when taken)."""
    stem = name.removesuffix(".yaml")
    try:
        TypeAdapter(PathName).validate_python(stem)
    except ValidationError as error:
        raise PathRefused(error.errors()[0]["msg"].removeprefix("Value error, "),
                          file=name) from None
    data = text.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise PathRefused(f"the {what} is {len(data):,} bytes, over the cap of "
                          f"{MAX_FILE_BYTES:,} bytes on settings files", file=name)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{stem}{storage.PARTIAL}",
                                         suffix=".yaml")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        attempt = 1
        while True:   # link(2) creates the name only if it does not exist: no overwrite race
            target = folder / (f"{stem}.yaml" if attempt == 1 else f"{stem}-{attempt}.yaml")
            try:
                os.link(temporary, target)
                return target
            except FileExistsError:
                attempt += 1
    finally:
        os.unlink(temporary)


@dataclass(frozen=True)
class ResultFolder:
    """An output folder the Results view lists."""

    kind: str                 # "run", "comparison" or "sweep"
    name: str                 # the scenario, "reference vs others" or the sweep's name
    time: datetime            # when it was made or last updated (UTC)
    path: Path
    report: Path | None       # its report.html, if present


def result_folders(root: str | Path) -> list[ResultFolder]:
    """The run, comparison and sweep folders under ``root/outputs``, newest first: runs in
    ``outputs/<scenario>/<timestamp>-<hash8>/``, comparisons in ``outputs/compare/...``, sweeps in
    ``outputs/sweeps/<name>/<hash8>/``. Temporaries of unfinished runs (hidden names) and
    symbolic links are passed over; a folder's kind is what its files say
    (:func:`sim.views.report.folder_kind`)."""
    from sim.views.report import REPORT_NAME, folder_kind

    outputs = safe_path(root, "outputs")
    found = []
    for parent in _children(outputs):
        candidates = _children(parent)
        if parent.name == SWEEPS_FOLDER:
            candidates = [folder for sweep in candidates for folder in _children(sweep)]
        for folder in candidates:
            kind = folder_kind(folder)
            if kind is None:
                continue
            recorded = _manifest(folder)
            report = folder / REPORT_NAME
            found.append(ResultFolder(kind=kind.name, name=_title(kind.name, recorded, folder),
                                      time=_time(recorded, folder), path=folder,
                                      report=report if report.is_file() else None))
    return sorted(found, key=lambda entry: (entry.time, str(entry.path)), reverse=True)


def _children(folder: Path) -> list[Path]:
    """The visible sub-folders of ``folder`` that are not symbolic links."""
    if not folder.is_dir():
        return []
    return sorted(child for child in folder.iterdir()
                  if not child.name.startswith(".") and not child.is_symlink() and child.is_dir())


def _manifest(folder: Path) -> dict:
    try:
        recorded = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _title(kind: str, recorded: dict, folder: Path) -> str:
    if kind == "comparison" and isinstance(recorded.get("scenarios"), dict):
        reference = recorded.get("reference")
        others = [name for name in recorded["scenarios"] if name != reference]
        return f"{reference} vs {', '.join(others)}"
    name = recorded.get("sweep" if kind == "sweep" else "scenario")
    return str(name) if name else folder.parent.name


def _time(recorded: dict, folder: Path) -> datetime:
    """The manifest's ``created`` (or a sweep's ``updated``) time, else the folder's."""
    for key in ("updated", "created"):
        try:
            return datetime.fromisoformat(recorded[key]).astimezone(UTC)
        except (KeyError, TypeError, ValueError):
            continue
    return datetime.fromtimestamp(folder.stat().st_mtime, UTC)
