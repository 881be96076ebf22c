"""Tests for sim.views.figures (band numbers; the figures plot_run draws, read back line by line
against the frame; the signals figure following the signal table) and the palette of
sim.views.style.

The test frame holds every metric of the metric table in its segments (every workload class and
region, one sector), so a new metric, class, region or signal is drawn and checked without
editing a test.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import zlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.core.kernel import OPTIONS, STACKS
from sim.core.metric_table import METRIC_BY_NAME, METRICS, deployment_metric, stack_metric
from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES
from sim.core.signal_table import SIGNAL_BY_NAME, SIGNAL_PANELS, SIGNALS
from sim.views import signal_grid, style
from sim.views.figures import bands
from sim.views.figures.bands import quarter_dates
from sim.views.figures.money import money_figure
from sim.views.figures.run import RUN_FIGURES, plot_run, run_figures, signals_figure

QUARTERS = [f"{year}Q{q}" for year in (2024, 2025) for q in (1, 2, 3, 4)]
REPLICATION_OFFSET = 0.1  # replication 2 = replication 1 + this, so the mean is halfway
ALL_PNGS = {name for name, _ in RUN_FIGURES}
SECTOR = f"sector={SECTOR_NAMES[0]}"


def segments_of(spec) -> list[str]:
    """The test frame's segments of a metric: all, every class and one sector for workload
    metrics; all and every size for enterprise metrics; every region for a regional signal; all
    otherwise."""
    if spec.segments == "region":
        return [f"region={region}" for region in REGIONS]
    if spec.segments == "workload":
        return ["all", *(f"class={name}" for name in WORKLOAD_CLASSES), SECTOR]
    if spec.segments == "enterprise":
        return ["all", *(f"size={size}" for size in SIZES)]
    return ["all"]


def start_value(metric: str, segment: str) -> float:
    """Replication 1's first value: one of a thousand, by a checksum of the metric and segment
    (so a line drawn from the wrong series will not match), below one half."""
    return 0.05 + zlib.crc32(f"{metric}[{segment}]".encode()) % 1000 / 2000


def base_value(quarter_index: int, start: float) -> float:
    """Replication 1's value: a gentle trend from ``start``."""
    return start + 0.01 * quarter_index


def tidy_rows(metric: str, segment: str, start: float) -> list[dict]:
    return [
        {"scenario": "test", "replication": replication, "quarter": quarter, "metric": metric,
         "segment": segment,
         "value": base_value(index, start) + (replication - 1) * REPLICATION_OFFSET}
        for replication in (1, 2) for index, quarter in enumerate(QUARTERS)
    ]


def make_frame(with_signals: bool = True, metrics=METRICS) -> pd.DataFrame:
    signal_metrics = {spec.metric for spec in SIGNALS}
    rows: list[dict] = []
    for spec in metrics:
        if with_signals or spec.name not in signal_metrics:
            for segment in segments_of(spec):
                rows += tidy_rows(spec.name, segment, start_value(spec.name, segment))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="module")
def figures(frame):
    """Every run figure built from the frame (not saved), closed after the module."""
    with style.theme():
        built = dict(run_figures(frame))
    yield built
    for figure in built.values():
        plt.close(figure)


# --- band_table ---------------------------------------------------------------------------------

def test_band_table_mean_and_quantiles(frame):
    table = bands.band_table(frame, "workload_share_open")
    assert list(table.columns) == ["mean", "p5", "p95"]
    assert list(table.index) == QUARTERS
    low = [base_value(i, start_value("workload_share_open", "all")) for i in range(len(QUARTERS))]
    # Two replications a and a + d: mean a + d/2; linearly interpolated quantiles
    # a + 0.05 d and a + 0.95 d.
    assert table["mean"].tolist() == pytest.approx([v + 0.05 for v in low], abs=1e-12)
    assert table["p5"].tolist() == pytest.approx([v + 0.005 for v in low], abs=1e-12)
    assert table["p95"].tolist() == pytest.approx([v + 0.095 for v in low], abs=1e-12)


