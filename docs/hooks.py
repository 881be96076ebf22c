"""MkDocs hooks of the adoptsim site (``mkdocs.yml``: ``hooks``), the site's composition root.

They bring the code's own tables into the pages and the notebooks' outputs into the site:

* ``on_files``: every notebook under ``notebooks/`` is executed (:mod:`sim.docs.notebooks`, in
  its own folder) and its executed copy joins the site as ``notebooks/<name>.ipynb``, which
  mkdocs-jupyter renders; it runs before mkdocs-jupyter's own ``on_files`` (priority);
* ``on_page_markdown``: the ``<!-- generated: ... -->`` markers of a page become the tables
  read from the schema, the signal and metric tables, the argument parser and the baseline
  scenario (:mod:`sim.docs.markers`).

This file lives outside the package: it is the one place that knows both the library and the
command line (whose parser the CLI reference documents).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

from sim.cli import build_parser
from sim.docs import markers, notebooks
from sim.docs.site import NOTEBOOK_SECONDS

ROOT = Path(__file__).resolve().parents[1]
_scratch: list[Path] = []


@event_priority(100)
def on_files(files, config):
    scratch = Path(tempfile.mkdtemp(prefix="adoptsim-docs-"))
    _scratch.append(scratch)
    seconds = config.extra.setdefault(NOTEBOOK_SECONDS, {})
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        executed = notebooks.execute(path, scratch=scratch)
        seconds[path.name] = executed.seconds
        executed.write(scratch / "notebooks" / path.name)
        # a file of its own folder (not File.generated, whose path mkdocs-jupyter cannot see)
        files.append(File(f"notebooks/{path.name}", src_dir=str(scratch),
                          dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls))
    return files


def on_page_markdown(markdown, page, config, files):
    known = markers.generators(ROOT, build_parser())
    return markers.expand(markdown, known, page.file.src_uri)


def _clean_up(*args, **kwargs) -> None:
    while _scratch:
        shutil.rmtree(_scratch.pop(), ignore_errors=True)


on_post_build = _clean_up
on_build_error = _clean_up
