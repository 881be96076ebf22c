"""Building and serving the documentation site (``adoptsim docs``).

The site is MkDocs with the Material theme, configured by the checkout's ``mkdocs.yml`` over
``docs/``; its hooks (``docs/hooks.py``) expand the generated tables (:mod:`sim.docs.markers`)
and execute the notebooks (:mod:`sim.docs.notebooks`). :func:`build_site` builds it strictly (a
warning, a broken link or a missing reference fails the build) into ``OUT/site``: assembled
under a temporary name beside it and renamed into place when complete, replacing only a site an
earlier build wrote (it leaves a marker file), never another folder. :func:`serve_site` serves a
built site on this machine.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sim.errors import UserError
from sim.running.storage import PARTIAL, output_folder

SITE = "site"
BUILT_BY = ".adoptsim-site"   # the marker a built site holds, so a rebuild may replace it
#: Where the hooks record how long each notebook took, in the build's configuration.
NOTEBOOK_SECONDS = "adoptsim_notebook_seconds"


class DocsError(UserError):
    """The documentation cannot be built or served: not a source checkout, an output folder
    that is not an earlier site, a strict build's warnings, a port in use."""


@dataclass
class SiteBuild:
    """A built site: its folder, the build's wall time, each notebook's execution time."""

    folder: Path
    seconds: float
    notebook_seconds: dict[str, float] = field(default_factory=dict)


def project_root() -> Path:
    """The source checkout the running package belongs to (the folder holding ``mkdocs.yml``,
    ``docs/`` and ``sim/``); :class:`DocsError` when the package is installed elsewhere."""
    import sim

    root = Path(sim.__file__).resolve().parents[1]
    if not (root / "mkdocs.yml").is_file() or not (root / "docs").is_dir():
        raise DocsError(f"the documentation is built from a source checkout (mkdocs.yml and "
                        f"docs/ beside sim/); {root} has none")
    return root


class _Warnings(logging.Handler):
    """Collects the warnings MkDocs and its plugins log during a build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def build_site(out: str | Path = "outputs", *, strict: bool = True,
               root: Path | None = None) -> SiteBuild:
    """Build the site into ``out/site`` and return where, how long it took and how long each
    notebook ran. In strict mode any warning fails it with a :class:`DocsError` listing them."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    root = root or project_root()
    parent = output_folder(out)
    target = parent / SITE
    if target.exists() and not (target / BUILT_BY).is_file():
        raise DocsError(f"{target} exists and is not a site adoptsim built; remove it or choose "
                        "another --out")
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{SITE}{PARTIAL}"))
    warnings = _Warnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warnings)
    started = time.perf_counter()
    try:
        config = load_config(str(root / "mkdocs.yml"), site_dir=str(staging), strict=strict)
        build(config)
        (staging / BUILT_BY).write_text("built by adoptsim docs\n", encoding="utf-8")
    except (Abort, ConfigurationError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DocsError(f"the documentation did not build: {error}"
                        + "".join(f"\n  {message}" for message in warnings.messages)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        logger.removeHandler(warnings)
    _replace(staging, target)
    return SiteBuild(target, time.perf_counter() - started,
                     dict(config.extra.get(NOTEBOOK_SECONDS, {})))


def _replace(staging: Path, target: Path) -> None:
    """Rename the finished ``staging`` folder to ``target``, removing the earlier site."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{SITE}.old{PARTIAL}"))
        os.rename(target, old / SITE)
    os.rename(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def site_server(folder: str | Path, *, host: str = "127.0.0.1", port: int = 8000):
    """An HTTP server of a built site's folder, bound but not yet serving (port 0: any free
    one); :class:`DocsError` when the address cannot be had."""
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format, *args) -> None:   # no line per request
            pass

    try:
        return ThreadingHTTPServer((host, port), partial(Quiet, directory=str(folder)))
    except OSError as error:
        raise DocsError(f"cannot listen on {host}:{port} ({error.strerror}); choose another "
                        "--host or --port") from None


def serve_site(folder: str | Path, *, host: str = "127.0.0.1", port: int = 8000,
               announce=print) -> None:
    """Serve a built site over HTTP until interrupted (its search works offline)."""
    with site_server(folder, host=host, port=port) as server:
        announce(f"adoptsim docs: http://{host}:{server.server_address[1]}/  (Ctrl-C to stop)")
        server.serve_forever()
