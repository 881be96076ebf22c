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
    "prices": ("Closed API prices", "USD per million tokens"),
    "hosting": ("GPU rent", "USD per GPU-hour"),
    "growth": ("Token demand and serving efficiency", "index, 2024Q1 = 1"),
    "tooling": ("Open tooling maturity", "index 0..1"),
    "regulation": ("Data-sovereignty pressure", "index 0..1"),
}


#: The range of the prices and rents (USD): from a trillionth of a dollar, effectively free (the
#: baseline's price of a fixed capability, halving every year from 2026, reaches it only after
#: 2055), to 10,000, over 30 times the dearest list price per million tokens ever charged and
#: over 1,000 times a GPU-hour's rent. The model divides by prices (break-even volumes, the
#: frontier's premium over a fixed capability), so they stay away from 0.
USD_LOW, USD_HIGH = 1e-12, 1e4
#: The range of the indices relative to 2024Q1 (serving efficiency, tokens per workload): a
#: thousandth to a million, which tokens per workload growing 50% a year from 2030 reach only
#: after 2050. Workloads' tokens are the token index raised to their class's demand elasticity
#: (at most 4), and GPU-hours divide by the efficiency index, so both ends bound a volume.
INDEX_LOW, INDEX_HIGH = 1e-3, 1e6


@dataclass(frozen=True)
class SignalSpec:
    """One signal.

    ``low``..``high`` is the range every value of the path must lie in (a scenario whose path
    leaves it is an error, never clamped; noise is folded back into it, see
    :func:`sim.core.paths.with_noise`). Both ends are finite, so every path is: the model
    raises indices to powers and divides by prices and indices. A ``positive`` signal is a
    positive quantity (a price, an index) whose ``low`` is above 0: a floor far below any
    plausible value, which keeps the ratios and logarithms the model takes finite. A ``regional``
    signal has one path per region (``signals.<name>.<region>``). ``panel`` names the panel of
    the signals figure that draws it (:data:`SIGNAL_PANELS`). The run report's caption of that
    figure says how the signal moved over the horizon when ``caption`` names it (a noun phrase;
    None: not mentioned), with ``digits`` decimals (:meth:`formatted`), for a regional signal in
    ``caption_region``.
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

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"signal {self.name}: its range must be finite, low below high")
        if self.positive and self.low <= 0:
            raise ValueError(f"signal {self.name}: a positive signal's low must be above 0")

    @property
    def range_text(self) -> str:
        """The allowed range in words, for error messages: "within 0..1"."""
        return f"within {self.low:g}..{self.high:g}"

    @property
    def width(self) -> float:
        """``high - low``: the largest standard deviation additive noise may have."""
        return self.high - self.low

    def formatted(self, value: float) -> str:
        """``value`` with ``digits`` decimals, or with two significant digits where those
        decimals would show a positive price as 0."""
        text = f"{value:.{self.digits}f}"
        return f"{value:.2g}" if value != 0 and float(text) == 0 else text

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies in the signal's range (NaN never does)."""
        return bool(self.low <= value <= self.high)


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
        name="frontier_price_usd_per_mtok", label="Frontier closed price",
        unit="USD per million tokens", low=USD_LOW, high=USD_HIGH, positive=True, panel="prices",
        description="list price of the flagship closed tier that work needing the frontier "
                    "buys, blended 3 input tokens to 1 output token; it barely moves while the "
                    "price of a fixed capability collapses",
        caption="the frontier closed price", digits=2),
    SignalSpec(
        name="fixed_capability_price_usd_per_mtok", label="Price of a fixed capability",
        unit="USD per million tokens", low=USD_LOW, high=USD_HIGH, positive=True, panel="prices",
        description="price of a fixed capability, GPT-4 level (the frontier of early 2024), "
                    "blended 3 to 1: what routine work, whose needs do not grow, pays; it falls "
                    "about 10x a year",
        caption="the price of a fixed capability", digits=2),
    SignalSpec(
        name="gpu_rent_usd_per_hour", label="GPU rent", unit="USD per GPU-hour",
        low=USD_LOW, high=USD_HIGH, positive=True, panel="hosting",
        description="rent of one data-centre inference GPU (H100 class) for an hour: the "
                    "hardware side of self-hosting",
        caption="GPU rent", digits=2),
    SignalSpec(
        name="serving_efficiency_index", label="Tokens served per GPU-hour",
        unit="index, 2024Q1 = 1", low=INDEX_LOW, high=INDEX_HIGH, positive=True, panel="growth",
        description="tokens one GPU serves in an hour relative to 2024Q1 (newer hardware, "
                    "serving software)"),
    SignalSpec(
        name="token_demand_index", label="Tokens per workload", unit="index, 2024Q1 = 1",
        low=INDEX_LOW, high=INDEX_HIGH, positive=True, panel="growth",
        description="tokens a workload uses relative to 2024Q1: longer prompts, reasoning and "
                    "agents (each class grows as this index raised to its demand elasticity)",
        caption="tokens per workload", digits=1),
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
