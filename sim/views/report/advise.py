"""The advice report: the page for an advice folder (``manifest.json`` + ``advice.json`` +
``advice.csv``, written by :func:`sim.workflows.advise_profile`).

Its first screen answers "what should run where, and what does it cost" in plain words for the
reference scenario (the baseline): who the enterprise is, which workloads should run on closed
APIs and which on open weights in the first and the last year advised, what that costs against
running everything on closed APIs, and a table per workload. Then what changes in each future
to watch (the recommendations figure and a table), a section per workload (its cost bars by
part, the cost table, the signal values that would flip it, where its peers stand), how the
advice was made, and provenance.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.views.report.page import (
    FolderKind,
    Section,
    document,
    esc,
    facts,
    figure,
    hash_span,
    software_facts,
    swatch,
    table,
    td,
    th,
)
from sim.views.report.reading import ReportError, read_json, read_manifest
from sim.views.report.words import join_words, pct, tokens, usd
from sim.views.style import REGION_LABELS

ADVICE_FILES = ("manifest.json", "advice.json", "advice.csv")
#: What every advice row must hold for the report.
ROW_KEYS = ("scenario", "workload", "class", "year", "quarter", "deployment_now", "recommended",
            "agreement", "changes_in", "mtok_per_month", "break_even_mtok_per_month",
            "cost_closed_usd", "cost_open_usd", "cost_open_finetuned_usd", "compliance_usd",
            "platform_usd", "peer_group", "peers", "peer_closed", "peer_open",
            "peer_open_finetuned")
DOCUMENT_KEYS = {"profile": dict, "reference": str, "scenarios": list, "advice": list,
                 "costs": list, "thresholds": list}


def _is_advice(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ADVICE_FILES)


class AdviceData:
    """An advice folder's manifest and document, read once, with look-ups."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = read_manifest(folder)
        self.document = _read_document(folder / "advice.json")
        self.profile = self.document["profile"]
        self.reference = self.document["reference"]
        self.scenarios = {record["name"]: record for record in self.document["scenarios"]}
        self.names = list(self.scenarios)
        self.rows = {(row["scenario"], row["workload"], row["year"]): row
                     for row in self.document["advice"]}
        self.years = sorted({row["year"] for row in self.document["advice"]})
        self.workloads = [workload["name"] for workload in self.profile.get("workloads", [])]

    def row(self, scenario: str, workload: str, year: int) -> dict | None:
        return self.rows.get((scenario, workload, year))

    def costs(self, scenario: str, workload: str, year: int) -> dict:
        """(option, part) -> the cost row (mean, p5, p95 USD a year)."""
        return {(cost["option"], cost["part"]): cost for cost in self.document["costs"]
                if (cost["scenario"], cost["workload"], cost["year"]) == (scenario, workload,
                                                                         year)}

    def thresholds(self, scenario: str, workload: str, year: int) -> list[dict]:
        return [found for found in self.document["thresholds"]
                if (found["scenario"], found["workload"], found["year"]) == (scenario, workload,
                                                                            year)]

    def png(self, name: str) -> Path:
        return self.folder / "plots" / name


def _read_document(path: Path) -> dict:
    """``advice.json``, checked to hold what the report reads, or a :class:`ReportError`."""
    data = read_json(path, "the advice")
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not an advice document: it should hold a mapping")
    for key, kind in DOCUMENT_KEYS.items():
        if not isinstance(data.get(key), kind):
            raise ReportError(f"{path}: {key}: missing, or not {kind.__name__}")
    for index, row in enumerate(data["advice"]):
        missing = [key for key in ROW_KEYS if not isinstance(row, dict) or key not in row]
        if missing:
            raise ReportError(f"{path}: advice.{index}.{missing[0]}: missing")
    if not data["advice"] or not all(isinstance(s, dict) and "name" in s
                                     for s in data["scenarios"]):
        raise ReportError(f"{path}: holds no advice rows or an unnamed scenario")
    return data


# --- words ------------------------------------------------------------------------------------

