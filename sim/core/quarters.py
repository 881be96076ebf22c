"""Calendar quarters: the model's unit of time ("2025Q4" strings <-> integer indices)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")

#: The last quarter of measured history: the calibration's panel ends here, the explorer's
#: controls change only what comes after it, and headline figures are given at it (the
#: article's picture) beside the horizon's end.
HISTORY_END = "2025Q4"


def parse_quarter(text: str) -> int:
    """Return the absolute quarter number (year * 4 + quarter - 1) of a "YYYYQn" string."""
    match = _QUARTER.match(str(text).strip())
    if match is None:
        raise ValueError(f"'{text}' is not a quarter; write it as YYYYQn, for example 2025Q4")
    return int(match.group(1)) * 4 + int(match.group(2)) - 1


def format_quarter(absolute: int) -> str:
    """Inverse of :func:`parse_quarter`."""
    return f"{absolute // 4}Q{absolute % 4 + 1}"


def quarter_range(start: str, end: str) -> list[str]:
    """All quarters from ``start`` to ``end`` inclusive, as strings."""
    return [format_quarter(q) for q in range(parse_quarter(start), parse_quarter(end) + 1)]


def snapshot_quarters(quarters: Sequence[str]) -> list[str]:
    """The quarters headline figures are given at: :data:`HISTORY_END` when it is one of
    ``quarters``, and the last of ``quarters`` (in order)."""
    return list(dict.fromkeys(([HISTORY_END] if HISTORY_END in quarters else [])
                              + [quarters[-1]]))