def test_band_table_filters_segment_and_sorts_quarters(frame):
    shuffled = frame.sample(frac=1.0, random_state=3)
    table = bands.band_table(shuffled, "workload_share_closed", segment=SECTOR)
    assert list(table.index) == QUARTERS
    assert table.loc["2024Q1", "mean"] == pytest.approx(
        start_value("workload_share_closed", SECTOR) + REPLICATION_OFFSET / 2, abs=1e-12)


def test_band_table_single_replication_band_is_the_value(frame):
    table = bands.band_table(frame[frame.replication == 1], "plans_to_expand_open")
    assert (table["p5"] == table["mean"]).all() and (table["p95"] == table["mean"]).all()


def test_band_table_missing_metric_raises(frame):
    with pytest.raises(KeyError, match="no_such_metric"):
        bands.band_table(frame, "no_such_metric")


# --- palette ------------------------------------------------------------------------------------

def test_colours_consistent_between_deployments_and_stacks():
    from sim.core.kernel import OPTIONS, STACKS

    assert style.DEPLOYMENT_COLOURS["closed"] == style.STACK_COLOURS["closed"]
    assert style.DEPLOYMENT_COLOURS["open"] == style.STACK_COLOURS["open"]
    assert tuple(style.DEPLOYMENT_LABELS) == tuple(style.DEPLOYMENT_COLOURS) == OPTIONS
    assert tuple(style.STACK_LABELS) == tuple(style.STACK_COLOURS) == STACKS
    assert len(set(style.DEPLOYMENT_COLOURS.values())) == 3
    assert len(set(style.STACK_COLOURS.values())) == 3


def test_scenario_colours_stable_and_distinct():
    names = ["baseline", "price_shock", "eu_withdrawal", "fast_parity"]
    colours = style.scenario_colours(names)
    assert set(colours) == set(names)
    assert len(set(colours.values())) == len(names)
    assert style.scenario_colours(reversed(names)) == colours
    assert style.scenario_colours(["baseline"]) == style.scenario_colours(["baseline"])


# --- plot_run -----------------------------------------------------------------------------------

def drawn_lines(ax) -> dict[str, object]:
    """The axes' labelled lines by label (one line per label)."""
    lines = [line for line in ax.lines if not line.get_label().startswith("_")]
    labels = [line.get_label() for line in lines]
    assert len(set(labels)) == len(labels), labels
    return dict(zip(labels, lines))


def assert_draws(ax, frame: pd.DataFrame, expected: dict[str, tuple[str, str]],
                 scale: float = 1.0) -> None:
    """``ax`` draws exactly the lines ``expected`` (label -> metric and segment), each the mean
    over replications of its series times ``scale`` against the quarters, over a shaded 5-95%
    band."""
    lines = drawn_lines(ax)
    assert set(lines) == set(expected)
    bands_drawn = [(float(np.nanmin(c.get_paths()[0].vertices[:, 1])),
                    float(np.nanmax(c.get_paths()[0].vertices[:, 1]))) for c in ax.collections]
    for label, (metric, segment) in expected.items():
        table = bands.band_table(frame, metric, segment) * scale
        x, y = lines[label].get_data()
        np.testing.assert_allclose(np.asarray(y, dtype=float), table["mean"], err_msg=label)
        assert list(pd.DatetimeIndex(x)) == list(quarter_dates(QUARTERS)), label
        band = (table["p5"].min(), table["p95"].max())
        assert any(np.allclose(drawn, band, rtol=1e-9, atol=0) for drawn in bands_drawn), label


def visible_axes(figure) -> list:
    return [ax for ax in figure.axes if ax.get_visible() and ax.axison]


def test_plot_run_writes_one_png_per_figure(frame, tmp_path):
    import matplotlib.image

    folder = tmp_path / "figures" / "run"
    paths = plot_run(frame, folder)
    assert [p.name for p in paths] == [name for name, _ in RUN_FIGURES]
    assert all(p.parent == folder for p in paths)
    for path in paths:
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 100 and image.shape[1] > 100 and image.std() > 0.01
    assert {p.name for p in folder.iterdir()} == ALL_PNGS  # no temporary files left behind