OPTION_WORDS = {"closed": "closed APIs", "open": "open weights, self-hosted",
                "open_finetuned": "open weights, fine-tuned"}


def _words(name: str) -> str:
    return name.replace("_", " ")


def _choice(row: dict | None) -> str:
    """"open weights, fine-tuned (67% of draws)"."""
    if row is None:
        return "&ndash;"
    return f"{OPTION_WORDS[row['recommended']]} ({pct(row['agreement'])} of draws)"


def _choice_cell(row: dict | None) -> str:
    from sim.views.style import DEPLOYMENT_COLOURS

    if row is None:
        return "&ndash;"
    return (f"{swatch(DEPLOYMENT_COLOURS[row['recommended']])}{esc(_words(row['recommended']))}"
            f"<span class=\"interval\">{pct(row['agreement'])} agree</span>")


def _interval_cell(mean, low, high) -> str:
    if mean is None:
        return "&ndash;"
    return f"{usd(mean)}<span class=\"interval\">{usd(low)}&ndash;{usd(high)}</span>"


# --- the page ---------------------------------------------------------------------------------

def render_advice(folder: Path, *, targets: str | Path | None = None) -> str:
    """The HTML of an advice folder's report (see the module docstring). ``targets`` is
    accepted for a uniform signature and not used."""
    data = AdviceData(Path(folder))
    sections = [Section("futures", "In every future to watch", _futures(data))]
    sections += [Section(f"workload-{index + 1}", f"{name}", _workload_section(data, name, index))
                 for index, name in enumerate(data.workloads)]
    sections += [Section("method", "How this advice was made", _method(data)),
                 Section("provenance", "Provenance", _provenance(data))]
    version = (data.manifest.get("versions") or {}).get("adoptsim", "")
    footer = (f"Generated by adoptsim {esc(version)} from the advice for profile "
              f"<code>{esc(data.profile.get('name', ''))}</code>. This page is self-contained: "
              "it needs no network and can be saved, mailed or printed as it is.")
    return document(f"What should run where: \u201c{data.profile.get('name', '')}\u201d",
                    "adoptsim advice report", _headline(data), sections, footer)


def _headline(data: AdviceData) -> str:
    """The first screen: who, what should run where, what it costs, the summary table."""
    profile, first, last = data.profile, data.years[0], data.years[-1]
    record = data.scenarios.get(data.reference, {})
    who = (f"{esc(' '.join(str(profile.get('description') or '').split()))} "
           f"({esc(_words(profile.get('sector', '')))}, "
           f"{esc(REGION_LABELS.get(profile.get('region', ''), ''))}, "
           f"{esc(profile.get('size', ''))} size band; {profile.get('ml_engineers', 0):g} ML "
           f"engineers, an ML capacity of {record.get('ml_capacity', 0):.2f} in the model).")
    paragraphs = [f'<p class="headline"><b>Who.</b> {who}</p>',
                  f'<p class="headline"><b>What should run where.</b> '
                  f"{_where_sentence(data, first)} {_change_sentence(data, first, last)}</p>",
                  f'<p class="headline"><b>What it costs.</b> {_cost_sentence(data, first)}</p>',
                  _summary_table(data),
                  f'<p class="note">How to read it: under the scenario '
                  f"<i>{esc(data.reference)}</i>, each year at its last quarter, the deployment "
                  f"most of the {record.get('draws', '')} posterior draws of the calibrated model "
                  "recommend, and how many agree; costs are USD a year, means with the 90% "
                  "interval over the draws. Futures to watch, each workload's costs by part, "
                  "what would change the answer and where the peers stand follow below.</p>"]
    return "\n".join(paragraphs)


def _by_option(data: AdviceData, year: int) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in data.workloads:
        row = data.row(data.reference, name, year)
        if row is not None:
            grouped.setdefault(row["recommended"], []).append(name)
    return grouped


def _where_sentence(data: AdviceData, year: int) -> str:
    grouped = _by_option(data, year)
    parts = [f"run {join_words([f'<b>{esc(name)}</b>' for name in names])} on "
             f"{OPTION_WORDS[option]}" for option, names in grouped.items()]
    return f"Under <i>{esc(data.reference)}</i>, in {year}: {join_words(parts)}."


