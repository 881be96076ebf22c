"""Writing outputs safely: every file atomically (temporary file, then rename), every output
folder assembled under a temporary name and renamed into place, and nothing existing overwritten.

Before any computing starts, a command checks its output folder with :func:`output_folder`: it
must lie inside the output root (names from files and the command line cannot climb out of it),
and be a folder this process can write in. Temporaries are named ``.<name>.partial-…``; those a
killed process left behind are removed after a day (:func:`stale_partials`): by the next run
into the same folder, or by ``adoptsim clean``.

A command that fails or is stopped (:mod:`sim.running.termination`) leaves nothing behind: its
temporaries are removed, and so are the folders :func:`output_folder` made for it that are still
empty. A full disk is reported as :class:`DiskFull`, naming what was being written.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import UserError
from sim.running import termination

if TYPE_CHECKING:  # the module is imported by every command: pandas only where frames are written
    import pandas as pd

PARTIAL = ".partial-"
STALE_SECONDS = 24 * 3600


class OutputError(UserError):
    """An output folder that cannot be used: outside the output root, a file, a dangling or
    looping symbolic link, or not writable. Reported like a bad input (exit code 2)."""


class DiskFull(OSError):
    """No space left on the device while writing ``path`` (a file, or the output folder being
    assembled). An OSError, the machine's fault: the command line reports it in one line with
    exit code 1."""

    def __init__(self, path: Path):
        super().__init__(errno.ENOSPC, f"no space left on device writing {path}")

    def __str__(self) -> str:
        return self.strerror


@contextmanager
def _full_disk_named(path: Path):
    """Turn a "no space left on device" raised in the block into :class:`DiskFull` naming
    ``path`` (the outermost such block names what the user asked for)."""
    try:
        yield
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DiskFull(path) from error
        raise


_made_folders: set[Path] = set()   # folders output_folder created in this process


def remove_empty_made_folders() -> None:
    """Remove the folders :func:`output_folder` created in this process that are still empty
    (deepest first): a command that failed or was stopped leaves no empty folder behind. One
    that another command fills meanwhile stays (it is not empty), and a writer recreates a
    folder it needs."""
    for folder in sorted(_made_folders, key=lambda path: len(path.parts), reverse=True):
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError:   # not empty: in use
            continue
        _made_folders.discard(folder)


termination.register_cleanup(remove_empty_made_folders)   # also when a signal ends the process


def output_folder(root: str | Path, *parts: str) -> Path:
    """``root/parts...``, checked and created before any computing starts: it must stay inside
    ``root`` (no part may be absolute or climb out with ``..``), no folder on the way may be a
    file, a dangling symbolic link or a link loop, and this process must be able to create a file
    in it. Raises :class:`OutputError` naming the folder otherwise."""
    root = Path(root)
    folder = root.joinpath(*parts)
    top, target = os.path.abspath(root), os.path.abspath(folder)
    if os.path.commonpath([top, target]) != top or (parts and target == top):
        raise OutputError(f"{folder}: not a folder inside the output folder {root}")
    for step in [root, *(root.joinpath(*parts[:depth]) for depth in range(1, len(parts) + 1))]:
        _check_step(step)
    try:
        _make_folders(folder)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=f".write-check{PARTIAL}")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        remove_empty_made_folders()
        raise OutputError(f"{folder}: cannot write output here ({error.strerror})") from None
    return folder


def _make_folders(folder: Path) -> None:
    """``folder.mkdir(parents=True)``, remembering the folders made (see
    :func:`remove_empty_made_folders`)."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        _made_folders.add(path.absolute())


