"""The signals figure's layout, derived from the signal table: which panels a run's figure has,
which signals each panel draws, and where each panel sits on the grid, in words for captions.

A panel of :data:`sim.core.signal_table.SIGNAL_PANELS` is shown when the run recorded at least
one of its signals (the ``signal_<name>`` metric of a :class:`~sim.core.signal_table.SignalSpec`
whose ``panel`` it is); panels keep the table's order and fill a grid of
:data:`SIGNAL_COLUMNS` columns row by row. The signals figure
(:mod:`sim.views.figures.run`) draws these panels and the run report's caption
(:mod:`sim.views.report.run_trends`) points at them, so the two always agree. Nothing here names
a signal: adding, removing or moving one in the table moves the figure and its caption with it.

Standard library and the signal table only, so the report can read it without pandas or
matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from sim.core.signal_table import SIGNAL_PANELS, SIGNALS, SignalSpec

#: Panels per row of the signals figure (fewer when there are fewer panels).
SIGNAL_COLUMNS = 2


@dataclass(frozen=True)
class SignalPanel:
    """One panel of the signals figure: its key in :data:`SIGNAL_PANELS`, title, y-axis label,
    the signals it draws (in table order), its cell of the grid and that cell in words."""

    key: str
    title: str
    ylabel: str
    signals: tuple[SignalSpec, ...]
    row: int
    column: int
    position: str


def grid_shape(panel_count: int) -> tuple[int, int]:
    """(rows, columns) of a grid holding ``panel_count`` panels, :data:`SIGNAL_COLUMNS` a row."""
    columns = max(1, min(SIGNAL_COLUMNS, panel_count))
    return max(1, math.ceil(panel_count / columns)), columns


def position_words(row: int, column: int, rows: int, columns: int) -> str:
    """Where a cell sits in a grid of ``rows`` x ``columns``, for a caption: "top left",
    "middle right", "bottom left", "row 2 left" (four rows or more), "right" (one row), ""
    (a single cell: nowhere to point)."""
    vertical = "" if rows == 1 else _place(row, rows, ("top", "middle", "bottom"), "row")
    horizontal = "" if columns == 1 else _place(column, columns, ("left", "middle", "right"),
                                                "column")
    return " ".join(word for word in (vertical, horizontal) if word)


def _place(index: int, count: int, words: tuple[str, str, str], counted: str) -> str:
    """The first, middle (of three) or last of ``count`` by ``words``; others by number."""
    first, middle, last = words
    if index == 0:
        return first
    if index == count - 1:
        return last
    return middle if count == 3 else f"{counted} {index + 1}"


def signal_panels(recorded: Collection[str]) -> list[SignalPanel]:
    """The panels of the signals figure of a run that recorded the metrics ``recorded``: every
    panel of :data:`SIGNAL_PANELS` with at least one recorded signal, in the table's order, with
    its recorded signals and its place on the grid (empty when no signal was recorded)."""
    shown = []
    for key, (title, ylabel) in SIGNAL_PANELS.items():
        specs = tuple(spec for spec in SIGNALS if spec.panel == key and spec.metric in recorded)
        if specs:
            shown.append((key, title, ylabel, specs))
    rows, columns = grid_shape(len(shown))
    return [SignalPanel(key, title, ylabel, specs, index // columns, index % columns,
                        position_words(index // columns, index % columns, rows, columns))
            for index, (key, title, ylabel, specs) in enumerate(shown)]