def _change_sentence(data: AdviceData, first: int, last: int) -> str:
    if first == last:
        return ""
    changes = []
    for name in data.workloads:
        before, after = data.row(data.reference, name, first), data.row(data.reference, name, last)
        if before and after and before["recommended"] != after["recommended"]:
            when = next((data.row(data.reference, name, year)["changes_in"]
                         for year in data.years if data.row(data.reference, name, year)
                         and data.row(data.reference, name, year)["changes_in"]), "")
            changes.append(f"<b>{esc(name)}</b> moves to {_choice(after)}"
                           + (f" from {esc(when)}" if when else ""))
    if not changes:
        return f"The answer holds to {last}."
    return f"By {last}, {join_words(changes)}; the rest stay."


def _cost_sentence(data: AdviceData, year: int) -> str:
    rows = [row for row in (data.row(data.reference, name, year) for name in data.workloads)
            if row is not None]
    chosen = sum(row[f"cost_{row['recommended']}_usd"] for row in rows)
    platform = rows[0]["platform_usd"] if rows else 0.0
    closed = sum(row["cost_closed_usd"] for row in rows)
    if all(row["recommended"] == "closed" for row in rows):
        return (f"In {year} running them all on closed APIs costs about {usd(closed)} a year in "
                f"API tokens. Self-hosting any of them would add its GPUs and engineers and the "
                f"open platform's team, about {usd(platform)} a year for the first open "
                "workload.")
    return (f"In {year} the recommended deployments cost about {usd(chosen + platform)} a year, "
            f"of which {usd(platform)} is the open platform's team that any open workload "
            f"needs; everything on closed APIs would cost {usd(closed)}.")


def _pays(row: dict) -> str:
    """Where self-hosting a workload pays, in words."""
    if row["break_even_mtok_per_month"] is None:
        return "never, in money alone"
    return f"above {tokens(row['break_even_mtok_per_month'])} tokens a month"


def _summary_table(data: AdviceData) -> str:
    first, last = data.years[0], data.years[-1]
    header = [[th("Workload"), th("Runs now"), th(f"{first}"), th(f"{last}"),
               th(f"Closed API, {first}"), th(f"Self-hosted, {first}"),
               th(f"Fine-tuned, {first}"), th("Break-even (tokens a month)"),
               th("Its tokens a month")]]
    rows = []
    for name in data.workloads:
        row = data.row(data.reference, name, first)
        if row is None:
            continue
        rows.append([td(f"<b>{esc(name)}</b><span class=\"interval\">"
                        f"{esc(_words(row['class']))}</span>"),
                     td(esc(_words(row["deployment_now"]))),
                     td(_choice_cell(row)), td(_choice_cell(data.row(data.reference, name, last))),
                     *[td(_interval_cell(row[f"cost_{option}_usd"], row.get(f"cost_{option}_p5"),
                                         row.get(f"cost_{option}_p95")))
                       for option in ("closed", "open", "open_finetuned")],
                     td(tokens(row["break_even_mtok_per_month"])),
                     td(tokens(row["mtok_per_month"]))])
    return table(header, rows, f"Under <i>{esc(data.reference)}</i>: the recommendation in "
                 f"{first} and {last}, each option's cost in {first} (USD a year, 90% interval "
                 "below) and the volume above which self-hosting costs less than the API.")


# --- sections ---------------------------------------------------------------------------------

