"""The run report's calibration targets: the panel of a targets file
(:func:`sim.calibration.load_targets`) against the run's simulated values, as a table and a
sentence for the headline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.views.report.page import esc, table, td, th
from sim.views.report.reading import ReportError
from sim.views.report.run_data import RunData
from sim.views.report.words import Stat, figure_value
from sim.views.style import METRIC_LABELS, segment_label

if TYPE_CHECKING:
    from sim.calibration.panel import Target


@dataclass(frozen=True)
class TargetCheck:
    """A panel entry (:class:`sim.calibration.panel.Target`) and the run's value of it."""

    target: Target
    simulated: Stat

    @property
    def within(self) -> bool:
        """Whether the simulated mean meets the entry
        (:meth:`~sim.calibration.panel.Target.within`)."""
        return self.target.within(self.simulated.mean)


def load_panel(path: str | Path | None) -> list[Target]:
    """The panel of the targets file at ``path`` (:func:`sim.calibration.load_targets`); no
    entries without a path. A :class:`ReportError` when the file is missing or not valid."""
    if path is None:
        return []
    from sim.calibration import load_targets
    from sim.core.settings_file import ScenarioError

    try:
        return load_targets(path).targets
    except ScenarioError as error:
        raise ReportError(str(error)) from None


def target_checks(run: RunData, targets: Sequence[Target]) -> list[TargetCheck]:
    """The targets the run can be judged on (its metric, segment and quarter are in the run)."""
    checks = []
    for target in targets:
        simulated = run.stat(target.metric, target.quarter, target.segment)
        if simulated is not None:
            checks.append(TargetCheck(target, simulated))
    return checks


def targets_sentence(checks: Sequence[TargetCheck]) -> str:
    """How many calibration targets the run meets, and the misses in numbers."""
    if not checks:
        return ""
    misses = [check for check in checks if not check.within]
    text = (f"<b>Calibration.</b> {len(checks) - len(misses)} of {len(checks)} targets (survey "
            f"measurements and the article's figures) are met within their tolerance")
    if misses:
        text += ". Missed: " + "; ".join(
            f"{esc(_target_label(c.target))} at {c.target.quarter}, "
            f"{figure_value(c.simulated.mean, c.target.metric)} simulated against "
            f"{figure_value(c.target.value, c.target.metric)} observed" for c in misses)
    return text + ' (see <a href="#targets">Targets</a>).'


def _target_label(target: Target) -> str:
    what = METRIC_LABELS.get(target.metric, target.metric)
    return what if target.segment == "all" else f"{what} ({segment_label(target.segment)})"


def targets_section(run: RunData, checks: Sequence[TargetCheck]) -> str:
    rows = []
    for check in checks:
        t, s = check.target, check.simulated
        tolerance = (f" &plusmn; {figure_value(t.tolerance, t.metric)}"
                     if t.kind == "estimate" else "")
        observed = ({"upper_bound": "at most ", "lower_bound": "at least "}.get(t.kind, "")
                    + figure_value(t.value, t.metric))
        simulated = (f"{figure_value(s.mean, t.metric)}<span class=\"interval\">"
                     f"{figure_value(s.p5, t.metric)}&ndash;{figure_value(s.p95, t.metric)}</span>")
        verdict = ('<span class="ok">within</span>' if check.within
                   else '<span class="miss">outside</span>')
        source = esc(t.source or "")
        if t.counts:
            source = f"{esc(t.counts)}. {source}"
        if t.confidence == "claimed":
            source += " <span class=\"note\">(a claim: no primary source found)</span>"
        elif t.confidence:
            source += f" <span class=\"note\">(confidence: {esc(t.confidence)})</span>"
        rows.append([td(esc(_target_label(t)), "text"), td(esc(t.quarter)),
                     td(observed + tolerance), td(simulated),
                     td(verdict), td(source, "text")])
    header = [[th("Target", cls="text"), th("Quarter"), th("Observed"), th("Simulated"),
               th("Tolerance"), th("Source", cls="text")]]
    intro = (
        "<p>Look at the <b>Tolerance</b> column: it says whether the simulated mean lies "
        "within the tolerance of the observed figure (a bound is met on its side). Small type "
        "under the simulated mean is its 90% interval over replications. "
        "The targets are the calibration panel: what surveys measured from 2023 to 2025, "
        "and the article's three 2025 figures, which are claims without a primary source. "
        "The baseline is calibrated to them; a scenario that changes history before them is "
        "not expected to match.</p>"
    )
    return intro + table(header, rows)
