"""The signal table: every exogenous signal of the model, declared once.

A signal is one of the article's forces as a quarterly path in its own units (the benchmark gap
in MMLU points, an index of tooling maturity, ...). Everything else about signals derives from
:data:`SIGNALS`: the scenario schema's ``signals`` block and its range checks
(:mod:`sim.core.schema`), the paths the model runs on (:mod:`sim.core.signals`), the
``signal_<name>`` metrics (:mod:`sim.core.metric_table`), and the signals figure, its labels and
the run report's caption (:mod:`sim.views`). Adding a signal means adding a row here, giving its
path in a scenario file, and using it in a mechanism, with that mechanism's behavioural test.

This module imports nothing but the standard library, so any layer may read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Panels of the run's signals figure, in order, with their titles and y-axis labels.
SIGNAL_PANELS = {
    "capability": ("Capability gap, closed minus open", "points"),
    "parity": ("Open capability on typical tasks", "share of closed"),
    "prices": ("Prices and costs", "index, 2024Q1 = 1"),
    "tooling": ("Open tooling maturity", "index 0..1"),
    "regulation": ("Data-sovereignty pressure", "index 0..1"),
}


@dataclass(frozen=True)
class SignalSpec:
    """One signal.

    ``low``..``high`` is the range every value of the path must lie in (a scenario whose path
    leaves it is an error, never clamped); ``positive`` excludes ``low`` itself. A ``regional``
    signal has one path per region (``signals.<name>.<region>``). ``panel`` names the panel of
    the signals figure that draws it (:data:`SIGNAL_PANELS`). The run report's caption of that
    figure says how the signal moved over the horizon when ``caption`` names it (a noun phrase;
    None: not mentioned), with ``digits`` decimals, for a regional signal in ``caption_region``.
    """

    name: str
    label: str
    unit: str
    low: float
    high: float
    panel: str
    description: str
    positive: bool = False
    regional: bool = False
    caption: str | None = None
    digits: int = 2
    caption_region: str = "eu"

    @property
    def metric(self) -> str:
        """The metric that records the signal's value each quarter."""
        return f"signal_{self.name}"

    @property
    def range_text(self) -> str:
        """The allowed range in words, for error messages: "within 0..1", "above 0"."""
        if math.isinf(self.high):
            return f"above {self.low:g}" if self.positive else f"at least {self.low:g}"
        return f"within {self.low:g}..{self.high:g}"

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies in the signal's range (NaN never does)."""
        above = value > self.low if self.positive else value >= self.low
        return bool(above and value <= self.high)


SIGNALS: tuple[SignalSpec, ...] = (
    SignalSpec(
        name="benchmark_gap", label="Benchmark gap (MMLU)", unit="MMLU points",
        low=0.0, high=100.0, panel="capability",
        description="best-closed minus best-open MMLU points (17.5 early 2024 to under 1 by the "
                    "end of 2025, the article's claim)",
        caption="the benchmark gap", digits=1),
    SignalSpec(
        name="task_parity", label="Task parity", unit="share of closed performance",
        low=0.0, high=1.0, panel="parity",
        description="open's share of closed performance on typical enterprise tasks (the "
                    "article's 85-90%)"),
    SignalSpec(
        name="frontier_gap", label="Frontier gap (complex reasoning)", unit="points",
        low=0.0, high=100.0, panel="capability",
        description="closed models' lead on complex multi-step reasoning, points"),
    SignalSpec(
        name="closed_price_index", label="Closed API price", unit="index, 2024Q1 = 1",
        low=0.0, high=math.inf, positive=True, panel="prices",
        description="closed API price per token at fixed capability, 1 at the horizon start"),
    SignalSpec(
        name="open_cost_ratio", label="Self-hosted cost ratio", unit="ratio",
        low=0.0, high=math.inf, positive=True, panel="prices",
        description="self-hosted variable cost per token over the closed price at the start "
                    "(0.2-0.4: the article's 60-80% lower)"),
    SignalSpec(
        name="hardware_cost_index", label="Inference hardware cost", unit="index, 2024Q1 = 1",
        low=0.0, high=math.inf, positive=True, panel="prices",
        description="inference hardware cost, 1 at the horizon start; scales self-hosted cost"),
    SignalSpec(
        name="tooling_maturity", label="Open tooling maturity", unit="index 0..1",
        low=0.0, high=1.0, panel="tooling",
        description="maturity of open fine-tuning and deployment tooling (the article's first "
                    "thing to watch)",
        caption="tooling maturity"),
    SignalSpec(
        name="regulatory_pressure", label="Data-sovereignty pressure", unit="index 0..1",
        low=0.0, high=1.0, panel="regulation", regional=True,
        description="data-sovereignty pressure by region (the EU AI Act's dates, DORA)",
        caption="EU regulatory pressure"),
)

SIGNAL_BY_NAME = {spec.name: spec for spec in SIGNALS}