def _futures(data: AdviceData) -> str:
    from sim.views.figures.advise import RECOMMENDATIONS

    last = data.years[-1]
    sentences = []
    for name in data.names[1:]:
        moved = [f"<b>{esc(workload)}</b> to {_choice(data.row(name, workload, last))}"
                 for workload in data.workloads
                 if (data.row(name, workload, last) or {}).get("recommended")
                 != (data.row(data.reference, workload, last) or {}).get("recommended")]
        description = esc(data.scenarios[name].get("description", ""))
        sentences.append(f"<li><i>{esc(name)}</i> ({description}): "
                         + (f"by {last}, {join_words(moved)}." if moved
                            else f"the same recommendations as {esc(data.reference)} in {last}.")
                         + "</li>")
    intro = (f"<p>How the answer in {last} changes in each future, against "
             f"<i>{esc(data.reference)}</i>:</p><ul>{''.join(sentences)}</ul>" if sentences
             else "<p>Advised under one scenario only.</p>")
    header = [[th("Workload")] + [th(name) for name in data.names]]
    rows = [[td(esc(workload))] + [td(_choice_cell(data.row(name, workload, last)))
                                   for name in data.names] for workload in data.workloads]
    return (intro + figure(data.png(RECOMMENDATIONS), "Recommended deployment per workload and "
                           "year in each scenario", "<b>What should run where, in every "
                           "future.</b> Each cell is the recommended deployment with the share "
                           "of posterior draws that agree.")
            + table(header, rows, f"The recommendation in {last} in each scenario."))


def _workload_section(data: AdviceData, name: str, index: int) -> str:
    from sim.views.figures.advise import cost_figure_name

    first, last = data.years[0], data.years[-1]
    start, end = data.row(data.reference, name, first), data.row(data.reference, name, last)
    if start is None or end is None:
        return "<p>No advice rows for this workload.</p>"
    intro = (f"<p><b>{esc(name)}</b> is {esc(_words(start['class']))} work using "
             f"{tokens(start['mtok_per_month'])} tokens a month in {first}, "
             f"{tokens(end['mtok_per_month'])} by {last} as its class's tokens grow. "
             f"Self-hosting it pays {_pays(start)} in {first} ({_pays(end)} in {last}). "
             f"Recommended: {_choice(start)} in {first}, {_choice(end)} in {last}.</p>")
    return (intro + figure(data.png(cost_figure_name(index)), f"Yearly cost of {name} by option "
                           "and part", f"<b>What {esc(name)} costs a year</b> under "
                           f"<i>{esc(data.reference)}</i>, by option and part.")
            + _cost_table(data, name) + _flip_table(data, name) + _peer_table(data, name))


def _cost_table(data: AdviceData, name: str) -> str:
    header = [[th("Year"), th("API tokens"), th("Compliance (not paid)"), th("GPUs"),
               th("Engineers"), th("Fine-tuning"), th("Closed total"), th("Self-hosted total"),
               th("Fine-tuned total"), th("Recommended")]]
    rows = []
    for year in data.years:
        row, costs = data.row(data.reference, name, year), data.costs(data.reference, name, year)
        if row is None:
            continue
        parts = [costs.get(key, {}).get("mean") for key in (
            ("closed", "api_tokens"), ("closed", "compliance"), ("open", "gpus"),
            ("open", "staff"), ("open_finetuned", "fine_tuning"))]
        totals = [_interval_cell(row[f"cost_{option}_usd"], row.get(f"cost_{option}_p5"),
                                 row.get(f"cost_{option}_p95"))
                  for option in ("closed", "open", "open_finetuned")]
        rows.append([td(str(year)), *[td(usd(part)) for part in parts],
                     *[td(total) for total in totals], td(_choice_cell(row))])
    return table(header, rows, "USD a year, means over the posterior draws (totals with their "
                 "90% interval). The compliance penalty is what data-sovereignty duties weigh "
                 "against the closed API in the model's exchange rate, not money paid.")


def _flip_table(data: AdviceData, name: str) -> str:
    from sim.core.signal_table import SIGNAL_BY_NAME

    rows = []
    for year in dict.fromkeys([data.years[0], data.years[-1]]):
        found = {(t["signal"], t["direction"]): t
                 for t in data.thresholds(data.reference, name, year)}
        for signal in dict.fromkeys(signal for signal, _ in found):
            spec = SIGNAL_BY_NAME.get(signal)
            cells = []
            for direction in ("up", "down"):
                t = found.get((signal, direction))
                cells.append(td(f"{t['threshold']:.3g} &rarr; {esc(_words(t['becomes']))}"
                                if t and t.get("threshold") is not None else "no flip"))
            now = found[next(key for key in found if key[0] == signal)]["now"]
            rows.append([td(f"{year}: {esc(spec.label if spec else signal)}"
                            f"<span class=\"interval\">{esc(spec.unit if spec else '')}</span>"),
                         td(f"{now:.3g}"), *cells])
    if not rows:
        return ""
    return "<h3>What would flip it</h3>" + table(
        [[th("Signal"), th("Now"), th("Rises to"), th("Falls to")]], rows,
        f"Under <i>{esc(data.reference)}</i>: the value of each signal, the others held, at "
        "which the recommendation changes, and to what; \u201cno flip\u201d when it does not "
        "within a factor of ten either way of where the signal stands (within its range).")


