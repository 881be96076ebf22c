"""The metric table: every quantity a run records each quarter, declared once.

Each :class:`MetricSpec` says what the metric measures, how it is labelled, whether it is a
share (shown in percent), and which segments it has. The collector
(:mod:`sim.core.metrics`), the tidy tables, sweep outcomes and calibration targets (which check
metric names against :data:`METRIC_NAMES`), and every label, figure and report
(:mod:`sim.views`) derive from :data:`METRICS`. Names are written out in full so that a search
for a metric finds where it is declared. The signal metrics (``signal_<name>``) come from the
signal table (:data:`sim.core.signal_table.SIGNALS`), one per signal.

``observable`` says whether a survey could measure the metric: shares of workloads, tokens or
spend by deployment, stack shares, plans to expand, spend and token totals and prices paid are;
signals, switches, vendor events, break-even volumes (a construct of the model), the count of
workloads and of enterprises using AI are not. Signposts (:mod:`sim.analysis.signposts`) look
only at observable metrics (:data:`OBSERVABLE_METRICS`).

Segments: ``workload`` metrics have ``all`` and every sector, region, size and workload class;
``enterprise`` metrics every sector, region and size; ``event`` metrics one segment per kind of
vendor event; signals ``all`` (or one segment per region for a regional signal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.core.signal_table import SIGNALS

#: The families of metrics by deployment: shares of workloads weighted by count, by tokens and
#: by spend; totals of spend and tokens; the price paid per million tokens.
SHARE_FAMILIES = ("workload_share", "volume_share", "spend_share")
TOTAL_FAMILIES = ("spend_usd", "tokens_mtok", "price_paid_usd_per_mtok")
#: Closed work "needing the frontier", whose price paid is reported on its own: frontier need at
#: least this (coding and agents, exploratory work).
FRONTIER_WORK_NEED = 0.75


@dataclass(frozen=True)
class MetricSpec:
    """One metric.

    ``family`` and ``deployment`` say which metric by deployment it is (``deployment``
    "open_any" counts both open deployments); ``stack`` which share of enterprises a stack
    share is. ``unit`` is "share" for shares (0..1, shown in percent); money and token totals
    are of the market the population stands for (``population.represents``). ``observable``
    (given by every row, keyword only): whether a survey could measure it.
    ``may_be_missing``: the metric has no value (NaN) where there is nothing to measure, such as
    a share of a segment without workloads or a break-even that most never reach; the others
    always have a value in each of their segments, and no metric is ever infinite
    (:func:`sim.core.metrics.non_finite_value`).
    """

    name: str
    label: str
    unit: str
    segments: str
    description: str
    family: str | None = None
    deployment: str | None = None
    stack: str | None = None
    observable: bool = field(kw_only=True)
    may_be_missing: bool = False

    @property
    def is_share(self) -> bool:
        return self.unit == "share"

    @property
    def question(self) -> str:
        """The survey question that measures the metric: one per family of metrics by
        deployment (a survey of workloads by deployment gives every workload share at once),
        one for the stack shares, else the metric itself."""
        return self.family or ("stack_share" if self.stack else self.name)


def _share(name: str, family: str, deployment: str, label: str, description: str):
    return MetricSpec(name, label, "share", "workload", description, family=family,
                      deployment=deployment, observable=True, may_be_missing=True)


def _total(name: str, family: str, deployment: str, label: str, unit: str, description: str):
    """A total of the market; the price paid per million tokens (spend over tokens) has no
    value where there are no tokens."""
    return MetricSpec(name, label, unit, "workload", description, family=family,
                      deployment=deployment, observable=True,
                      may_be_missing=family == "price_paid_usd_per_mtok")


_COUNTED = "share of deployed workloads, by count,"
_TOKENS = "share of the token volume of deployed workloads"
_SPEND = ("share of what enterprises pay for deployed workloads (API price times tokens for "
          "closed work; self-hosted cost times tokens plus the open-platform cost for open work)")

METRICS: tuple[MetricSpec, ...] = (
    _share("workload_share_closed", "workload_share", "closed", "Workloads on closed APIs",
           f"{_COUNTED} on closed APIs"),
    _share("workload_share_open", "workload_share", "open",
           "Workloads on open weights, self-hosted",
           f"{_COUNTED} on self-hosted open weights"),
    _share("workload_share_open_finetuned", "workload_share", "open_finetuned",
           "Workloads on fine-tuned open weights", f"{_COUNTED} on fine-tuned open weights"),
    _share("workload_share_open_any", "workload_share", "open_any",
           "Workloads on open weights (any)",
           f"{_COUNTED} on open weights, fine-tuned or not"),
    _share("volume_share_closed", "volume_share", "closed", "Token volume on closed APIs",
           f"{_TOKENS} on closed APIs"),
    _share("volume_share_open", "volume_share", "open", "Token volume on open weights, self-hosted",
           f"{_TOKENS} on self-hosted open weights"),
    _share("volume_share_open_finetuned", "volume_share", "open_finetuned",
           "Token volume on fine-tuned open weights", f"{_TOKENS} on fine-tuned open weights"),
    _share("volume_share_open_any", "volume_share", "open_any",
           "Token volume on open weights (any)",
           f"{_TOKENS} on open weights, fine-tuned or not"),
    _share("spend_share_closed", "spend_share", "closed", "Spend on closed APIs",
           f"{_SPEND}: closed APIs"),
    _share("spend_share_open", "spend_share", "open", "Spend on open weights, self-hosted",
           f"{_SPEND}: self-hosted open weights"),
    _share("spend_share_open_finetuned", "spend_share", "open_finetuned",
           "Spend on fine-tuned open weights", f"{_SPEND}: fine-tuned open weights"),
    _share("spend_share_open_any", "spend_share", "open_any", "Spend on open weights (any)",
           f"{_SPEND}: open weights, fine-tuned or not"),
    _total("spend_usd_closed", "spend_usd", "closed", "Spend on closed APIs, USD",
           "USD per quarter", "what enterprises pay closed API vendors for tokens"),
    _total("spend_usd_open", "spend_usd", "open", "Spend on self-hosted open weights, USD",
           "USD per quarter", "what self-hosting open weights costs: GPU rent, the engineers "
                              "of each workload and the platform's team"),
    _total("spend_usd_open_finetuned", "spend_usd", "open_finetuned",
           "Spend on fine-tuned open weights, USD", "USD per quarter",
           "what self-hosting fine-tuned open weights costs, fine-tuning runs included"),
    _total("tokens_mtok_closed", "tokens_mtok", "closed", "Tokens on closed APIs",
           "million tokens per quarter", "tokens processed by closed APIs"),
    _total("tokens_mtok_open", "tokens_mtok", "open", "Tokens on self-hosted open weights",
           "million tokens per quarter", "tokens processed by self-hosted open weights"),
    _total("tokens_mtok_open_finetuned", "tokens_mtok", "open_finetuned",
           "Tokens on fine-tuned open weights", "million tokens per quarter",
           "tokens processed by fine-tuned open weights"),
    _total("price_paid_usd_per_mtok_closed", "price_paid_usd_per_mtok", "closed",
           "Price paid per million tokens, closed APIs", "USD per million tokens",
           "closed API spend over closed tokens: the average price paid, every tier"),
    _total("price_paid_usd_per_mtok_open", "price_paid_usd_per_mtok", "open",
           "Cost per million tokens, self-hosted open weights", "USD per million tokens",
           "self-hosting spend (GPUs, engineers, platform) over self-hosted tokens"),
    _total("price_paid_usd_per_mtok_open_finetuned", "price_paid_usd_per_mtok", "open_finetuned",
           "Cost per million tokens, fine-tuned open weights", "USD per million tokens",
           "fine-tuned self-hosting spend over its tokens"),
    MetricSpec("price_paid_usd_per_mtok_frontier_work",
               "Price paid per million tokens, closed work needing the frontier",
               "USD per million tokens", "workload",
               "closed API spend over tokens of closed work whose frontier need is at least "
               f"{FRONTIER_WORK_NEED} (coding and agents, exploratory work): the frontier "
               "tier's price as buyers pay it", observable=True, may_be_missing=True),
    MetricSpec("workloads", "Deployed workloads", "count", "workload",
               "number of deployed workloads", observable=False),
    MetricSpec("stack_share_closed", "Enterprises closed only", "share", "enterprise",
               "share of enterprises using AI whose workloads all run on closed APIs",
               stack="closed", observable=True, may_be_missing=True),
    MetricSpec("stack_share_open", "Enterprises open only", "share", "enterprise",
               "share of enterprises using AI whose workloads all run on open weights",
               stack="open", observable=True, may_be_missing=True),
    MetricSpec("stack_share_hybrid", "Enterprises hybrid", "share", "enterprise",
               "share of enterprises using AI running both closed and open workloads",
               stack="hybrid", observable=True, may_be_missing=True),
    MetricSpec("plans_to_expand_open", "Enterprises planning to expand open use", "share",
               "enterprise",
               "share of enterprises already using AI whose preferred allocation runs more open "
               "workloads than they run now", observable=True, may_be_missing=True),
    MetricSpec("switches", "Stack switches", "count", "enterprise",
               "enterprises that changed stack this quarter", observable=False),
    MetricSpec("enterprises_using_ai", "Enterprises using AI", "count", "enterprise",
               "enterprises with at least one deployed workload", observable=False),
    MetricSpec("break_even_mtok_per_month_routine",
               "Break-even volume of a routine workload", "million tokens per month",
               "enterprise",
               "median over enterprises using AI of the monthly tokens above which self-hosting a "
               "workload of frontier need 0 costs less than the API, its open platform in place "
               "(the cheaper of dedicated GPUs and a serverless provider's tokens, and the "
               "workload's engineers); none where most never break even", observable=False,
               may_be_missing=True),
    MetricSpec("break_even_mtok_per_month_frontier",
               "Break-even volume of a frontier workload", "million tokens per month",
               "enterprise",
               "the same for a workload of frontier need 1 (the large open model, the frontier "
               "price)", observable=False, may_be_missing=True),
    MetricSpec("vendor_events", "Vendor events", "count", "event",
               "vendor events this quarter (price changes, deprecations, policy changes, "
               "withdrawals)", observable=False),
) + tuple(
    MetricSpec(spec.metric, spec.label, spec.unit, "region" if spec.regional else "signal",
               f"the signal {spec.name}: {spec.description}", observable=False)
    for spec in SIGNALS
)

METRIC_BY_NAME = {spec.name: spec for spec in METRICS}
METRIC_NAMES = tuple(METRIC_BY_NAME)
#: The metrics a survey could measure, in the table's order.
OBSERVABLE_METRICS = tuple(spec.name for spec in METRICS if spec.observable)


def deployment_metric(family: str, deployment: str) -> MetricSpec:
    """The metric of ``family`` (:data:`SHARE_FAMILIES`, :data:`TOTAL_FAMILIES`) for
    ``deployment``."""
    return next(spec for spec in METRICS
                if spec.family == family and spec.deployment == deployment)


def stack_metric(stack: str) -> MetricSpec:
    """The share of enterprises running ``stack``."""
    return next(spec for spec in METRICS if spec.stack == stack)