def test_share_figures_draw_the_mean_of_each_series(figures, frame):
    shares = {
        "workload_shares.png": {style.DEPLOYMENT_LABELS[kind]:
                                (deployment_metric("workload_share", kind).name, "all")
                                for kind in OPTIONS},
        "stack_shares.png": {style.STACK_LABELS[kind]: (stack_metric(kind).name, "all")
                             for kind in STACKS},
        "plans_to_expand.png": {style.METRIC_LABELS["plans_to_expand_open"]:
                                ("plans_to_expand_open", "all")},
    }
    for name, expected in shares.items():
        (ax,) = visible_axes(figures[name])
        assert_draws(ax, frame, expected)
        assert ax.get_ylim()[0] == 0.0


def test_workload_class_figure_has_a_panel_per_class(figures, frame):
    panels = {ax.get_title(): ax for ax in visible_axes(figures["workload_classes.png"])}
    assert list(panels) == [style.segment_label(f"class={name}") for name in WORKLOAD_CLASSES]
    for name in WORKLOAD_CLASSES:
        assert_draws(panels[style.segment_label(f"class={name}")], frame,
                     {style.DEPLOYMENT_LABELS[kind]:
                      (deployment_metric("workload_share", kind).name, f"class={name}")
                      for kind in OPTIONS})


# --- money and tokens -----------------------------------------------------------------------------

#: Quarterly totals are drawn per year: USD bn (x 4 / 1e9) and trillions of tokens (x 4 / 1e6).
SPEND_SCALE, TOKEN_SCALE = 4 / 1e9, 4 / 1e6
ROUTINE, FRONTIER = "break_even_mtok_per_month_routine", "break_even_mtok_per_month_frontier"
MONEY_METRICS = {spec.name for spec in METRICS
                 if spec.family in ("spend_usd", "tokens_mtok", "price_paid_usd_per_mtok")
                 or spec.name in (ROUTINE, FRONTIER, "price_paid_usd_per_mtok_frontier_work")}


def money_panels(figure) -> list:
    axes = visible_axes(figure)
    assert len(axes) == 4
    return axes


def deployment_lines(family: str) -> dict[str, tuple[str, str]]:
    return {style.DEPLOYMENT_LABELS[kind]: (deployment_metric(family, kind).name, "all")
            for kind in OPTIONS}


def price_lines() -> dict[str, tuple[str, str]]:
    closed, open_, tuned = (deployment_metric("price_paid_usd_per_mtok", kind).name
                            for kind in OPTIONS)
    labels = style.DEPLOYMENT_LABELS
    return {
        f"{labels['closed']}, average paid": (closed, "all"),
        f"{labels['closed']}, frontier work": ("price_paid_usd_per_mtok_frontier_work", "all"),
        f"{labels['open']}, all-in cost": (open_, "all"),
        f"{labels['open_finetuned']}, all-in cost": (tuned, "all"),
        SIGNAL_BY_NAME["frontier_price_usd_per_mtok"].label:
            ("signal_frontier_price_usd_per_mtok", "all"),
        SIGNAL_BY_NAME["fixed_capability_price_usd_per_mtok"].label:
            ("signal_fixed_capability_price_usd_per_mtok", "all"),
    }


def break_even_lines(sizes=SIZES) -> dict[str, tuple[str, str]]:
    return {f"{style.segment_label(f'size={size}')} enterprises, {work} work": (metric,
                                                                              f"size={size}")
            for size in sizes for metric, work in ((ROUTINE, "routine"), (FRONTIER, "frontier"))}


def test_money_figure_draws_spend_and_tokens_a_year_by_deployment(figures, frame):
    spend, tokens, _, _ = money_panels(figures["money_and_tokens.png"])
    assert_draws(spend, frame, deployment_lines("spend_usd"), scale=SPEND_SCALE)
    assert_draws(tokens, frame, deployment_lines("tokens_mtok"), scale=TOKEN_SCALE)
    # spend and tokens on a log scale, so open weights' few percent stay readable beside closed
    assert spend.get_ylabel() == "billion USD a year (log scale)" and spend.get_yscale() == "log"
    assert tokens.get_ylabel() == "trillion tokens a year (log scale)"
    assert tokens.get_yscale() == "log"
    for ax in (spend, tokens):
        colours = {label: line.get_color() for label, line in drawn_lines(ax).items()}
        assert colours == {style.DEPLOYMENT_LABELS[kind]: style.DEPLOYMENT_COLOURS[kind]
                           for kind in OPTIONS}


