"""The explorer's My enterprise view (Solara): one enterprise's profile, loaded from
``profiles/`` or edited in the page, advised under the What-if view's scenario and changes.

The view picks a profile file (:func:`sim.explorer.enterprise.profile_choices`) or starts a new
one, edits it (sector, region, size, ML engineers; each workload's name, class and tokens a
month; workloads added and removed), and shows the advice of
:func:`sim.explorer.enterprise.advise_whatif` under the scenario the What-if view shows
(:data:`sim.explorer.shared.WHATIF_SOURCE` and ``WHATIF_CHANGES``, shared per session): the
recommended deployment per workload and year with the share of posterior draws agreeing, and a
year's costs by part. Every change reruns the advice in a background task (a newer change
cancels the older) at the page's settings (``adoptsim explore --draws``, ``--peer-replications``,
``--enterprises``). The profile can be downloaded or saved under ``profiles/explore/``
(:func:`sim.explorer.files.save_profile`). A bad or vanished profile file, a bad edit or a bad
what-if setting is an error in the page; the view and the others stay usable.

The editing and the advice are the library's (:mod:`sim.explorer.enterprise`); this module only
lays them out. The per-session state lives in module-level reactive variables, so switching
views keeps the profile being edited.
"""

from __future__ import annotations

import html
import json
import math

import solara
import solara.lab
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from sim.core.schema import REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES
from sim.errors import UserError
from sim.explorer import enterprise, files, shared, whatif
from sim.views.style import COST_PART_COLOURS, COST_PART_LABELS, DEPLOYMENT_COLOURS

#: The profile file picked ("" before any), the profile being edited (a document: None before
#: one is loaded) and why the picked file cannot be used, per session.
PICKED = solara.reactive("")
DOCUMENT: solara.Reactive[dict | None] = solara.reactive(None)
PROBLEM: solara.Reactive[str | None] = solara.reactive(None)
OPTION_WORDS = {"closed": "closed API", "open": "self-hosted", "open_finetuned": "fine-tuned"}
COST_COLUMNS = 3             # workloads side by side in the cost bars


@solara.lab.task
def advice_run(document: dict, under: enterprise.WhatIfScenario, settings: dict,
               percent_done: solara.Reactive[float]):
    """The advice under the what-if; progress goes to ``percent_done`` (read by
    :func:`sim.explorer.shared.Progress` only)."""
    def progress(done: int, total: int) -> None:
        percent_done.value = 100.0 * done / max(total, 1)

    return enterprise.advise_whatif(enterprise.profile_of(document), under, **settings,
                                    progress=progress,
                                    cancelled=lambda: not advice_run.is_current())


def attempt(function, *arguments):
    """``(function(*arguments), None)``, or ``(None, the error's text)`` for a problem the user
    can fix (a bad file or value): shown in the page instead of a traceback."""
    try:
        return function(*arguments), None
    except UserError as problem:
        return None, str(problem)


def pick(requested: str) -> None:
    """Load the profile file ``requested`` for editing, or say why it cannot be."""
    PICKED.value = requested
    DOCUMENT.value, PROBLEM.value = attempt(enterprise.read_document, shared.root(), requested)


def start_new() -> None:
    PICKED.value, DOCUMENT.value, PROBLEM.value = "", enterprise.new_document(), None


def usd(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}m"
    return f"{value / 1e3:.0f}k" if abs(value) >= 1e3 else f"{value:.0f}"


def cost_bars(page: enterprise.PageAdvice, year: int) -> Figure:
    """Per workload, each option's yearly cost in ``year`` stacked by part, and apart from them
    (hatched) the closed option's compliance penalty in money; a dot over the recommendation."""
    costs = enterprise.year_costs(page, year)
    workloads = list(dict.fromkeys(costs.index.get_level_values("workload")))
    columns = min(COST_COLUMNS, len(workloads))
    rows = math.ceil(len(workloads) / columns)
    figure = Figure(figsize=(12, 0.7 + 2.3 * rows))
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.1 / rows, top=1 - 0.45 / (rows + 1),
                           hspace=0.55, wspace=0.25)
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis, workload in zip(axes.flat, workloads):
        _workload_bars(axis, costs.loc[workload])
        axis.set_title(workload, fontsize=10)
    for axis in axes.flat[len(workloads):]:
        axis.set_visible(False)
    handles = [Patch(facecolor=COST_PART_COLOURS[part], label=COST_PART_LABELS[part],
                     hatch="//" if part in enterprise.NOT_PAID else None, edgecolor="white")
               for part in [*enterprise.PAID_PARTS, *enterprise.NOT_PAID]]
    figure.legend(handles=handles, loc="upper center", ncols=len(handles), fontsize=8,
                  frameon=False)
    return figure


