"""The run report's calibration targets: what a targets file
(:func:`sim.calibration.load_targets`) holds for a run report (:class:`Published`: the panel the
model is fitted to and the published checks it is not), against the run's simulated values, as
tables and a sentence for the headline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.views.report.page import esc, table, td, th
from sim.views.report.reading import ReportError
from sim.views.report.run_data import RunData
from sim.views.report.words import Stat, figure_value, stat_cell
from sim.views.style import METRIC_LABELS, segment_label

if TYPE_CHECKING:
    from sim.calibration.panel import Check, Target


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


@dataclass(frozen=True)
class CheckResult:
    """A numeric published check (:class:`sim.calibration.panel.Check`) and the run's value."""

    check: Check
    simulated: Stat

    @property
    def within(self) -> bool:
        """Whether the simulated mean lies within the check's bounds."""
        return self.check.within(self.simulated.mean)


@dataclass(frozen=True)
class Published:
    """What a targets file holds for a run report: the panel the model is fitted to
    (``targets``) and the published figures it is only checked against (``checks``)."""

    targets: tuple[Target, ...] = ()
    checks: tuple[Check, ...] = ()

    def growths(self, metric: str) -> list[Target]:
        """The growth targets (``relative_to``) of ``metric`` over all enterprises, in the
        panel's order."""
        return [t for t in self.targets if t.metric == metric and t.segment == "all"
                and t.relative_to is not None]

    def numeric_check(self, metric: str) -> Check | None:
        """The first numeric check of ``metric`` over all enterprises."""
        return next((c for c in self.checks if c.metric == metric and c.segment == "all"), None)

    @property
    def findings(self) -> list[Check]:
        """The checks in words (no metric): published findings set beside the run's numbers."""
        return [check for check in self.checks if not check.numeric]


def load_panel(path: str | Path | None) -> Published:
    """What the targets file at ``path`` holds for a report (:func:`sim.calibration.load_targets`);
    nothing without a path. A :class:`ReportError` when the file is missing or not valid."""
    if path is None:
        return Published()
    from sim.calibration import load_targets
    from sim.core.settings_file import ScenarioError

    try:
        loaded = load_targets(path)
    except ScenarioError as error:
        raise ReportError(str(error)) from None
    return Published(tuple(loaded.targets), tuple(loaded.checks))


def target_value(run: RunData, target: Target) -> Stat | None:
    """The run's value of a panel entry: the summary's figure, or for a growth the ratio of the
    two quarters within each replication (:meth:`sim.calibration.panel.Target.simulated`)."""
    if target.relative_to is None:
        return run.stat(target.metric, target.quarter, target.segment)
    return Stat.of(target.simulated(lambda quarter: run.values(target.metric, quarter,
                                                               target.segment)))


def target_checks(run: RunData, targets: Sequence[Target]) -> list[TargetCheck]:
    """The targets the run can be judged on (its metric, segment and quarter are in the run)."""
    checks = []
    for target in targets:
        simulated = target_value(run, target)
        if simulated is not None:
            checks.append(TargetCheck(target, simulated))
    return checks


def check_results(run: RunData, checks: Sequence[Check]) -> list[CheckResult]:
    """The numeric checks the run can be judged on, with the run's value of each."""
    results = []
    for check in checks:
        if check.numeric and (simulated := run.stat(check.metric, check.quarter,
                                                    check.segment)) is not None:
            results.append(CheckResult(check, simulated))
    return results


def targets_sentence(checks: Sequence[TargetCheck], results: Sequence[CheckResult] = ()) -> str:
    """How many calibration targets and published checks the run meets, the misses in numbers."""
    if not checks and not results:
        return ""
    misses = [check for check in checks if not check.within]
    text = (f"<b>Calibration.</b> {len(checks) - len(misses)} of {len(checks)} targets (survey "
            f"measurements and the article's figures) are met within their tolerance")
    if misses:
        text += ". Missed: " + "; ".join(
            f"{esc(_target_label(c.target))} at {c.target.quarter}, "
            f"{figure_value(c.simulated.mean, c.target.metric)} simulated against "
            f"{figure_value(c.target.value, c.target.metric)} observed" for c in misses)
    if results:
        inside = sum(result.within for result in results)
        text += (f". {inside} of {len(results)} published figures the model is not fitted to "
                 "lie within their range")
    return text + ' (see <a href="#targets">Targets</a>).'


def _target_label(target: Target | Check) -> str:
    what = METRIC_LABELS.get(target.metric, target.metric)
    if getattr(target, "relative_to", None) is not None:
        what += f", growth since {target.relative_to}"
    return what if target.segment == "all" else f"{what} ({segment_label(target.segment)})"


def _source(entry: Target | Check) -> str:
    """What an entry counted, its source and how far to trust it, as a table cell's HTML."""
    source = esc(entry.source or "")
    if entry.counts:
        source = f"{esc(entry.counts)}. {source}"
    if entry.confidence == "claimed":
        source += " <span class=\"note\">(a claim: no primary source found)</span>"
    elif entry.confidence:
        source += f" <span class=\"note\">(confidence: {esc(entry.confidence)})</span>"
    return source


def _verdict(within: bool) -> str:
    return '<span class="ok">within</span>' if within else '<span class="miss">outside</span>'


def targets_section(run: RunData, checks: Sequence[TargetCheck],
                    results: Sequence[CheckResult] = ()) -> str:
    """The panel's table (targets against the run) and the published checks' table."""
    parts = [_panel_table(checks)] if checks else []
    if results:
        parts.append(_checks_table(results))
    return "\n".join(parts)


def _panel_table(checks: Sequence[TargetCheck]) -> str:
    rows = []
    for check in checks:
        t, s = check.target, check.simulated
        tolerance = (f" &plusmn; {figure_value(t.tolerance, t.metric)}"
                     if t.kind == "estimate" else "")
        observed = ({"upper_bound": "at most ", "lower_bound": "at least "}.get(t.kind, "")
                    + figure_value(t.value, t.metric))
        simulated = (f"{figure_value(s.mean, t.metric)}<span class=\"interval\">"
                     f"{figure_value(s.p5, t.metric)}&ndash;{figure_value(s.p95, t.metric)}</span>")
        rows.append([td(esc(_target_label(t)), "text"), td(esc(t.quarter)),
                     td(observed + tolerance), td(simulated),
                     td(_verdict(check.within)), td(_source(t), "text")])
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


def _checks_table(results: Sequence[CheckResult]) -> str:
    """The numeric published checks: the published range, the run's value, within or not."""
    rows = []
    for result in results:
        c, s = result.check, result.simulated
        published = bounds_text(c)
        rows.append([td(esc(_target_label(c)), "text"), td(esc(c.quarter)), td(published),
                     td(stat_cell(s)), td(_verdict(result.within)),
                     td(f"{esc(c.statement)}. {_source(c)}", "text")])
    header = [[th("Check", cls="text"), th("Quarter"), th("Published"), th("Simulated"),
               th("Range"), th("Source", cls="text")]]
    return ("<h3>Published figures the model is not fitted to</h3><p>The fit leaves these out; "
            "they test the model where it was not tuned. <b>Range</b> says whether the simulated "
            "mean lies within the published range.</p>" + table(header, rows))


def bounds_text(check: Check) -> str:
    """A numeric check's published range in words: "3.44&ndash;30", "at least 2"."""
    if check.low is not None and check.high is not None:
        return f"{check.low:g}&ndash;{check.high:g}"
    return f"at least {check.low:g}" if check.low is not None else f"at most {check.high:g}"
