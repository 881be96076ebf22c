"""What the explorer page's views share: the settings ``adoptsim explore`` passes, the project
folder, the What-if view's scenario and changes (which the My enterprise view advises under),
and two small widgets.

The What-if state (:data:`WHATIF_SOURCE`, :data:`WHATIF_CHANGES`) is Solara reactive state at
module level, which Solara keeps per browser session (one value per page connection): the views
of one page share it, two pages do not. It outlives a view being switched away from.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import solara

from sim.explorer import files

#: What ``adoptsim explore`` passes to the page (environment variables of the server process).
SETTINGS = {
    "root": "ADOPTSIM_PROJECT",
    "scenario": "ADOPTSIM_EXPLORE_SCENARIO",
    "enterprises": "ADOPTSIM_EXPLORE_ENTERPRISES",
    "replications": "ADOPTSIM_EXPLORE_REPLICATIONS",
    "draws": "ADOPTSIM_EXPLORE_DRAWS",
    "peer_replications": "ADOPTSIM_EXPLORE_PEER_REPLICATIONS",
}
CELL_STYLE = "padding: 3px 12px; text-align: left; border-bottom: 1px solid #e0e0e0"

#: The What-if view's scenario (a path relative to the project; "": the page's own scenario,
#: :func:`whatif_source`) and its controls' changes (control key -> value), per session.
WHATIF_SOURCE = solara.reactive("")
WHATIF_CHANGES: solara.Reactive[dict] = solara.reactive({})


def setting(name: str, default):
    value = os.environ.get(SETTINGS[name])
    return type(default)(value) if value else default


def root() -> Path:
    return files.project_root()


def relative(path: Path) -> str:
    return str(path.resolve().relative_to(root().resolve()))


def whatif_source(default: str = "") -> str:
    """The What-if view's scenario: the one picked in this session, else the one ``adoptsim
    explore`` opened on, else ``default``."""
    return WHATIF_SOURCE.value or setting("scenario", default)


@solara.component
def Progress(percent_done: solara.Reactive[float]):
    solara.ProgressLinear(percent_done.value or True)


@solara.component
def Table(header: list[str], rows: list[list[str]], classes: list[str]):
    """An HTML table of text cells (escaped). Not ``solara.Markdown``: it fetches KaTeX, which
    the bundled assets lack, so the page would log a failed request."""
    def line(cells, tag):
        return "<tr>" + "".join(f'<{tag} style="{CELL_STYLE}">{cell}</{tag}>'
                                for cell in cells) + "</tr>"

    body = line(map(html.escape, header), "th") + "".join(line(row, "td") for row in rows)
    solara.HTML(tag="div", unsafe_innerHTML=f"<table>{body}</table>", classes=classes,
                style={"font-size": "0.9em"})