def _workload_bars(axis, costs) -> None:
    """One workload's bars: the options stacked by the parts paid, then apart from them the
    parts not paid (the closed option's compliance penalty in money)."""
    tops = []
    for x, option in enumerate(OPTION_WORDS):
        bottom = 0.0
        for part in enterprise.PAID_PARTS:
            height = float(costs.loc[option, part])
            if height > 0:
                axis.bar(x, height, 0.7, bottom=bottom, color=COST_PART_COLOURS[part])
                bottom += height
        tops.append(bottom)
    apart = [float(costs.loc["closed", part]) for part in enterprise.NOT_PAID]
    positions = [len(OPTION_WORDS) + 0.3 + index for index in range(len(apart))]
    for x, part, height in zip(positions, enterprise.NOT_PAID, apart):
        axis.bar(x, height, 0.7, color=COST_PART_COLOURS[part], hatch="//", edgecolor="white")
    for x, option in enumerate(OPTION_WORDS):
        if costs.loc[option, "recommended"]:
            axis.plot(x, tops[x] + 0.04 * max(*tops, *apart, 1.0), "o",
                      color=DEPLOYMENT_COLOURS[option], markersize=7)
    axis.set_xticks([*range(len(OPTION_WORDS)), *positions],
                    [*OPTION_WORDS.values(), *enterprise.NOT_PAID], fontsize=8)
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: usd(value)))
    axis.tick_params(axis="y", labelsize=8)


@solara.component
def CostBars(page: enterprise.PageAdvice, year: int):
    figure = solara.use_memo(lambda: cost_bars(page, year), [page, year])
    solara.FigureMatplotlib(figure, dependencies=[page, year], format="png")


FIELD = {"dense": True}      # the editor's inputs: compact


@solara.component
def WorkloadRow(document: dict, index: int, set_document):
    """One workload's name, class and tokens a month, and a button removing it."""
    workload = document["workloads"][index]

    def set_key(key: str):
        return lambda value: set_document(enterprise.edited(document, f"workloads.{index}.{key}",
                                                            value))

    with solara.Row(classes=["workload", f"workload-{index}"],
                    style={"align-items": "center", "gap": "12px"}):
        solara.InputText("Workload", value=workload.get("name", ""), on_value=set_key("name"),
                         classes=["workload-name"], style={"max-width": "220px"}, **FIELD)
        solara.Select("Class", value=workload.get("class"), values=list(WORKLOAD_CLASSES),
                      on_value=set_key("class"), classes=["workload-class"],
                      style={"max-width": "200px"}, **FIELD)
        solara.InputFloat("Million tokens a month", value=workload.get("million_tokens_per_month"),
                          on_value=set_key("million_tokens_per_month"),
                          classes=["workload-tokens"], style={"max-width": "170px"}, **FIELD)
        solara.Button("Remove", on_click=lambda: set_document(
            enterprise.without_workload(document, index)),
            disabled=len(document["workloads"]) < 2, text=True, classes=["remove-workload"])


@solara.component
def ProfileEditor(document: dict, set_document):
    """Who the enterprise is and its workloads, each field editing the document."""
    def set_key(key: str):
        return lambda value: set_document(enterprise.edited(document, key, value))

    with solara.Row(style={"align-items": "center", "gap": "12px", "flex-wrap": "wrap"}):
        solara.InputText("Profile name", value=document.get("name", ""), on_value=set_key("name"),
                         classes=["profile-name"], style={"max-width": "220px"}, **FIELD)
        for key, values in (("sector", SECTOR_NAMES), ("region", REGIONS), ("size", SIZES)):
            solara.Select(key.capitalize(), value=document.get(key), values=list(values),
                          on_value=set_key(key), classes=[f"profile-{key}"],
                          style={"max-width": "200px"}, **FIELD)
        solara.InputFloat("ML engineers", value=document.get("ml_engineers"),
                          on_value=set_key("ml_engineers"), classes=["profile-engineers"],
                          style={"max-width": "120px"}, **FIELD)
    for index, workload in enumerate(document.get("workloads") or []):
        WorkloadRow(document, index, set_document).key(
            f"{PICKED.value}:{index}:{workload.get('name')}")
    with solara.Row():
        solara.Button("Add workload", on_click=lambda: set_document(
            enterprise.with_workload(document)), text=True, classes=["add-workload"])


@solara.component
def AdviceTable(page: enterprise.PageAdvice):
    """Per workload and year: the recommended deployment and the share of draws agreeing."""
    grid = enterprise.recommendation_grid(page.table)
    tokens = {workload.name: workload.million_tokens_per_month
              for workload in page.profile.workloads}
    classes = dict(zip(page.table["workload"], page.table["class"]))
    rows = [[html.escape(workload), html.escape(classes[workload]), f"{tokens[workload]:,.0f}",
             *map(html.escape, cells)] for workload, cells in zip(grid.index, grid.values)]
    shared.Table(["workload", "class", "Mtok/month", *map(str, grid.columns)], rows,
          classes=["advice-table"])


