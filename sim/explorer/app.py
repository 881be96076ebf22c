"""The explorer's web page (Solara): what if, my enterprise, agents, results.

Four tabs, each a thin view over the library:

* **What if**: a scenario and the controls of :data:`sim.explorer.whatif.CONTROLS`; every change
  reruns the paired ensemble (:class:`sim.explorer.whatif.Ensemble`) in a background task (a newer
  change cancels the older) and redraws the fan charts and the 2030Q4 table. "Save scenario"
  offers the YAML file that reproduces the page (:func:`sim.explorer.whatif.saved_yaml`). Its
  scenario and changes are the session's (:mod:`sim.explorer.shared`), so other views see them.
* **My enterprise** (:mod:`sim.explorer.enterprise_view`): a profile loaded or edited, advised
  under the What-if view's scenario and changes.
* **Agents**: one replication of :class:`sim.core.model.AdoptionModel` stepped quarter by quarter,
  Mesa's SolaraViz way (step, play, pause, reset): a sample of the enterprise network coloured by
  stack, and the shares so far.
* **Results**: the run, comparison and sweep folders under ``outputs/``, newest first, each
  linking its ``report.html`` (served by :mod:`sim.explorer.server` through
  :func:`sim.explorer.files.safe_path`).

The page holds no model logic. Its settings (project folder, scenario, ensemble size) come from
the environment that ``adoptsim explore`` sets (:data:`sim.explorer.shared.SETTINGS`).
"""

from __future__ import annotations

import html
import math
import time
from pathlib import Path

import numpy as np
import solara
import solara.lab
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.core.kernel import NOT_DEPLOYED, STACKS
from sim.core.metric_table import stack_metric
from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.model import AdoptionModel
from sim.core.scenario import Scenario, ScenarioError
from sim.explorer import files, whatif
from sim.explorer.enterprise_view import MyEnterpriseView
from sim.explorer.shared import (
    WHATIF_CHANGES,
    WHATIF_SOURCE,
    Progress,
    Table,
    relative,
    root,
    setting,
    whatif_source,
)
from sim.views.figures.bands import band_table
from sim.views.style import METRIC_LABELS, STACK_COLOURS, STACK_LABELS
from sim.workflows import resolve

AGENT_NODES = 300        # enterprises drawn in the Agents view at most
PLAY_INTERVAL = 0.3      # seconds between quarters when the Agents view plays
FAN_METRICS = ("workload_share_closed", "workload_share_open_any", "stack_share_hybrid")


# --- what if -----------------------------------------------------------------------------------

@solara.lab.task
def ensemble(source: str, changes: dict, replications: int, enterprises: int,
             percent_done: solara.Reactive[float]):
    """The what-if run; it reports progress in ``percent_done``, which only :func:`Progress`
    reads (the task's own progress would redraw the whole view with every replication)."""
    def progress(done: int, total: int) -> None:
        percent_done.value = 100.0 * done / max(total, 1)

    return whatif.run_whatif(root() / source, changes, replications=replications,
                             enterprises=enterprises, progress=progress,
                             cancelled=lambda: not ensemble.is_current())


def attempt(load, *arguments) -> tuple[object | None, ScenarioError | None]:
    """``(load(*arguments), None)``, or ``(None, error)`` with the readable error of a bad
    setting (shown by its control), or of a scenario file that is bad or gone (shown in the
    page, whose views and scenario picker stay usable), instead of a traceback."""
    try:
        return load(*arguments), None
    except ScenarioError as problem:
        return None, problem


def fan_chart(result: whatif.WhatIf):
    """Mean and 5-95% band over replications, reference against the changed scenario."""
    frame = result.frames
    figure = Figure(figsize=(12, 3.4))
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.1, top=0.9, wspace=0.22)  # not "tight":
    axes = figure.subplots(1, len(FAN_METRICS), sharex=True)          # it doubles the draw time
    for axis, metric in zip(axes, FAN_METRICS):
        for (name, colour) in ((result.reference.name, "#777777"),
                               (result.scenario.name, "#0072B2")):
            table = band_table(frame, metric, scenario=name)
            x = np.arange(len(table))
            axis.fill_between(x, table["p5"], table["p95"], color=colour, alpha=0.2, linewidth=0)
            axis.plot(x, table["mean"], color=colour, label=name)
            ticks = [i for i, q in enumerate(table.index) if str(q).endswith("Q1")][::2]
            axis.set_xticks(ticks, [str(table.index[i])[:4] for i in ticks])
        axis.set_title(METRIC_LABELS.get(metric, metric), fontsize=10)
        axis.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes[0].legend(fontsize=8)
    return figure