def _peer_table(data: AdviceData, name: str) -> str:
    last = data.years[-1]
    rows = []
    for scenario in data.names:
        row = data.row(scenario, name, last)
        if row is None:
            continue
        shares = [td("&ndash;" if row[f"peer_{option}"] is None else pct(row[f"peer_{option}"]))
                  for option in ("closed", "open", "open_finetuned")]
        rows.append([td(esc(scenario)), td(esc(row["peer_group"].replace("+", ", "))),
                     td(str(row["peers"])), *shares])
    return "<h3>Where its peers stand</h3>" + table(
        [[th("Scenario"), th("Peers share"), th("Peers with such work"), th("Closed"),
          th("Open"), th("Fine-tuned")]], rows,
        f"In {last}: among the simulated enterprises like this one (the attributes they share "
        "with it), pooled over the replications, the share running each deployment for "
        f"{esc(_words(data.row(data.reference, name, last)['class']))} work.")


def _method(data: AdviceData) -> str:
    from sim.advise.enterprise import TYPICAL_ML_ENGINEERS

    settings = data.manifest.get("settings") or {}
    record = data.scenarios.get(data.reference, {})
    typical = ", ".join(f"{size} {count:g}" for size, count in TYPICAL_ML_ENGINEERS.items())
    items = [
        "The model's own decision formulas for one enterprise: the costs of each option in "
        "dollars (API tokens at the price of the tier the workload's frontier need calls for; "
        "rented GPUs with a minimum deployment, or a serverless provider, whichever is cheaper; "
        "engineers relieved by ML capacity and tooling; fine-tuning), the options' utilities, "
        "and the stack of highest value with every workload movable, the open platform's team "
        "and the peer term included, paying the migration cost of leaving where a workload "
        "runs now.",
        f"One evaluation per posterior draw ({record.get('draws', '')} draws), with the "
        "scenario's expected signals at each quarter; the recommendation is the deployment most "
        "draws give.",
        f"ML capacity {record.get('ml_capacity', 0):.2f}: the size band's mean stands for a "
        f"typical team ({typical} engineers) and the odds scale with the team.",
        f"Tokens: {esc(data.profile.get('as_of', ''))} volumes grow as the scenario's token "
        "demand for the class.",
        f"Peers: {settings.get('peer_replications', '')} replications of the scenario; peer "
        f"group {esc(str(record.get('peer_group', '')).replace('+', ', '))} "
        f"({record.get('peer_enterprises', '')} enterprises).",
        "Tastes and open affinity 0 unless the profile gives them: an enterprise without "
        "idiosyncrasy, where the model's enterprises differ by persistent leanings."]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _provenance(data: AdviceData) -> str:
    manifest = data.manifest
    pairs = [("Profile", esc(manifest.get("profile", ""))),
             ("Advice hash", hash_span(manifest.get("advice_hash"))),
             *[(f"Scenario {name}", hash_span(record.get("scenario_hash")))
               for name, record in data.scenarios.items()],
             ("Settings", esc(json.dumps(manifest.get("settings") or {}, sort_keys=True))),
             ("Wall time", f"{manifest.get('wall_seconds', 0)} s"),
             *software_facts(manifest, "created", "Created")]
    return facts(pairs)


KIND = FolderKind(name="advice", holds="manifest.json, advice.json and advice.csv",
                  matches=_is_advice, render=render_advice)
