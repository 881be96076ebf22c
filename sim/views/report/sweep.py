"""The sweep report: the page for a sweep folder (``manifest.json`` + ``design.parquet`` +
``results.parquet``, written by :func:`sim.sweep.run_sweep`).

What the sweep asks and finds in plain words, the design, each outcome's spread over the runs,
and, once ``sim.analysis.analyze_sweep`` has written ``analysis/``, the sensitivity charts and
table, grid heatmaps and line plots, and the PRIM boxes with their limits; then the base
scenario's settings and provenance.
"""

from __future__ import annotations

from pathlib import Path

from sim.views.report.page import (
    METRIC_LABELS, FolderKind, Section, check_shape, document, esc, facts, figure, figure_value,
    hash_span, join_words, read_manifest, read_parquet, segment_label, settings_block,
    software_facts, sources_table, table, td, th)

SWEEP_FILES = ("manifest.json", "design.parquet", "results.parquet")
SWEEP_SPEC = "sweep.yaml"
#: What the report reads from the sweep file (see :func:`sim.views.report.page.check_shape`).
SPEC_SHAPE = {"name": str, "description": str, "parameters": {"*": {"label": str}},
              "design": {"method": str}, "outcomes": [str]}
_PRIM_OPERATORS = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}


def _is_sweep(folder: Path) -> bool:
    return all((folder / name).is_file() for name in SWEEP_FILES)