@solara.component
def FanChart(result: whatif.WhatIf):
    """The fan charts, drawn once per result (not on every redraw of the page)."""
    figure = solara.use_memo(lambda: fan_chart(result), [result])
    solara.FigureMatplotlib(figure, dependencies=[result], format="png")


def link(path: Path, label: str) -> str:
    """An HTML link to a project file, served by :mod:`sim.explorer.server` under /files/."""
    return f'<a href="/files/{html.escape(relative(path))}">{html.escape(label)}</a>'


@solara.component
def WhatIfTable(result: whatif.WhatIf):
    """The horizon's table: the changed scenario's mean and range, the paired change."""
    rows = [[html.escape(row["title"]),
             f"{row['mean']:.1%} [{row['p5']:.1%}, {row['p95']:.1%}]",
             f"{100 * row['difference']:+.2f} pts [{100 * row['difference_low']:+.2f}, "
             f"{100 * row['difference_high']:+.2f}]"]
            for _, row in result.table.iterrows()]
    Table([str(result.reference.horizon.end), "changed: mean [5–95%]", "paired change [90% CI]"],
          rows, classes=["whatif-table"])


def on_grid(control: whatif.Control, value: float) -> float:
    """``value`` on the slider's grid (``low`` plus whole ``step``s): where the slider puts it."""
    return control.low + round((value - control.low) / control.step) * control.step


@solara.component
def ControlWidget(control: whatif.Control, value, on_value, error: str | None):
    with solara.Column(gap="0px", classes=["control", f"control-{control.key}"],
                       style={"width": "31%", "min-width": "280px"}):
        with solara.Tooltip(control.help):
            solara.Text(control.label, style={"font-size": "0.85em"})
        if control.kind == "number" and value is not None:
            solara.Text(f"{float(value):.4g} {control.unit}",
                        style={"font-size": "0.75em", "color": "#555"})
        if value is None:
            solara.Text("not expressible in this scenario")
        elif control.kind == "number":
            solara.SliderFloat("", value=on_grid(control, float(value)), min=control.low,
                               max=control.high, step=control.step, on_value=on_value,
                               thumb_label=True)
        else:
            solara.Select("", value=value, values=list(control.choices), on_value=on_value)
        if error:
            solara.Error(error, classes=["control-error"])


@solara.component
def FullRun(changed):
    """"Run in full": the changed scenario at its own size and replications, in the background
    (:func:`sim.explorer.whatif.start_full_run`), its run folder under ``outputs/``; the report is
    linked when it is done."""
    run, set_run = solara.use_state(None)
    finished = solara.use_reactive(False)
    problem, set_problem = solara.use_state(None)

    def start():
        finished.value = False
        try:
            set_run(whatif.start_full_run(changed, root() / "outputs"))
            set_problem(None)
        except ScenarioError as error:
            set_problem(str(error))

    def wait():
        if run is not None:
            run.wait()
            finished.value = True

    solara.lab.use_task(wait, dependencies=[run], prefer_threaded=True)
    running = run is not None and not finished.value
    solara.Button("Run in full", on_click=start, disabled=running, classes=["run-in-full"])
    if problem:
        solara.Error(problem)
    elif running:
        solara.Text(f"Running {changed.name}: {changed.replications} replications of "
                    f"{changed.population.enterprises:,} enterprises...")
        solara.ProgressLinear(True)
    elif run is not None and run.error:
        solara.Error(f"The full run failed: {run.error}")
    elif run is not None:
        solara.HTML(tag="span", unsafe_innerHTML="Done: " + link(run.report, relative(run.report)))


def control_setter(control: whatif.Control, scenario_values: dict, changes: dict, set_changes):
    """What a control does with its new value: records it as a change, unless it is back at the
    scenario's own value (as the slider shows it: a slider snapping the scenario's value to its
    grid changes nothing)."""
    def set_value(value):
        rest = {key: kept for key, kept in changes.items() if key != control.key}
        own = scenario_values.get(control.key)
        if value == own or (control.kind == "number" and own is not None
                            and math.isclose(value, on_grid(control, own))):
            set_changes(rest)
        else:
            set_changes({**rest, control.key: value})
    return set_value


