"""What a run folder says, loaded once for its report (:class:`RunData`): the manifest, the
tidy quarterly frame, the summary's figures at the snapshot quarters, the segments and figures.
"""

from __future__ import annotations

from pathlib import Path

from sim.core.quarters import snapshot_quarters
from sim.views.report.page import embeddable
from sim.views.report.reading import ReportError, read_manifest, read_parquet
from sim.views.report.words import Stat
from sim.views.style import segment_label


class RunData:
    """Everything a run folder says, loaded once: manifest, tidy frame, summary, figures."""

    def __init__(self, folder: Path):
        import pandas as pd

        self.folder = folder
        self.manifest = read_manifest(folder)
        self.frame = read_parquet(folder / "quarterly.parquet",
                                  ("replication", "quarter", "metric", "segment", "value"))
        self.scenario: dict = self.manifest.get("resolved_scenario") or {}
        self.quarters: list[str] = sorted(pd.unique(self.frame["quarter"]))
        if not self.quarters:
            raise ReportError(f"{folder / 'quarterly.parquet'}: the run holds no quarters")
        self.start, self.end = self.quarters[0], self.quarters[-1]
        self.snapshots = snapshot_quarters(self.quarters)
        self.replications = int(self.frame["replication"].nunique())
        self._stats = self._snapshot_stats()

    def _snapshot_stats(self) -> dict[tuple[str, str, str], Stat | None]:
        """Mean and 90% interval of every metric and segment at the snapshot quarters, from
        summary.csv (the numbers the command line printed); empty when it is missing, and
        :meth:`stat` computes what it needs from the frame."""
        import pandas as pd

        path = self.folder / "summary.csv"
        try:
            summary = pd.read_csv(path)
        except (OSError, ValueError):
            return {}
        if not {"metric", "segment", "quarter", "mean", "p5", "p95"} <= set(summary):
            return {}
        return {(r.metric, r.segment, r.quarter): Stat(r.mean, r.p5, r.p95)
                for r in summary.itertuples(index=False)}

    def stat(self, metric: str, quarter: str, segment: str = "all") -> Stat | None:
        """Mean and 90% interval of ``metric`` in ``segment`` at ``quarter``; None if absent."""
        key = (metric, segment, quarter)
        if key not in self._stats:
            from sim.views.figures.bands import band_table

            try:
                bands = band_table(self.frame, metric, segment)
            except KeyError:
                bands = None
            for row_quarter, row in ([] if bands is None else bands.iterrows()):
                self._stats[(metric, segment, row_quarter)] = Stat(
                    row["mean"], row["p5"], row["p95"]
                )
            self._stats.setdefault(key, None)
        return self._stats[key]

    def segments(self, dimension: str) -> list[str]:
        """The run's segments of ``dimension`` ("sector", ...), in the schema's order."""
        from sim.core import schema

        order = {"sector": schema.SECTOR_NAMES, "region": schema.REGIONS, "size": schema.SIZES,
                 "class": schema.WORKLOAD_CLASSES}.get(dimension, ())
        prefix = f"{dimension}="
        present = [s for s in dict.fromkeys(self.frame["segment"]) if str(s).startswith(prefix)]
        ranked = {f"{prefix}{name}": i for i, name in enumerate(order)}
        return sorted(present, key=lambda s: (ranked.get(s, len(ranked)), s))

    def segment_label(self, segment: str) -> str:
        """A segment's name for readers; regulated sectors say so."""
        label = segment_label(segment)
        dimension, _, value = segment.partition("=")
        sectors = (self.scenario.get("population") or {}).get("sectors") or {}
        if dimension == "sector" and (sectors.get(value) or {}).get("regulated"):
            label += " (regulated)"
        return label

    def png(self, name: str) -> Path | None:
        path = self.folder / "plots" / name
        return path if embeddable(path) else None

    @property
    def name(self) -> str:
        return str(self.manifest.get("scenario") or self.scenario.get("name") or self.folder.name)

    @property
    def enterprises(self) -> int | None:
        return (self.scenario.get("population") or {}).get("enterprises")
