"""Calendar quarters: the model's unit of time ("2025Q4" strings <-> integer indices)."""

from __future__ import annotations

import re

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


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