@solara.component
def WhatIfView():
    """The scenario, its controls and the ensemble of the changes made (:func:`WhatIfResult`)."""
    choices = solara.use_memo(                     # loads every scenario: once per page
        lambda: [relative(path) for path in whatif.scenario_choices(root())], [])
    source = whatif_source(choices[0] if choices else "")   # shared with My enterprise
    changes, set_source, set_changes = WHATIF_CHANGES.value, WHATIF_SOURCE.set, WHATIF_CHANGES.set
    percent_done = solara.use_reactive(0.0)
    replications = setting("replications", whatif.DEFAULT_REPLICATIONS)
    enterprises = setting("enterprises", whatif.DEFAULT_ENTERPRISES)
    changes_key = repr(sorted(changes.items()))
    scenario, unusable = solara.use_memo(lambda: attempt(resolve, root() / source), [source])
    changed, error = solara.use_memo(
        lambda: attempt(whatif.apply_changes, root() / source, changes), [source, changes_key])

    def run():
        if error is None:
            percent_done.value = 0.0
            ensemble(source, dict(changes), replications, enterprises, percent_done)

    solara.use_effect(run, [source, changes_key])
    with solara.Row(style={"align-items": "center"}):
        solara.Select("Scenario", value=source, values=choices, classes=["scenario-picker"],
                      on_value=lambda s: (set_source(s), set_changes({})))
        solara.Button("Reset controls", on_click=lambda: set_changes({}))
    if unusable is not None:                       # the file is bad or gone: pick another
        solara.Error(str(unusable), classes=["scenario-error"])
        return
    controls = whatif.controls_for(scenario)
    scenario_values = whatif.current_values(scenario)
    values = {**scenario_values, **changes}

    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
        for control in controls:
            ControlWidget(control, values.get(control.key),
                          control_setter(control, scenario_values, changes, set_changes),
                          str(error) if error is not None and error.key_path == control.key
                          else None)
    if error is not None:
        if error.key_path not in {c.key for c in controls}:
            solara.Error(str(error))
        return                                     # a bad setting: nothing runs
    WhatIfResult(source, changed, percent_done, replications, enterprises)


@solara.component
def WhatIfResult(source: str, changed: Scenario, percent_done: solara.Reactive[float],
                 replications: int, enterprises: int):
    """The ensemble's progress, then its fan charts and table; once shown, what the page shows
    can be saved as a scenario file or run in full."""
    if ensemble.pending:
        Progress(percent_done)
    result = ensemble.value
    if result is None:
        if ensemble.error:
            solara.Error(str(ensemble.exception))
        return
    if result.smaller_population:
        solara.Info(f"Results from {enterprises:,} enterprises and {replications} replications; "
                    f"the scenario has {result.full_enterprises:,} enterprises.")
    FanChart(result)
    WhatIfTable(result)
    if ensemble.pending:
        return                                     # save and run what the page shows, once shown
    solara.Text(whatif.describe(result.reference, result.changes), classes=["whatif-shown"])
    with solara.Row(style={"align-items": "center"}):
        def saved() -> str:                        # written when the button is pressed
            return whatif.saved_yaml(root() / source, result.changes, root(),
                                     replications=replications, enterprises=enterprises)

        solara.FileDownload(saved, filename=f"{result.scenario.name}.yaml", label="Save scenario")
        FullRun(changed)


# --- agents ------------------------------------------------------------------------------------