def test_money_figure_draws_prices_on_a_log_axis_beside_the_price_signals(figures, frame):
    _, _, prices, _ = money_panels(figures["money_and_tokens.png"])
    expected = price_lines()
    assert_draws(prices, frame, expected)
    assert prices.get_yscale() == "log"
    unit = METRIC_BY_NAME["price_paid_usd_per_mtok_closed"].unit
    assert prices.get_ylabel().startswith(unit)
    styles = {label: line.get_linestyle() for label, line in drawn_lines(prices).items()}
    signals = [label for label, (metric, _) in expected.items() if metric.startswith("signal_")]
    assert all(styles[label] == "--" for label in signals)
    assert all(styles[label] != "--" for label in set(expected) - set(signals))
    appearance = [(line.get_color(), line.get_linestyle())
                  for line in drawn_lines(prices).values()]
    assert len(set(appearance)) == len(appearance)  # every line tells apart


def test_money_figure_draws_break_even_volumes_by_size(figures, frame):
    _, _, _, break_even = money_panels(figures["money_and_tokens.png"])
    assert_draws(break_even, frame, break_even_lines())
    assert break_even.get_yscale() == "log"
    assert break_even.get_ylabel().startswith(METRIC_BY_NAME[ROUTINE].unit)
    for label, line in drawn_lines(break_even).items():
        size = label.split()[0].lower()
        assert line.get_color() == style.SIZE_COLOURS[size], label


def test_break_even_lines_break_where_most_replications_never_break_even(frame):
    """A quarter where no replication breaks even is a gap; one where one of the two does shows
    that one; a size that never breaks even has no line; a metric never measured draws none."""
    small, large = "size=small", "size=large"
    routine = (frame.metric == ROUTINE) & (frame.segment == small)
    gone = ((routine & (frame.quarter == "2024Q3"))
            | (routine & (frame.quarter == "2025Q1") & (frame.replication == 2))
            | ((frame.metric == FRONTIER) & (frame.segment == large)))
    with style.theme():
        figure = money_figure(frame[~gone])
    _, _, _, break_even = money_panels(figure)
    lines = drawn_lines(break_even)
    expected = break_even_lines()
    del expected["Large enterprises, frontier work"]
    assert set(lines) == set(expected)
    y = np.asarray(lines["Small enterprises, routine work"].get_data()[1], dtype=float)
    kept = frame[routine & (frame.replication == 1)].set_index("quarter")["value"]
    full = bands.band_table(frame, ROUTINE, small)["mean"]
    assert np.isnan(y[QUARTERS.index("2024Q3")])
    assert y[QUARTERS.index("2025Q1")] == pytest.approx(kept["2025Q1"])
    others = [i for i, q in enumerate(QUARTERS) if q not in ("2024Q3", "2025Q1")]
    np.testing.assert_allclose(y[others], full.iloc[others])
    plt.close(figure)
    with style.theme():
        figure = money_figure(frame[~frame.metric.isin([ROUTINE, FRONTIER])])
    _, _, _, break_even = money_panels(figure)
    assert not drawn_lines(break_even)
    assert [text.get_text() for text in break_even.texts] == ["No value in most replications"]
    plt.close(figure)


