"""The run report's trend figures: every PNG of the run's plots folder, the known ones in
reading order with captions that say, in the run's own numbers, what to look at.
"""

from __future__ import annotations

from sim.views.report.page import esc, figure, other_figures
from sim.views.report.run_data import RunData
from sim.views.report.run_money import money_caption
from sim.views.report.run_targets import Published
from sim.views.report.words import Stat, join_words, pct
from sim.views.signal_grid import signal_panels


def trend_figures(run: RunData, published: Published | None = None) -> str:
    """Every PNG of the run's plots folder: the known ones in reading order with captions that
    point at what matters (the money figure's beside the ``published`` figures), then any
    others."""
    known = [
        (
            "workload_shares.png",
            "Share of deployed enterprise workloads by deployment",
            _caption_workloads,
        ),
        ("stack_shares.png", "Enterprises by AI stack", _caption_stacks),
        ("plans_to_expand.png", "Enterprises planning to expand open-source use", _caption_plans),
        ("workload_classes.png", "Deployment by workload class", _caption_classes),
        ("signals.png", "The forces the scenario sets", _caption_signals),
        ("money_and_tokens.png", "Money and tokens: spend, tokens, prices and break-even volumes",
         lambda run: f"{money_caption(run, published or Published())} {band_note(run)}"),
    ]
    parts = []
    for name, alt, caption in known:
        png = run.png(name)
        if png is not None:
            parts.append(figure(png, alt, caption(run)))
    parts += other_figures(run.folder / "plots", {name for name, _, _ in known}, band_note(run))
    if not parts:
        return "<p>This run folder holds no plots (it was run without them).</p>"
    return "\n".join(parts)


def band_note(run: RunData) -> str:
    if run.replications > 1:
        return (f"Lines are means over {run.replications} replications; shaded bands the range "
                "of the middle 90% of replications.")
    return "One replication, so no uncertainty band."


def _path(run: RunData, metric: str, segment: str = "all") -> tuple[Stat | None, Stat | None]:
    return run.stat(metric, run.start, segment), run.stat(metric, run.end, segment)


def _from_to(run: RunData, metric: str, segment: str = "all", digits: int = 0) -> str:
    first, last = _path(run, metric, segment)
    if first is None or last is None:
        return ""
    return f"from {pct(first.mean, digits)} in {run.start} to {pct(last.mean, digits)} in {run.end}"


def _caption_workloads(run: RunData) -> str:
    closed = _from_to(run, "workload_share_closed")
    _, open_end = _path(run, "workload_share_open")
    _, tuned_end = _path(run, "workload_share_open_finetuned")
    text = "<b>Which models run enterprise workloads.</b> "
    if closed:
        text += f"Look at the blue line: closed APIs' share of deployed workloads goes {closed}. "
    if open_end and tuned_end:
        text += (f"The orange and red lines are open weights: by {run.end} self-hosted as they "
                 f"come {pct(open_end.mean)}, fine-tuned on the enterprise's own data "
                 f"{pct(tuned_end.mean)}. ")
    return text + band_note(run)


def _caption_stacks(run: RunData) -> str:
    hybrid = _from_to(run, "stack_share_hybrid")
    closed = _from_to(run, "stack_share_closed")
    _, open_end = _path(run, "stack_share_open")
    text = "<b>How enterprises combine them.</b> "
    if hybrid:
        text += f"Look at the green line: enterprises running a hybrid stack go {hybrid}"
        text += f", while closed-only enterprises (blue) go {closed}. " if closed else ". "
    if open_end:
        text += f"Open-only enterprises (orange) are {pct(open_end.mean)} in {run.end}. "
    return text + band_note(run)


def _caption_plans(run: RunData) -> str:
    plans = _from_to(run, "plans_to_expand_open")
    text = ("<b>Intentions.</b> The share of enterprises whose preferred portfolio holds more "
            "open workloads than they run now")
    text += f" goes {plans}. " if plans else ". "
    return (
        text
        + (
            "Intentions lead adoption: switching costs and infrequent reviews delay the "
            "move, so a rise here shows up later in the two figures above. "
        )
        + band_note(run)
    )


def _caption_classes(run: RunData) -> str:
    ranked = []
    for segment in run.segments("class"):
        stat = run.stat("workload_share_open_any", run.end, segment)
        if stat is not None:
            ranked.append((stat.mean, run.segment_label(segment).lower()))
    text = ("<b>Where open weights win.</b> One panel per workload class; the same colours as "
            "the first figure. ")
    if len(ranked) >= 2:
        ranked.sort()
        (low, low_name), (high, high_name) = ranked[0], ranked[-1]
        text += (f"Look for the panels where the orange and red lines rise: by {run.end} open "
                 f"weights run {pct(high)} of {esc(high_name)} workloads but only "
                 f"{pct(low)} of {esc(low_name)} workloads. ")
    return text + band_note(run)


def _caption_signals(run: RunData) -> str:
    """How the signals the table captions move over the horizon, each pointed at by its panel."""
    moves = []
    for panel in signal_panels(set(run.frame["metric"].unique())):
        for spec in panel.signals:
            if spec.caption is None:
                continue
            segment = f"region={spec.caption_region}" if spec.regional else "all"
            first, last = _path(run, spec.metric, segment)
            if first is None or last is None:
                continue
            where = f" ({panel.position})" if panel.position else ""
            moves.append(f"{esc(spec.caption)}{where} goes from {spec.formatted(first.mean)} to "
                         f"{spec.formatted(last.mean)} ({esc(spec.unit)})")
    text = ("<b>The forces behind the choice.</b> These paths are inputs the scenario sets, not "
            "results of the model")
    if moves:
        text += f": between {run.start} and {run.end} " + join_words(moves)
    return f"{text}. {band_note(run)}"