class AgentRun:
    """One replication stepped by the page, with a fixed sample of enterprises to draw."""

    def __init__(self, source: Path, enterprises: int):
        import networkx as nx

        scenario = resolve(source, overrides=[f"population.enterprises={enterprises}"])
        self.model = AdoptionModel(scenario, seed=scenario.seed)
        count = len(self.model.stack)
        rng = np.random.default_rng(scenario.seed)
        self.nodes = np.sort(rng.choice(count, size=min(AGENT_NODES, count), replace=False))
        graph = nx.Graph()
        graph.add_nodes_from(self.nodes.tolist())
        chosen = set(self.nodes.tolist())
        offsets, neighbours = self.model.peer_offsets, self.model.peer_neighbours
        for node in self.nodes:
            graph.add_edges_from((int(node), int(other))
                                 for other in neighbours[offsets[node]:offsets[node + 1]]
                                 if int(other) in chosen)
        self.graph = graph
        self.layout = nx.spring_layout(graph, seed=int(scenario.seed) % 2**32)

    @property
    def quarter(self) -> str:
        """The last quarter stepped, or "start" before the first step."""
        quarters = self.model.scenario.quarters
        return str(quarters[self.model.quarter - 1]) if self.model.quarter > 0 else "start"

    @property
    def finished(self) -> bool:
        return self.model.quarter >= self.model.quarter_count

    def step(self) -> None:
        if not self.finished:
            self.model.step()

    def shares(self) -> np.ndarray:
        """(quarters stepped, stacks): the share of enterprises on each stack, as the model's
        metrics recorded it."""
        rows = [METRIC_INDEX[stack_metric(stack).name] for stack in STACKS]
        return self.model.metrics.values[:self.model.quarter, rows, SEGMENTS.index("all")]

    def figure(self):
        figure = Figure(figsize=(11, 4))
        figure.subplots_adjust(left=0.01, right=0.98, bottom=0.08, top=0.92, wspace=0.12)
        network, shares = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
        stacks = self.model.stack[self.nodes]
        colours = [STACK_COLOURS[STACKS[s]] if s != NOT_DEPLOYED else "#dddddd" for s in stacks]
        positions = np.array([self.layout[int(node)] for node in self.nodes])
        for a, b in self.graph.edges():
            network.plot(*zip(self.layout[a], self.layout[b]), color="#cccccc", linewidth=0.4)
        network.scatter(positions[:, 0], positions[:, 1], c=colours, s=18)
        network.set_axis_off()
        network.set_title(f"{len(self.nodes)} enterprises, {self.quarter}",
                          fontsize=10)
        history = self.shares()
        for index, stack in enumerate(STACKS):
            shares.plot(history[:, index], color=STACK_COLOURS[stack], label=STACK_LABELS[stack])
        shares.set_ylim(0, 1)
        shares.set_title("Share of enterprises by stack", fontsize=10)
        shares.legend(fontsize=8)
        return figure


@solara.component
def AgentFigure(run: AgentRun, quarter: str):
    """The network and the shares, drawn once per quarter stepped."""
    figure = solara.use_memo(run.figure, [run, quarter])
    solara.FigureMatplotlib(figure, dependencies=[run, quarter], format="png")


@solara.component
def AgentsView():
    """Step, play, pause and reset, as Mesa's SolaraViz controller does (a threaded play task)."""
    source = setting("scenario", "scenarios/baseline.yaml")
    enterprises = min(setting("enterprises", whatif.DEFAULT_ENTERPRISES), 1000)
    run = solara.use_reactive(None)
    unusable = solara.use_reactive(None)     # the scenario file is bad or gone
    quarter = solara.use_reactive("start")   # read below, so every step redraws the view
    playing = solara.use_reactive(False)

    def reset():
        playing.value = False
        run.value, unusable.value = attempt(AgentRun, root() / source, enterprises)
        quarter.value = "start"

    solara.use_effect(lambda: reset() if run.value is None else None, [])

    def step():
        if run.value is not None and not run.value.finished:
            run.value.step()
            quarter.value = run.value.quarter

    def play():
        while playing.value and run.value is not None and not run.value.finished:
            time.sleep(PLAY_INTERVAL)
            step()
        playing.value = False

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)
    with solara.Row():
        solara.Button("Step", on_click=step, classes=["agents-step"],
                      disabled=playing.value or run.value is None or run.value.finished)
        solara.Button("Pause" if playing.value else "Play",
                      on_click=lambda: playing.set(not playing.value))
        solara.Button("Reset", on_click=reset)
    if unusable.value is not None:
        solara.Error(str(unusable.value), classes=["agents-error"])
        return
    if run.value is None:
        solara.ProgressLinear(True)
        return
    solara.Text(f"Quarter: {quarter.value}", classes=["agents-quarter"])
    AgentFigure(run.value, quarter.value)


# --- results -----------------------------------------------------------------------------------

@solara.component
def ResultsView():
    folders = files.result_folders(root())
    if not folders:
        solara.Text("No run, comparison or sweep folders under outputs/ yet.")
    rows = [[html.escape(str(cell)) for cell in (folder.time, folder.kind, folder.name)]
            + [link(folder.report, "report") if folder.report is not None else "no report"]
            for folder in folders]
    if rows:
        Table(["made", "kind", "name", ""], rows, classes=["results"])


VIEWS = {"What if": WhatIfView, "My enterprise": MyEnterpriseView, "Agents": AgentsView,
         "Results": ResultsView}


@solara.component
def Page():
    solara.Title("adoptsim explorer")
    view, set_view = solara.use_state("What if")
    solara.ToggleButtonsSingle(value=view, values=list(VIEWS), on_value=set_view,
                               classes=["views"])
    VIEWS[view]()