def test_a_break_even_line_that_stops_before_the_horizon_ends_in_a_cross(frame):
    """Small enterprises' routine break-even unmeasured from 2025Q2 on: its line ends in a cross
    at 2025Q1, and the panel says what a cross means; lines that run to the end have none."""
    small = "size=small"
    never = ((frame.metric == ROUTINE) & (frame.segment == small) & (frame.quarter >= "2025Q2"))
    with style.theme():
        figure = money_figure(frame[~never])
    _, _, _, break_even = money_panels(figure)
    crosses = [line for line in break_even.lines if line.get_marker() == "x"]
    assert len(crosses) == 1
    cross = crosses[0]
    assert cross.get_color() == style.SIZE_COLOURS["small"]
    kept = bands.band_table(frame, ROUTINE, small)["mean"]
    assert cross.get_ydata()[0] == pytest.approx(kept["2025Q1"])
    assert cross.get_xdata()[0] == bands.quarter_dates(["2025Q1"])[0]
    assert any("never pays" in text.get_text() for text in break_even.texts)
    plt.close(figure)


def test_a_break_even_one_replication_in_three_reaches_is_a_gap(frame):
    """With three replications, a quarter where one breaks even is a gap (the median replication
    never breaks even); where two do, the line is their mean."""
    third = frame[frame.replication == 2].assign(replication=3,
                                                 value=lambda rows: rows.value + 1.0)
    frame = pd.concat([frame, third], ignore_index=True)
    routine = (frame.metric == ROUTINE) & (frame.segment == "size=mid")
    gone = (routine & (frame.quarter == "2024Q2") & (frame.replication > 1)) | (
        routine & (frame.quarter == "2024Q4") & (frame.replication == 3))
    with style.theme():
        figure = money_figure(frame[~gone])
    y = np.asarray(drawn_lines(money_panels(figure)[3])["Mid enterprises, routine work"]
                   .get_data()[1], dtype=float)
    plt.close(figure)
    two = frame[routine & (frame.quarter == "2024Q4") & (frame.replication < 3)]["value"].mean()
    assert np.isnan(y[QUARTERS.index("2024Q2")])
    assert y[QUARTERS.index("2024Q4")] == pytest.approx(two)


def test_money_figure_is_left_out_of_a_run_without_money(tmp_path):
    frame = make_frame(metrics=[spec for spec in METRICS if spec.name not in MONEY_METRICS])
    assert money_figure(frame) is None
    paths = plot_run(frame, tmp_path)
    assert {p.name for p in paths} == ALL_PNGS - {"money_and_tokens.png"}


# --- the signals figure, from the signal table --------------------------------------------------

def expected_signal_lines(specs) -> dict[str, tuple[str, str]]:
    """A panel's lines: a signal's label, or for a regional signal one line per region (the
    region's name alone when the signal has the panel to itself)."""
    lines = {}
    for spec in specs:
        if not spec.regional:
            lines[spec.label] = (spec.metric, "all")
            continue
        for region in REGIONS:
            segment = f"region={region}"
            name = style.segment_label(segment)
            lines[name if len(specs) == 1 else f"{spec.label}, {name}"] = (spec.metric, segment)
    return lines


def assert_signals_drawn(figure, frame: pd.DataFrame, signals, panels) -> None:
    """One panel per panel of ``panels`` holding a signal of the frame, in the table's order
    and on the grid's cells, titled and labelled from the table; each draws its signals."""
    recorded = set(frame["metric"])
    shown = [key for key in panels
             if any(spec.panel == key and spec.metric in recorded for spec in signals)]
    axes = visible_axes(figure)
    assert [ax.get_title() for ax in axes] == [panels[key][0] for key in shown]
    columns = min(signal_grid.SIGNAL_COLUMNS, len(shown))
    for index, (ax, key) in enumerate(zip(axes, shown)):
        cell = ax.get_subplotspec()
        assert (cell.rowspan.start, cell.colspan.start) == divmod(index, columns)
        assert ax.get_ylabel() == panels[key][1]
        specs = [spec for spec in signals if spec.panel == key and spec.metric in recorded]
        assert_draws(ax, frame, expected_signal_lines(specs))
        styles = [(line.get_color(), line.get_linestyle()) for line in drawn_lines(ax).values()]
        assert len(set(styles)) == len(styles), (key, styles)  # every line tells apart
        for spec in specs:
            if spec.regional:
                colours = {line.get_color() for label, line in drawn_lines(ax).items()
                           if expected_signal_lines(specs)[label][0] == spec.metric}
                assert colours == {style.REGION_COLOURS[region] for region in REGIONS}


