"""Writing outputs safely: every file atomically (temporary file, then rename), every output
folder assembled under a temporary name and renamed into place, and nothing existing overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` atomically: ``write`` fills a temporary file beside it, which is then renamed
    into place (and deleted if ``write`` fails). Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda target: target.write_text(text, encoding="utf-8"))


def write_json(path: Path, data) -> Path:
    """Strict JSON: a NaN or infinity raises ValueError rather than writing what parsers reject."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    return write_atomic(path, lambda target: frame.to_parquet(target, index=False, engine="pyarrow"))


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    return write_atomic(path, lambda target: frame.to_csv(target, index=False, float_format="%.6g"))


@contextmanager
def new_folder(parent: Path, name: str):
    """Yield a temporary folder to fill; on success rename it to ``parent/name`` (or
    ``name-2``, ``name-3``... if that exists, so nothing is overwritten) and store the final
    path in the yielded holder's ``path``. On failure the temporary folder is removed."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.partial-"))
    holder = FolderHolder(staging)
    try:
        yield holder
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    holder.path = _rename_unique(staging, parent, name)


class FolderHolder:
    """The folder being written; ``path`` is the final location once the block has finished."""

    def __init__(self, staging: Path):
        self.staging = staging
        self.path: Path | None = None


def _rename_unique(staging: Path, parent: Path, name: str) -> Path:
    attempt = 1
    while (target := parent / (name if attempt == 1 else f"{name}-{attempt}")).exists():
        attempt += 1
    os.rename(staging, target)
    return target