class SweepData:
    """A sweep folder's manifest, results table and analysis files, loaded once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = read_manifest(folder)
        self.spec: dict = self._spec()
        self.results = read_parquet(folder / "results.parquet")
        self.parameters: dict[str, dict] = self.spec.get("parameters") or {}
        self.outcomes: list[str] = [o for o in self.spec.get("outcomes") or [] if o in self.results]
        status = self.results.get("status")
        self.finished = self.results if status is None else self.results[status == "finished"]
        self.analysis = folder / "analysis"

    def _spec(self) -> dict:
        """The sweep file as run: ``sweep.yaml`` in the folder (or the manifest's copy)."""
        from sim.core.scenario import ScenarioError, load_yaml

        path = self.folder / SWEEP_SPEC
        try:
            spec = load_yaml(path)
        except ScenarioError:
            spec = None
        if isinstance(spec, dict):
            check_shape(spec, SPEC_SHAPE, path)
            return spec
        spec = self.manifest.get("spec") or {}
        check_shape(spec, SPEC_SHAPE, self.folder / "manifest.json", "spec")
        return spec

    @property
    def name(self) -> str:
        return str(self.manifest.get("sweep") or self.spec.get("name") or self.folder.name)

    @property
    def method(self) -> str:
        return str((self.spec.get("design") or {}).get("method") or "")

    def label(self, parameter: str) -> str:
        return (self.parameters.get(parameter) or {}).get("label") or parameter

    def csv(self, name: str, **options):
        import pandas as pd

        path = self.analysis / name
        try:
            return pd.read_csv(path, **options) if path.is_file() else None
        except (OSError, ValueError):
            return None


def outcome_label(outcome: str) -> str:
    """"workload_share_open_any[region=eu]@2030Q4" -> "Workloads on open weights (any), EU, 2030Q4"."""
    head, _, quarter = outcome.partition("@")
    metric, _, segment = head.partition("[")
    segment = segment.rstrip("]")
    parts = [METRIC_LABELS.get(metric, metric)]
    if segment and segment != "all":
        parts.append(segment_label(segment))
    if quarter:
        parts.append(quarter)
    return ", ".join(parts)


def _outcome_value(value: float, outcome: str) -> str:
    return figure_value(value, outcome.partition("[")[0].partition("@")[0])


def render_sweep(folder: Path, *, targets: str | Path | None = None) -> str:
    """The HTML of a sweep folder's report: the design, the outcomes across runs, sensitivity
    charts and PRIM boxes (from ``analysis/``, written by ``sim.analysis.analyze_sweep``), and
    provenance. ``targets`` is accepted for a uniform signature and not used."""
    sweep = SweepData(Path(folder))
    sections = [
        Section("design", "Design", _sweep_design(sweep)),
        Section("outcomes", "Outcomes across runs", _sweep_outcomes(sweep)),
    ]
    if not sweep.analysis.is_dir():
        sections.append(Section("analysis", "Analysis", (
            "<p>This sweep has not been analysed yet: run <code>sim.analysis.analyze_sweep</code> "
            "on the folder (or <code>adoptsim analyze</code>), then rebuild this report with "
            "<code>adoptsim report</code>.</p>")))
    else:
        for anchor, title, render in (("sensitivity", "Sensitivity", _sweep_sensitivity),
                                      ("grid", "Outcomes over the grid", _sweep_grid),
                                      ("prim", "Scenario discovery (PRIM)", _sweep_prim)):
            body = render(sweep)
            if body:
                sections.append(Section(anchor, title, body))
    base = sweep.manifest.get("base_scenario") or {}
    sections += [
        Section("settings", "Base scenario settings", settings_block(base.get("resolved") or {},
                                                                       "the base scenario")),
        Section("provenance", "Provenance", _sweep_provenance(sweep)),
    ]
    version = (sweep.manifest.get("versions") or {}).get("adoptsim", "")
    footer = (f"Generated by adoptsim {esc(version)} from sweep <code>{esc(sweep.name)}</code> "
              f"(hash <code>{esc(str(sweep.manifest.get('sweep_hash') or '')[:8])}</code>). This "
              "page is self-contained: it needs no network and can be saved, mailed or printed.")
    return document(f"Sweep \u201c{sweep.name}\u201d", "adoptsim sweep report",
                 _sweep_headline(sweep), sections, footer)


def _sweep_headline(sweep: SweepData) -> str:
    runs = sweep.manifest.get("runs") or {}
    base = sweep.manifest.get("base_scenario") or {}
    description = " ".join(str(sweep.spec.get("description") or "").split())
    labels = [sweep.label(p) for p in sweep.parameters]
    text = (f"<p class=\"headline\"><b>What this sweep asks.</b> "
            f"{esc(description) + '. ' if description else ''}It varies "
            f"{esc(join_words(labels)) if labels else 'no parameter'} over a "
            f"{esc(sweep.method)} design of {esc(runs.get('total', len(sweep.results)))} runs "
            f"from the scenario <code>{esc(base.get('name', '?'))}</code>, and records "
            f"{esc(join_words([outcome_label(o) for o in sweep.outcomes]) or 'no outcome')}.</p>")
    findings = [sentence for sentence in (_top_driver_sentence(sweep), _prim_sentence(sweep)) if sentence]
    if findings:
        text += f"<p class=\"headline\"><b>What it finds.</b> {' '.join(findings)}</p>"
    failed = runs.get("failed") or 0
    text += (f"<p class=\"note\">{esc(runs.get('finished', len(sweep.finished)))} runs finished"
             + (f", {esc(failed)} failed (left out; their tracebacks are in "
                f"<code>failures/</code>)" if failed else "") + ".</p>")
    return text


def _sweep_design(sweep: SweepData) -> str:
    rows = []
    for name, parameter in sweep.parameters.items():
        if parameter.get("range") is not None:
            low, high = parameter["range"]
            values = f"{low:g} to {high:g} ({parameter.get('distribution') or 'uniform'})"
        elif parameter.get("levels") is not None:
            values = ", ".join(map(str, parameter["levels"]))
        else:
            values = ", ".join(parameter.get("categories") or {})
        rows.append([td(esc(sweep.label(name)), "text"), td(f"<code>{esc(name)}</code>", "left"),
                     td(esc(values), "text")])
    design = sweep.spec.get("design") or {}
    items = [("Method", esc(sweep.method)),
             ("Samples", esc(design.get("samples") if design.get("samples") is not None else "every combination")),
             ("Design seed", esc(design.get("seed", ""))),
             ("Replications", esc(sweep.spec.get("replications", ""))),
             ("Common random numbers", "yes: the same replication seeds at every design point"
              if sweep.spec.get("common_random_numbers", True) else "no"),
             ("Settings for every run", esc("; ".join(sweep.spec.get("set") or []) or "none"))]
    return (facts(items) + table([[th("Parameter", cls="text"), th("Key"), th("Values", cls="text")]],
                                   rows, "The parameters the sweep varies and the values it draws."))


def _sweep_outcomes(sweep: SweepData) -> str:
    from sim.views.plots import BAND_HIGH, BAND_LOW

    rows = []
    for outcome in sweep.outcomes:
        values = sweep.finished[outcome].dropna()
        if values.empty:
            continue
        cells = [values.mean(), values.quantile(BAND_LOW), values.quantile(BAND_HIGH),
                 values.min(), values.max()]
        rows.append([td(esc(outcome_label(outcome)), "text")]
                    + [td(_outcome_value(v, outcome)) for v in cells])
    header = [[th("Outcome", cls="text"), th("Mean"), th("5%"), th("95%"), th("Lowest"),
               th("Highest")]]
    return table(header, rows, "Each outcome over all finished runs of the design: how far apart "
                                "the parameter settings push it. Look at the spread between 5% and 95%.")


def _sensitivity_columns(method: str) -> tuple[str, str, str]:
    """The index that ranks parameters, its interval column and a reader's name for it."""
    if method == "morris":
        return "mu_star", "mu_star_conf", "mean absolute effect (Morris mu*)"
    return "ST", "ST_conf", "total Sobol index (share of the outcome's variance it is involved in)"


def _drivers(sweep: SweepData):
    """The sensitivity table, outcomes in the sweep's order, parameters from the strongest; or
    None when the analysis wrote none."""
    indices = sweep.csv("sensitivity.csv")
    index, _, _ = _sensitivity_columns(sweep.method)
    if indices is None or index not in indices or not {"outcome", "parameter"} <= set(indices):
        return None
    order = indices["outcome"].map({outcome: i for i, outcome in enumerate(sweep.outcomes)})
    return (indices.assign(order=order).sort_values(["order", index], ascending=[True, False],
                                                  kind="stable").drop(columns="order"))


def _top_driver_sentence(sweep: SweepData) -> str:
    indices = _drivers(sweep)
    if indices is None:
        return ""
    index, _, words = _sensitivity_columns(sweep.method)
    parts = [f"{esc(sweep.label(rows.iloc[0]['parameter']))} moves "
             f"<i>{esc(outcome_label(outcome))}</i> most ({words} {rows.iloc[0][index]:.2f})"
             for outcome, rows in indices.groupby("outcome", sort=False)]
    return (join_words(parts) + ".") if parts else ""


def _sweep_sensitivity(sweep: SweepData) -> str:
    from sim.analysis.data import slug

    indices = _drivers(sweep)
    if indices is None:
        return ""
    index, conf, words = _sensitivity_columns(sweep.method)
    parts = [f"<p>How much each parameter moves each outcome, by the {esc(words)}; the interval "
             f"is a 95% bootstrap half-width. Parameters are listed from the strongest.</p>"]
    for outcome, rows in indices.groupby("outcome", sort=False):
        parts.append(f"<h3>{esc(outcome_label(outcome))}</h3>")
        png = sweep.analysis / f"sensitivity_{slug(outcome)}.png"
        top = rows.iloc[0]
        if png.is_file():
            parts.append(figure(png, f"Sensitivity of {outcome_label(outcome)}", (
                f"<b>What drives it.</b> Look at the longest bars: "
                f"{esc(sweep.label(top['parameter']))} matters most ({index} {top[index]:.2f}). "
                "Bars whose interval reaches zero may not matter at all at this sample size.")))
        body = [[td(esc(sweep.label(r["parameter"])), "text"), td(f"{r[index]:.3f}"),
                 td(f"&plusmn; {r[conf]:.3f}" if conf in r and r[conf] == r[conf] else "&ndash;")]
                for _, r in rows.iterrows()]
        parts.append(table([[th("Parameter", cls="text"), th(index), th("interval")]], body))
    return "\n".join(parts)


def _sweep_grid(sweep: SweepData) -> str:
    parts = []
    for png in sorted(sweep.analysis.glob("heatmap_*.png")):
        parts.append(figure(png, png.stem.replace("_", " "), (
            "<b>Two parameters at once.</b> Each cell is the outcome's mean over the runs at that "
            "combination. Look at the direction in which the colour changes fastest: that "
            "parameter matters most; colour changing along both axes means both do.")))
    for png in sorted(sweep.analysis.glob("lines_*.png")):
        parts.append(figure(png, png.stem.replace("_", " "), (
            "<b>One parameter at a time.</b> Each line is one level of another parameter. Look at "
            "the slopes: steep lines mean the outcome responds to this parameter; lines far "
            "apart mean the other parameter matters too; crossing lines mean they interact.")))
    return "\n".join(parts)


def _prim_results(sweep: SweepData) -> list:
    """The PRIM boxes the analysis wrote (``prim_<outcome>_<op>_<value>_*.csv``), read back with
    the chosen box of each: the sweep file's conditions and any added when analysing."""
    from sim.analysis.data import slug
    from sim.analysis.prim import PrimResult, choose_box
    from sim.sweep.spec import PrimSpec

    outcomes = {slug(outcome): outcome for outcome in sweep.outcomes}
    thresholds = {}
    for prim in (sweep.spec.get("analysis") or {}).get("prim") or []:
        prim = {"condition": prim} if isinstance(prim, str) else prim
        thresholds[" ".join(str(prim.get("condition", "")).split())] = prim.get("threshold")
    results = []
    for path in sorted(sweep.analysis.glob("prim_*_trajectory.csv")):
        stem = path.name.removesuffix("_trajectory.csv")
        head, word, value = (stem.removeprefix("prim_").rsplit("_", 2) + ["", ""])[:3]
        op = {w: o for o, w in _PRIM_OPERATORS.items()}.get(word)
        trajectory = sweep.csv(path.name, index_col="step")
        limits = sweep.csv(f"{stem}_limits.csv")
        if head not in outcomes or op is None or trajectory is None or limits is None or trajectory.empty:
            continue
        condition = f"{outcomes[head]} {op} {value}"
        threshold = float(thresholds.get(condition) or PrimSpec.model_fields["threshold"].default)
        results.append((stem, PrimResult(condition, trajectory, limits,
                                         choose_box(trajectory, threshold), threshold)))
    return results


def _condition_words(condition: str) -> str:
    """"workload_share_open_any@2030Q4 >= 0.25" -> "Workloads on open weights (any), 2030Q4
    &ge; 25.0%" (HTML)."""
    outcome, op, value = (condition.split(" ") + ["", ""])[:3]
    symbol = {">=": "&ge;", "<=": "&le;", ">": "&gt;", "<": "&lt;"}.get(op, esc(op))
    try:
        number = _outcome_value(float(value), outcome)
    except ValueError:
        number = esc(value)
    return f"{esc(outcome_label(outcome))} {symbol} {number}"


def _box_words(sweep: SweepData, result) -> str:
    box = result.box()
    restricted = box[box["restricted"].astype(bool)]
    parts = []
    for parameter, row in restricted.iterrows():
        if isinstance(row.get("categories"), str) and row["categories"]:
            parts.append(f"{esc(sweep.label(parameter))} in {{{esc(row['categories'])}}}")
        else:
            parts.append(f"{esc(sweep.label(parameter))} between {row['lower']:.3g} and {row['upper']:.3g}")
    return join_words(parts) if parts else "anywhere in the sampled space"


def _prim_sentence(sweep: SweepData) -> str:
    try:
        results = _prim_results(sweep)
    except ImportError:
        return ""
    sentences = []
    for _, result in results:
        stats = result.stats
        sentences.append(
            f"Runs reach <i>{_condition_words(result.condition)}</i> mostly when "
            f"{_box_words(sweep, result)}: "
            f"{stats['density']:.0%} of runs there do, and the box holds {stats['coverage']:.0%} "
            f"of all runs that do.")
    return " ".join(sentences)


def _sweep_prim(sweep: SweepData) -> str:
    parts = []
    for stem, result in _prim_results(sweep):
        stats = result.stats
        parts.append(f"<h3>{_condition_words(result.condition)}</h3>")
        png = sweep.analysis / f"{stem}.png"
        caption = (f"<b>Which parameter ranges lead there.</b> Left: each step of peeling trades "
                   f"coverage (runs meeting the condition kept in the box) for density (share of "
                   f"the box's runs meeting it); look at the circled box, the widest with density "
                   f"of at least {result.threshold:.0%}. Right: its limits, restricted parameters "
                   f"in colour.")
        if png.is_file():
            parts.append(figure(png, f"PRIM box for {result.condition}", caption))
        box = result.box()
        rows = [[td(esc(sweep.label(parameter)), "text"),
                 td(esc(row["categories"]) if isinstance(row.get("categories"), str) and row["categories"]
                     else f"{row['lower']:.3g} &ndash; {row['upper']:.3g}"),
                 td("yes" if bool(row["restricted"]) else "no")] for parameter, row in box.iterrows()]
        parts.append(table([[th("Parameter", cls="text"), th("Box"), th("Restricted")]], rows,
                            f"Chosen box: density {stats['density']:.0%}, coverage "
                            f"{stats['coverage']:.0%}, {int(stats['n'])} runs."))
    return "\n".join(parts)


def _sweep_provenance(sweep: SweepData) -> str:
    m = sweep.manifest
    base = m.get("base_scenario") or {}
    runs = m.get("runs") or {}
    items = [
        ("Sweep", esc(sweep.name)),
        ("Sweep hash", hash_span(m.get("sweep_hash"))),
        ("Sweep file", f"<code>{esc(m.get('sweep_file', ''))}</code>"),
        ("Base scenario", esc(base.get("name", ""))),
        ("Base scenario hash", hash_span(base.get("hash"))),
        ("Runs", esc(f"{runs.get('finished', '?')} finished, {runs.get('failed', 0)} failed, "
                      f"of {runs.get('total', '?')}")),
        ("Executor", esc(m.get("executor", ""))),
        *software_facts(m, "updated", "Last updated"),
    ]
    return facts(items) + sources_table(base.get("resolved") or {})


KIND = FolderKind("sweep", "manifest.json, design.parquet and results.parquet", _is_sweep, render_sweep)