def test_every_signal_of_the_table_is_drawn_in_its_panel(figures, frame):
    assert {spec.panel for spec in SIGNALS} <= set(SIGNAL_PANELS)
    assert_signals_drawn(figures["signals.png"], frame, SIGNALS, SIGNAL_PANELS)


def test_a_panel_without_recorded_signals_is_left_out(frame):
    first_panel = SIGNALS[0].panel
    kept = frame[~frame["metric"].isin([s.metric for s in SIGNALS if s.panel == first_panel])]
    with style.theme():
        figure = signals_figure(kept)
    assert SIGNAL_PANELS[first_panel][0] not in [ax.get_title() for ax in figure.axes]
    assert_signals_drawn(figure, kept, SIGNALS, SIGNAL_PANELS)
    plt.close(figure)


def test_the_signals_figure_follows_a_changed_table(monkeypatch):
    """A signal added in a new panel, one moved to another panel and one removed: the figure
    draws the changed table, nothing else edited."""
    added = dataclasses.replace(SIGNALS[0], name="energy_price", label="Energy price",
                                panel="energy", regional=False)
    moved = dataclasses.replace(SIGNALS[1], panel=SIGNALS[-1].panel)
    signals = (moved, *SIGNALS[2:-1], added, SIGNALS[-1])  # the first signal removed
    panels = {**SIGNAL_PANELS, "energy": ("Energy", "USD per MWh")}
    monkeypatch.setattr(signal_grid, "SIGNALS", signals)
    monkeypatch.setattr(signal_grid, "SIGNAL_PANELS", panels)
    metrics = [dataclasses.replace(spec, name=added.metric) if spec.name == SIGNALS[0].metric
               else spec for spec in METRICS]
    changed = make_frame(metrics=metrics)
    with style.theme():
        figure = signals_figure(changed)
    assert "Energy" in [ax.get_title() for ax in figure.axes]
    assert_signals_drawn(figure, changed, signals, panels)
    plt.close(figure)


def test_panel_positions_in_words():
    def words(count: int) -> list[str]:
        rows, columns = signal_grid.grid_shape(count)
        return [signal_grid.position_words(i // columns, i % columns, rows, columns)
                for i in range(count)]

    assert words(1) == [""]
    assert words(2) == ["left", "right"]
    assert words(4) == ["top left", "top right", "bottom left", "bottom right"]
    assert words(5) == ["top left", "top right", "middle left", "middle right", "bottom left"]
    assert words(7)[2:5] == ["row 2 left", "row 2 right", "row 3 left"]
    assert words(7)[-1] == "bottom left"
    panels = signal_grid.signal_panels({spec.metric for spec in SIGNALS})
    assert [panel.key for panel in panels] == [key for key in SIGNAL_PANELS
                                               if key in {spec.panel for spec in SIGNALS}]
    columns = signal_grid.grid_shape(len(panels))[1]
    assert [(panel.row, panel.column, panel.position) for panel in panels] == [
        (*divmod(index, columns), word) for index, word in enumerate(words(len(panels)))]


def test_plot_run_skips_signals_when_absent(tmp_path):
    paths = plot_run(make_frame(with_signals=False), tmp_path)
    assert {p.name for p in paths} == ALL_PNGS - {"signals.png"}
    assert not (tmp_path / "signals.png").exists()


def test_plot_run_rejects_several_scenarios(frame, tmp_path):
    other = frame.assign(scenario="other")
    with pytest.raises(ValueError, match="one scenario"):
        plot_run(pd.concat([frame, other]), tmp_path)


def test_import_is_lazy():
    code = ("import sys, sim.views.figures.run, sim.views.figures.calibration, "
            "sim.views.figures.comparison, sim.views.figures.sweep; "
            "assert 'matplotlib' not in sys.modules and 'seaborn' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_style_imports_the_standard_library_only():
    code = ("import sys, sim.views.style; "
            "assert not {'numpy', 'pandas', 'matplotlib', 'seaborn'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
