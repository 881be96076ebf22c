"""The building blocks every report page is made of.

A page is :func:`document` around a list of :class:`Section`; sections are made of
:func:`figure` (a PNG embedded as a data URL with its caption), :func:`table` (in its own
horizontally scrolling box, built from :func:`th` and :func:`td` cells), :func:`facts` (a
definition list), :func:`details` (a collapsible block) and prose. Text from files goes through
:func:`esc`. The styles are inline and a Content-Security-Policy forbids loading anything, so
every page is self-contained.

Also the blocks run and sweep reports share (resolved settings, sourced figures, software
versions), and :class:`FolderKind`, which each report module fills in for its kind of folder.
Reading a folder's files is :mod:`sim.views.report.reading`; numbers in words are
:mod:`sim.views.report.words`.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.views.report.reading import ReportError

# --- page building blocks --------------------------------------------------------------------

_STYLE = """
:root { --ink: #1f2328; --muted: #57606a; --rule: #d0d7de; --soft: #f6f8fa; --accent: #0072B2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 62rem; padding: 1rem 1rem 3rem; color: var(--ink);
  background: #fff; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; overflow-wrap: break-word; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: .3rem 0 .8rem; }
h2 { font-size: 1.35rem; margin: 2.4rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .4rem; }
p, li { max-width: 46rem; }
a { color: var(--accent); }
.kicker { margin: 0; color: var(--muted); font-size: .9rem; text-transform: uppercase;
  letter-spacing: .06em; }
.headline { font-size: 1.08rem; }
.note { color: var(--muted); font-size: .92rem; }
nav ol { margin: .4rem 0 0; padding-left: 1.3rem; columns: 2 12rem; }
figure { margin: 1.4rem 0 2rem; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { margin-top: .5rem; color: var(--muted); font-size: .95rem; max-width: 46rem; }
figcaption b { color: var(--ink); }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .6rem 0 .4rem;
  max-width: 100%; }
table { border-collapse: collapse; font-size: .92rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .9rem; padding: 0 0 .4rem; }
th, td { padding: .3rem .45rem; border-bottom: 1px solid var(--rule); text-align: right;
  vertical-align: top; white-space: nowrap; background: #fff; }
th { background: var(--soft); font-weight: 600; }
th:first-child, td:first-child { text-align: left; white-space: normal; min-width: 8.5rem;
  position: sticky; left: 0; z-index: 1; }
th.group { text-align: center; }
th.start, td.start, th.group { border-left: 1px solid var(--rule); }
td.text, th.text { text-align: left; white-space: normal; min-width: 12rem; }
td.left { text-align: left; }
.interval { display: block; color: var(--muted); font-size: .8em; }
.ok { color: #006b4f; font-weight: 600; }
.miss { color: #b34700; font-weight: 600; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .35em;
  vertical-align: -.05em; border-radius: 2px; }
.mix { display: flex; width: 5rem; height: .75rem; margin: .25rem 0 0 auto;
  border: 1px solid var(--rule); }
.mix span { display: block; height: 100%; }
details { margin: .8rem 0; border: 1px solid var(--rule); border-radius: 4px;
  padding: .4rem .7rem; }
summary { cursor: pointer; font-weight: 600; }
pre { overflow-x: auto; max-width: 100%; background: var(--soft); padding: .6rem;
  font-size: .82rem; line-height: 1.4; }
code, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .9em; overflow-wrap: anywhere; }
.hash { word-break: break-all; }
dl.facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .2rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 30rem) {
  body { padding: .7rem .7rem 2rem; font-size: 15px; }
  h1 { font-size: 1.4rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
}
@media print {
  @page { margin: 15mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav, .screen-only { display: none; }
  h2 { break-after: avoid; }
  figure, table, dl.facts { break-inside: avoid; }
  figure img { border: 0; max-height: 23cm; object-fit: contain; }
  .table-wrap, pre { overflow: visible; }
  th:first-child, td:first-child { position: static; }
  pre { white-space: pre-wrap; }
  details { border: 0; padding: 0; }
  details::details-content { content-visibility: visible; display: block; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# No network, ever: only inline styles and data: images may load.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Section:
    """One titled part of a page; ``body`` is HTML."""

    anchor: str
    title: str
    body: str


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def document(title: str, kicker: str, lede: str, sections: Sequence[Section], footer: str) -> str:
    """The whole HTML document: head with inline styles, a table of contents, the sections."""
    toc = "".join(f'<li><a href="#{s.anchor}">{esc(s.title)}</a></li>' for s in sections)
    body = "\n".join(_section(s) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<link rel="icon" href="data:,">
<title>{esc(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<p class="kicker">{esc(kicker)}</p>
<h1>{esc(title)}</h1>
{lede}
</header>
<nav aria-label="Contents"><strong>Contents</strong><ol>{toc}</ol></nav>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""


def _section(section: Section) -> str:
    return (f'<section id="{section.anchor}">\n<h2>{esc(section.title)}</h2>\n'
            f'{section.body}\n</section>')


def embeddable(png: Path) -> bool:
    """Whether a figure may be embedded: a regular file in a real folder of the report's. A PNG
    or plots folder that is a symbolic link could point at any file on the machine."""
    return not (png.is_symlink() or png.parent.is_symlink()) and png.is_file()


def figure(png: Path, alt: str, caption: str) -> str:
    """A PNG embedded as a data URL with its caption (``caption`` is HTML); "" unless
    :func:`embeddable`."""
    if not embeddable(png):
        return ""
    try:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
    except OSError as error:
        raise ReportError(f"{png}: cannot read the figure ({error.strerror})") from None
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}" loading="eager">'
            f"<figcaption>{caption}</figcaption></figure>")


def table(header: Sequence[Sequence[str]], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """A table in its own horizontally scrolling box, after its ``caption`` (HTML; outside the
    box, so it wraps at the page's width). Cells are HTML; each header row is a list of ``<th>``
    cells (so grouped headers can use colspan); the first column stays put while scrolling."""
    head = "".join(f"<tr>{''.join(row)}</tr>" for row in header)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    intro = f'<p class="note">{caption}</p>' if caption else ""
    return (f'{intro}<div class="table-wrap"><table><thead>{head}</thead>'
            f'<tbody>{body}</tbody></table></div>')


def th(content: str, *, colspan: int = 1, cls: str = "", raw: bool = False) -> str:
    """A column header cell; ``content`` is text, or HTML when ``raw``."""
    span = f' colspan="{colspan}"' if colspan > 1 else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<th scope="col"{span}{klass}>{content if raw else esc(content)}</th>'


def td(content_html: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f"<td{klass}>{content_html}</td>"


def details(summary: str, body_html: str) -> str:
    return f"<details><summary>{esc(summary)}</summary>{body_html}</details>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list of label -> HTML value."""
    items = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in pairs)
    return f'<dl class="facts">{items}</dl>'


def swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}" aria-hidden="true"></span>'


def other_figures(plots: Path, known: set[str], note: str) -> list[str]:
    """Figures for the PNGs in ``plots`` that a report has no dedicated caption for."""
    others = sorted(p for p in plots.glob("*.png")
                    if p.name not in known and embeddable(p)) if plots.is_dir() else []
    return [figure(png, title, f"<b>{esc(title)}.</b> {note}")
            for png in others for title in [png.stem.replace("_", " ").capitalize()]]


# --- settings and provenance blocks -----------------------------------------------------------

def _schema_ordered(resolved: dict) -> dict:
    """The resolved scenario in the schema's key order (the manifest sorts keys), or as stored
    when the schema no longer accepts it (an older run)."""
    try:
        from sim.core.schema import Scenario

        return Scenario.model_validate(resolved).model_dump(mode="json")
    except Exception:  # noqa: BLE001 - any failure means: show the manifest's own copy
        return resolved


def settings_block(resolved: dict, what: str) -> str:
    """A collapsible block with a resolved scenario as YAML."""
    import yaml

    if not resolved:
        return "<p>The manifest holds no resolved scenario.</p>"
    text = yaml.safe_dump(_schema_ordered(resolved), sort_keys=False, allow_unicode=True, width=100)
    intro = (f"<p>Every setting {what} used, after <code>extends:</code> and <code>--set</code> "
             "overrides were applied. Open the block to read them; the scenario's hash (in "
             "Provenance) identifies exactly this set of settings.</p>")
    return intro + details(f"Resolved scenario settings (YAML, {text.count(chr(10))} lines)",
                            f"<pre><code>{esc(text)}</code></pre>")


def sourced_figures(resolved: dict) -> list[tuple[str, str | None, str | None]]:
    """Every (key path, source, confidence) of the resolved scenario's sourced figures, in order."""
    found = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            if node.get("source") or node.get("confidence"):
                found.append((".".join(path), node.get("source"), node.get("confidence")))
            for key, value in node.items():
                walk(value, path + (str(key),))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + (str(index),))

    walk(resolved, ())
    return found


def sources_table(resolved: dict) -> str:
    """The sourced figures of a resolved scenario with their source and confidence."""
    rows = [[td("<code>" + ".<wbr>".join(map(esc, path.split("."))) + "</code>"),
             td(esc(source or "(no source given)"), "text"),
             td(esc(confidence) if confidence else "&ndash;")]
            for path, source, confidence in sourced_figures(_schema_ordered(resolved))]
    if not rows:
        return ""
    return ("<h3>Where the numbers come from</h3><p>Each sourced setting of the scenario, its "
            "source and how far to trust it: <i>high/medium/low</i> are measured data, "
            "<i>claimed</i> is stated by the article without primary data, <i>assumption</i> "
            "is set by the modellers.</p>"
            + table([[th("Setting"), th("Source", cls="text"), th("Confidence")]], rows))


def software_facts(manifest: dict, date_key: str, date_label: str) -> list[tuple[str, str]]:
    """Versions, date and git commit from a manifest, as facts."""
    versions = manifest.get("versions") or {}
    return [
        ("adoptsim version", esc(versions.get("adoptsim", "unknown"))),
        (
            "Other versions",
            esc(", ".join(f"{k} {v}" for k, v in versions.items() if k != "adoptsim")),
        ),
        (date_label, esc(manifest.get(date_key, "unknown"))),
        ("Git commit", f'<span class="hash">{esc(manifest.get("git_commit") or "unknown")}</span>'),
    ]


def hash_span(digest: str | None) -> str:
    return f'<span class="hash">{esc(digest)}</span>' if digest else "&ndash;"


@dataclass(frozen=True)
class FolderKind:
    """A kind of output folder: how to recognise it and how to render its report."""

    name: str
    holds: str                              # its telltale files, for error messages
    matches: Callable[[Path], bool]
    render: Callable[..., str]              # render(folder, *, targets) -> HTML