def _check_step(path: Path) -> None:
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except FileNotFoundError:
            raise OutputError(f"{path}: a symbolic link to {os.readlink(path)}, which does not "
                              "exist") from None
        except (OSError, RuntimeError):
            raise OutputError(f"{path}: a symbolic link loop") from None
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: a file, not a folder; choose another --out")


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` atomically: ``write`` fills a temporary file beside it, which is then renamed
    into place (and deleted if ``write`` fails, or if the process is ended meanwhile). Returns
    ``path``."""
    path = Path(path)
    with _full_disk_named(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{PARTIAL}",
                                        suffix=path.suffix)
        os.close(handle)
        temporary = Path(name)
        with termination.cleanup_on_exit(lambda: temporary.unlink(missing_ok=True)):
            try:
                write(temporary)
                os.replace(temporary, path)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda target: target.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    return write_atomic(path, lambda target: target.write_bytes(data))


def write_json(path: Path, data) -> Path:
    """Strict JSON: a NaN or infinity raises ValueError rather than writing what parsers reject."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    return write_atomic(
        path, lambda target: frame.to_parquet(target, index=False, engine="pyarrow")
    )


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    return write_atomic(path, lambda target: frame.to_csv(target, index=False, float_format="%.6g"))


@contextmanager
def new_folder(parent: Path, name: str):
    """Yield a temporary folder to fill; on success rename it to ``parent/name`` (or
    ``name-2``, ``name-3``... if that is taken, so nothing is overwritten) and store the final
    path in the yielded holder's ``path``. On failure (a full disk: :class:`DiskFull` naming
    ``parent/name``), or if the process is ended meanwhile, the temporary folder is removed,
    and so are the folders made for it that are left empty."""
    parent = Path(parent)

    def discard(staging: Path) -> None:
        """Remove ``staging``, renamed first: the watchdog does this while the main thread may
        still be writing into it, and once renamed nothing new can appear in it (the writer
        names files by the old path), so the removal cannot miss one."""
        discarded = staging.with_name(f"{staging.name}-discarded")
        try:
            staging.rename(discarded)
        except OSError:   # gone already (renamed into place, or removed)
            return
        shutil.rmtree(discarded, ignore_errors=True)
        remove_empty_made_folders()

    with _full_disk_named(parent / name):
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(parent)
        try:
            staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}{PARTIAL}"))
        except BaseException:
            remove_empty_made_folders()
            raise
        holder = FolderHolder(staging)
        with termination.cleanup_on_exit(lambda: discard(staging)):
            try:
                yield holder
                termination.check()   # stopped: not published
                holder.path = _rename_unique(staging, parent, name)
            except BaseException:
                discard(staging)
                raise


class FolderHolder:
    """The folder being written; ``path`` is the final location once the block has finished."""

    def __init__(self, staging: Path):
        self.staging = staging
        self.path: Path | None = None


def _rename_unique(staging: Path, parent: Path, name: str) -> Path:
    """Rename ``staging`` to ``parent/name``, or ``name-2``, ``name-3``... A name is claimed by
    creating it as an empty folder (which fails if anything has it, even another process that
    finished the same second), then ``staging`` is renamed over that empty folder; if something
    else filled it in between, the next name is tried."""
    for attempt in itertools.count(1):
        target = parent / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            target.mkdir()
        except FileExistsError:
            continue
        try:
            os.rename(staging, target)
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                with suppress(OSError):
                    target.rmdir()
                raise
            continue   # filled by someone else since the claim: theirs now
        return target


def stale_partials(root: str | Path, recursive: bool = False) -> list[Path]:
    """Temporaries (``.<name>.partial-…`` folders and files) in ``root`` (and below it, when
    ``recursive``) untouched for over a day: what a killed process left behind. Younger ones may
    belong to a command still running and are never listed."""
    root = Path(root)
    cutoff = time.time() - STALE_SECONDS
    found = root.glob(f"**/.*{PARTIAL}*" if recursive else f".*{PARTIAL}*")
    return sorted(path for path in found if path.lstat().st_mtime < cutoff)


def remove_path(path: Path) -> None:
    """Delete a folder or a file (a symbolic link itself, never what it points at)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_partials(parent: Path) -> None:
    """Remove the stale temporaries in ``parent`` and say so in one line on stderr."""
    stale = stale_partials(parent)
    for path in stale:
        remove_path(path)
    if stale:
        print(
            f"adoptsim: removed {len(stale)} unfinished folder(s) older than a day, left in "
            f"{parent} by a killed run: {', '.join(path.name for path in stale)}",
            file=sys.stderr,
        )
