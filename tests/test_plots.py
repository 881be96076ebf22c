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
from sim.core.metric_table import METRICS, deployment_metric, stack_metric
from sim.core.schema import REGIONS, SECTOR_NAMES, WORKLOAD_CLASSES
from sim.core.signal_table import SIGNAL_PANELS, SIGNALS
from sim.views import signal_grid, style
from sim.views.figures import bands
from sim.views.figures.bands import quarter_dates
from sim.views.figures.run import RUN_FIGURES, plot_run, run_figures, signals_figure

QUARTERS = [f"{year}Q{q}" for year in (2024, 2025) for q in (1, 2, 3, 4)]
REPLICATION_OFFSET = 0.1  # replication 2 = replication 1 + this, so the mean is halfway
ALL_PNGS = {name for name, _ in RUN_FIGURES}
SECTOR = f"sector={SECTOR_NAMES[0]}"


def segments_of(spec) -> list[str]:
    """The test frame's segments of a metric: all, every class and one sector for workload
    metrics; every region for a regional signal; all otherwise."""
    if spec.segments == "region":
        return [f"region={region}" for region in REGIONS]
    if spec.segments == "workload":
        return ["all", *(f"class={name}" for name in WORKLOAD_CLASSES), SECTOR]
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


def assert_draws(ax, frame: pd.DataFrame, expected: dict[str, tuple[str, str]]) -> None:
    """``ax`` draws exactly the lines ``expected`` (label -> metric and segment), each the mean
    over replications of its series against the quarters, over a shaded 5-95% band."""
    lines = drawn_lines(ax)
    assert set(lines) == set(expected)
    bands_drawn = {(round(float(np.min(c.get_paths()[0].vertices[:, 1])), 9),
                    round(float(np.max(c.get_paths()[0].vertices[:, 1])), 9))
                   for c in ax.collections}
    for label, (metric, segment) in expected.items():
        table = bands.band_table(frame, metric, segment)
        x, y = lines[label].get_data()
        np.testing.assert_allclose(np.asarray(y, dtype=float), table["mean"], err_msg=label)
        assert list(pd.DatetimeIndex(x)) == list(quarter_dates(QUARTERS)), label
        assert (round(table["p5"].min(), 9), round(table["p95"].max(), 9)) in bands_drawn, label


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
