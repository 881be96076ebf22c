"""The metric table: every quantity a run records each quarter, declared once.

Each :class:`MetricSpec` says what the metric measures, how it is labelled, whether it is a
share (shown in percent), and which segments it has. The collector
(:mod:`sim.core.metrics`), the tidy tables, sweep outcomes and calibration targets (which check
metric names against :data:`METRIC_NAMES`), and every label, figure and report
(:mod:`sim.views`) derive from :data:`METRICS`. Names are written out in full so that a search
for a metric finds where it is declared. The signal metrics (``signal_<name>``) come from the
signal table (:data:`sim.core.signal_table.SIGNALS`), one per signal.

Segments: ``workload`` metrics have ``all`` and every sector, region, size and workload class;
``enterprise`` metrics every sector, region and size; ``event`` metrics one segment per kind of
vendor event; signals ``all`` (or one segment per region for a regional signal).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.signal_table import SIGNALS

#: How a share of workloads by deployment is weighted: by count, by tokens, by spend.
SHARE_WEIGHTINGS = ("workload", "volume", "spend")


@dataclass(frozen=True)
class MetricSpec:
    """One metric.

    ``weighting`` and ``deployment`` say which share of workloads a share-by-deployment metric
    is (``deployment`` "open_any" counts both open deployments); ``stack`` which share of
    enterprises a stack share is. ``unit`` is "share" for shares (0..1, shown in percent).
    """

    name: str
    label: str
    unit: str
    segments: str
    description: str
    weighting: str | None = None
    deployment: str | None = None
    stack: str | None = None

    @property
    def is_share(self) -> bool:
        return self.unit == "share"


def _share(name: str, weighting: str, deployment: str, label: str, description: str):
    return MetricSpec(name, label, "share", "workload", description, weighting=weighting,
                      deployment=deployment)


_COUNTED = "share of deployed workloads, by count,"
_TOKENS = "share of the token volume of deployed workloads"
_SPEND = ("share of what enterprises pay for deployed workloads (API price times tokens for "
          "closed work; self-hosted cost times tokens plus the open-platform cost for open work)")

METRICS: tuple[MetricSpec, ...] = (
    _share("workload_share_closed", "workload", "closed", "Workloads on closed APIs",
           f"{_COUNTED} on closed APIs"),
    _share("workload_share_open", "workload", "open", "Workloads on open weights, self-hosted",
           f"{_COUNTED} on self-hosted open weights"),
    _share("workload_share_open_finetuned", "workload", "open_finetuned",
           "Workloads on fine-tuned open weights", f"{_COUNTED} on fine-tuned open weights"),
    _share("workload_share_open_any", "workload", "open_any", "Workloads on open weights (any)",
           f"{_COUNTED} on open weights, fine-tuned or not"),
    _share("volume_share_closed", "volume", "closed", "Token volume on closed APIs",
           f"{_TOKENS} on closed APIs"),
    _share("volume_share_open", "volume", "open", "Token volume on open weights, self-hosted",
           f"{_TOKENS} on self-hosted open weights"),
    _share("volume_share_open_finetuned", "volume", "open_finetuned",
           "Token volume on fine-tuned open weights", f"{_TOKENS} on fine-tuned open weights"),
    _share("volume_share_open_any", "volume", "open_any", "Token volume on open weights (any)",
           f"{_TOKENS} on open weights, fine-tuned or not"),
    _share("spend_share_closed", "spend", "closed", "Spend on closed APIs",
           f"{_SPEND}: closed APIs"),
    _share("spend_share_open", "spend", "open", "Spend on open weights, self-hosted",
           f"{_SPEND}: self-hosted open weights"),
    _share("spend_share_open_finetuned", "spend", "open_finetuned",
           "Spend on fine-tuned open weights", f"{_SPEND}: fine-tuned open weights"),
    _share("spend_share_open_any", "spend", "open_any", "Spend on open weights (any)",
           f"{_SPEND}: open weights, fine-tuned or not"),
    MetricSpec("cost_per_mtok", "Cost per million tokens", "USD per million tokens", "workload",
               "mean token cost paid per million tokens over deployed workloads (platform cost "
               "excluded)"),
    MetricSpec("workloads", "Deployed workloads", "count", "workload",
               "number of deployed workloads"),
    MetricSpec("stack_share_closed", "Enterprises closed only", "share", "enterprise",
               "share of enterprises using AI whose workloads all run on closed APIs",
               stack="closed"),
    MetricSpec("stack_share_open", "Enterprises open only", "share", "enterprise",
               "share of enterprises using AI whose workloads all run on open weights",
               stack="open"),
    MetricSpec("stack_share_hybrid", "Enterprises hybrid", "share", "enterprise",
               "share of enterprises using AI running both closed and open workloads",
               stack="hybrid"),
    MetricSpec("plans_to_expand_open", "Enterprises planning to expand open use", "share",
               "enterprise",
               "share of enterprises already using AI whose preferred allocation runs more open "
               "workloads than they run now"),
    MetricSpec("switches", "Stack switches", "count", "enterprise",
               "enterprises that changed stack this quarter"),
    MetricSpec("enterprises_using_ai", "Enterprises using AI", "count", "enterprise",
               "enterprises with at least one deployed workload"),
    MetricSpec("vendor_events", "Vendor events", "count", "event",
               "vendor events this quarter (price changes, deprecations, policy changes, "
               "withdrawals)"),
) + tuple(
    MetricSpec(spec.metric, spec.label, spec.unit, "region" if spec.regional else "signal",
               f"the signal {spec.name}: {spec.description}")
    for spec in SIGNALS
)

METRIC_BY_NAME = {spec.name: spec for spec in METRICS}
METRIC_NAMES = tuple(METRIC_BY_NAME)


def share_metric(weighting: str, deployment: str) -> MetricSpec:
    """The share of workloads on ``deployment`` weighted by ``weighting``."""
    return next(spec for spec in METRICS
                if spec.weighting == weighting and spec.deployment == deployment)


def stack_metric(stack: str) -> MetricSpec:
    """The share of enterprises running ``stack``."""
    return next(spec for spec in METRICS if spec.stack == stack)