@solara.component
def AdviceResult(percent_done: solara.Reactive[float]):
    """The advice's progress, then its table and a year's cost bars (the last advice shown
    until a newer one is ready)."""
    year, set_year = solara.use_state(None)
    if advice_run.pending:
        shared.Progress(percent_done)
    if advice_run.error:                           # a profile the scenario cannot advise
        solara.Error(str(advice_run.exception), classes=["advice-error"])
        return
    page = advice_run.latest                       # while a newer one runs, the last one shown
    if page is None:
        return
    AdviceTable(page)
    solara.Text(enterprise.caption(page), classes=["advice-shown"],
                style={"font-size": "0.8em", "color": "#555"})
    shown = year if year in page.years else page.years[0]
    with solara.Row(style={"align-items": "center"}):
        solara.Text("Yearly cost of each option by part in")
        solara.ToggleButtonsSingle(value=str(shown), values=[str(y) for y in page.years],
                                   on_value=lambda text: set_year(int(text)) if text else None,
                                   classes=["cost-year"])
    platform = page.table[page.table["year"] == shown]["platform_usd"].iloc[0]
    solara.Text(f"USD a year, mean over the posterior draws; a dot marks the recommendation. The "
                f"open platform's team, {usd(platform)} a year, comes on top once anything runs "
                "open; the compliance penalty is its money equivalent in the model, not a bill.",
                style={"font-size": "0.8em", "color": "#555"})
    CostBars(page, shown)


@solara.component
def SaveProfile(document: dict):
    """Download the profile, or save it under ``profiles/explore/`` (never over a file)."""
    saved, set_saved = solara.use_state(None)
    problem, set_problem = solara.use_state(None)
    name = document.get("name") or "profile"
    solara.use_effect(lambda: set_saved(None), [json.dumps(document, sort_keys=True)])

    def save():
        try:
            path = files.save_profile(shared.root(), name, enterprise.profile_yaml(document))
            set_saved(shared.relative(path))
            set_problem(None)
        except UserError as error:
            set_saved(None)
            set_problem(str(error))

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.FileDownload(lambda: enterprise.profile_yaml(document), filename=f"{name}.yaml",
                            label="Download profile")
        solara.Button("Save in profiles/explore/", on_click=save, classes=["save-profile"])
        if saved:
            solara.Text(f"Saved as {saved}.", classes=["profile-saved"])
        if problem:
            solara.Error(problem, classes=["save-error"])


@solara.component
def MyEnterpriseView():
    """The profile picker, the editor, and the advice under the What-if view's settings."""
    choices = solara.use_memo(
        lambda: [shared.relative(path) for path in enterprise.profile_choices(shared.root())], [])
    solara.use_effect(lambda: (pick(choices[0]) if choices else start_new())
                      if DOCUMENT.value is None and PROBLEM.value is None else None, [])
    document = DOCUMENT.value
    document_key = json.dumps(document, sort_keys=True)
    _, invalid = solara.use_memo(lambda: attempt(enterprise.profile_of, document)
                                 if document is not None else (None, None), [document_key])
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select("Profile", value=PICKED.value or None, values=choices, on_value=pick,
                      classes=["profile-picker"], style={"max-width": "360px"})
        solara.Button("New profile", on_click=start_new, text=True)
        if document is not None and invalid is None:
            SaveProfile(document)
    if PROBLEM.value is not None:                    # the file is bad or gone: pick another
        solara.Error(PROBLEM.value, classes=["profile-error"])
        return
    if document is None:
        solara.ProgressLinear(True)
        return
    ProfileEditor(document, DOCUMENT.set)
    if invalid is not None:                          # a bad edit: said, nothing runs
        solara.Error(invalid, classes=["profile-invalid"])
        return
    AdvisedUnder(document, document_key)


@solara.component
def AdvisedUnder(document: dict, document_key: str):
    """What the advice is under (the What-if view's scenario and changes), and the advice: run
    again whenever the profile or the what-if changes, unless the what-if is bad."""
    source, changes = shared.whatif_source("scenarios/baseline.yaml"), shared.WHATIF_CHANGES.value
    changes_key = repr(sorted(changes.items()))
    percent_done = solara.use_reactive(0.0)
    settings = {"draws": shared.setting("draws", enterprise.DEFAULT_DRAWS),
                "peer_replications": shared.setting("peer_replications",
                                             enterprise.DEFAULT_PEER_REPLICATIONS),
                "peer_enterprises": shared.setting("enterprises", whatif.DEFAULT_ENTERPRISES)}
    under, unusable = solara.use_memo(
        lambda: attempt(enterprise.whatif_scenario, shared.root() / source, changes),
        [source, changes_key])

    def run():
        if unusable is None:
            percent_done.value = 0.0
            advice_run(document, under, settings, percent_done)

    solara.use_effect(run, [document_key, source, changes_key])
    if unusable is not None:
        solara.Error(f"The What-if view's scenario cannot be used: {unusable}",
                     classes=["whatif-error"])
        return
    solara.Text(f"Advised under {under.scenario.name}: {under.description} Set the scenario and "
                "its controls in the What-if view.", classes=["advised-under"])
    AdviceResult(percent_done)
