"""The calibration report: the panel against the posterior predictive, the posterior of each
parameter and whether the panel identifies it, how the fit went, and (with ``until``) the
out-of-sample validation; as tables, strict JSON (``calibration.json``) and Markdown
(``calibration.md``).

Nothing here runs the model: it reads a :class:`sim.calibration.fit.Calibration`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibration.fit import IDENTIFIED_BELOW, Calibration
from sim.core.scenario import scenario_hash
from sim.running import provenance

IDENTIFICATION_RULE = (f"a parameter is identified by the data when its posterior 90% interval is "
                       f"less than {IDENTIFIED_BELOW:.0%} as wide as its prior's; otherwise the "
                       f"panel leaves it about where the prior had it")


def panel_table(calibration: Calibration) -> pd.DataFrame:
    """One row per panel entry: the observation, whether it was fitted, and the posterior
    predictive: mean and 90% interval over the draws, the mean's misfit, whether the
    observation lies inside the interval (an upper bound: whether the mean is at or below it)
    and, if not, how far outside, in tolerances."""
    rows = []
    for index, (target, fitted, outside) in enumerate(zip(calibration.targets, calibration.fitted,
                                                          calibration.outside)):
        predicted = calibration.predictive[:, index]
        mean = float(np.nanmean(predicted))
        low, high = np.nanquantile(predicted, [0.05, 0.95])
        rows.append({
            "name": target.name, "counts": target.counts, "metric": target.metric,
            "segment": target.segment, "quarter": target.quarter, "value": target.value,
            "tolerance": target.tolerance, "kind": target.kind, "confidence": target.confidence,
            "source": target.source, "fitted": fitted, "mean": mean, "p5": float(low),
            "p95": float(high), "misfit": target.misfit(mean), "inside": outside == 0.0,
            "outside": outside,
        })
    return pd.DataFrame(rows)


def parameter_table(calibration: Calibration) -> pd.DataFrame:
    """One row per free parameter: prior range, posterior median and 90% interval, the
    interval's width over the prior's, and whether the panel identifies the parameter."""
    low, high = calibration.interval()
    not_identified = set(calibration.not_identified)
    return pd.DataFrame({
        "parameter": calibration.names,
        "prior_low": calibration.bounds[:, 0], "prior_high": calibration.bounds[:, 1],
        "median": calibration.medians, "p5": low, "p95": high,
        "width_vs_prior": calibration.narrowing,
        "identified": [name not in not_identified for name in calibration.names],
    })


def paths_table(calibration: Calibration) -> pd.DataFrame:
    """Long table of the posterior predictive paths: metric, segment, draw, quarter, value."""
    draws, quarters, series = calibration.paths.shape
    names = calibration.scenario.quarters[:quarters]
    return pd.DataFrame({
        "metric": np.tile([m for m, _ in calibration.series], draws * quarters),
        "segment": np.tile([s for _, s in calibration.series], draws * quarters),
        "draw": np.repeat(np.arange(draws), quarters * series),
        "quarter": np.tile(np.repeat(names, series), draws),
        "value": calibration.paths.reshape(-1),
    })


def _moved(moves: list[dict]) -> str:
    """The move step as a clause: how many ABC-MCMC moves, and the share each accepted."""
    if not moves:
        return ""
    rates = ", ".join(f"{move['accepted'] / move['proposed']:.0%}" for move in moves)
    return (f", then moved {len(moves)} times each by ABC-MCMC steps at the final threshold "
            f"(draws moved per step: {rates})")


def summary(calibration: Calibration, *, quick: bool, command: str) -> dict:
    """Everything the report says, as strict JSON (no NaN): ``fit`` (generations, evaluations,
    final threshold and acceptance, why it stopped), ``panel`` (a row per entry, see
    :func:`panel_table`), ``parameters`` (a row per parameter, see :func:`parameter_table`),
    ``identification``, ``validation`` (None without ``until``), provenance."""
    panel = panel_table(calibration)
    generations = [{**g, "acceptance": g["accepted"] / max(g["evaluations"], 1)}
                   for g in calibration.generations]
    held_out = panel[~panel["fitted"]]
    return _finite(
        {
            **provenance.record(command=command),
            "quick": quick,
            "until": calibration.until,
            "seed": calibration.seed,
            "scenario": {
                "name": calibration.scenario.name,
                "hash": scenario_hash(calibration.scenario),
            },
            "settings": calibration.settings.model_dump(),
            "fit": {
                "generations": generations,
                "evaluations": sum(g["evaluations"] for g in generations),
                "simulations": calibration.simulations,
                "final_epsilon": generations[-1]["epsilon"] if generations else None,
                "final_acceptance": generations[-1]["acceptance"] if generations else None,
                "stopped": calibration.stopped,
                "final_ess": generations[-1]["ess"] if generations else None,
                "moves": calibration.moves,
                "wall_seconds": round(calibration.wall_seconds, 1),
            },
            "draws": len(calibration.draws),
            "distinct_draws": calibration.distinct_draws,
            "panel": panel.to_dict(orient="records"),
            "claimed": list(panel.loc[panel["confidence"] == "claimed", "name"]),
            "parameters": parameter_table(calibration).to_dict(orient="records"),
            "identification": {
                "rule": IDENTIFICATION_RULE,
                "threshold": IDENTIFIED_BELOW,
                "not_identified": calibration.not_identified,
            },
            "validation": None
            if held_out.empty
            else {
                "until": calibration.until,
                "held_out": list(held_out["name"]),
                "inside": int(held_out["inside"].sum()),
                "coverage": calibration.coverage,
            },
        }
    )


def _finite(value):
    """``value`` with numpy scalars made plain and every NaN or infinity replaced by None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _number(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _observed(row: dict) -> str:
    bounds = {
        "upper_bound": f"≤ {row['value']:.3f} (bound)",
        "lower_bound": f"≥ {row['value']:.3f} (bound)",
    }
    return bounds.get(row["kind"], f"{row['value']:.3f} ± {row['tolerance']:.3f}")


def _predicted(row: dict) -> str:
    return f"{_number(row['mean'])} [{_number(row['p5'])}, {_number(row['p95'])}]"


def _inside(row: dict) -> str:
    return "yes" if row["inside"] else f"**no** ({row['outside']:+.2f} tol.)"


def _miss(row: dict) -> str:
    """An entry outside its predictive interval, in words."""
    if row["kind"] != "estimate":
        return (f"{row['name']} ({row['quarter']}): the model's mean {row['mean']:.3f} is beyond "
                f"the bound {row['value']:.3f} by {abs(row['outside']):.2f} tolerances")
    side = "above" if row["outside"] > 0 else "below"
    return (f"{row['name']} ({row['quarter']}): observed {row['value']:.3f}, "
            f"{abs(row['outside']):.2f} tolerances {side} the model's 90% interval "
            f"[{row['p5']:.3f}, {row['p95']:.3f}]")


def markdown(report: dict) -> str:
    """calibration.md: the fit in words and tables."""
    lines = ["# Calibration", ""]
    for section in (_fit_lines, _generation_lines, _panel_lines, _parameter_lines,
                    _validation_lines):
        lines += section(report)
    lines += ["", "Plots: `panel_fit.png` (every entry against the predictive), `panel_paths.png` "
              "(the predictive paths through the observations), `marginals.png` (each "
              "parameter's posterior over its prior range), `pairs.png` (the draws, two "
              "parameters at a time), `generations.png` (threshold and acceptance).", ""]
    return "\n".join(lines)


def _fit_lines(report: dict) -> list[str]:
    """The command, the scenario and how the fit went, in words."""
    settings, fit = report["settings"], report["fit"]
    lines = []
    if report["quick"]:
        lines += ["**Quick mode**: a smoke run of the machinery on a small population, not a "
                  "calibration.", ""]
    lines += [
        f"`{report['command']}`, {report['created']}: {fit['wall_seconds']} s. Scenario "
        f"`{report['scenario']['name']}` ({report['scenario']['hash'][:8]}), "
        f"{settings['enterprises']} enterprises per simulation, seed {report['seed']}.",
        "",
        f"ABC-SMC (pyabc): {settings['particles']} particles per generation, "
        f"{len(fit['generations'])} generations, {fit['evaluations']} candidates evaluated "
        f"({fit['simulations']} simulated, counting those discarded at the end of each batch "
        f"and the moves' proposals); it stopped because {fit['stopped']}. Final threshold "
        f"{_number(fit['final_epsilon'])} (root of "
        f"the summed squared misfits over the fitted entries, in tolerances), final acceptance "
        f"{fit['final_acceptance'] or 0:.0%}; {report['draws']} equally weighted posterior draws "
        f"(`posterior.csv`), resampled from the last generation's weighted particles (effective "
        f"sample size, Kish's (Σw)²/Σw²: {_number(fit['final_ess'])} of "
        f"{settings['particles']}){_moved(fit['moves'])}: they hold "
        f"{report['distinct_draws']} distinct parameter vectors. The fewer distinct draws, the "
        f"more the posterior's spread is understated.",
        "",
    ]
    if report["until"]:
        lines += [f"Fitted to the entries up to {report['until']}; the later ones are held out "
                  f"(see Validation).", ""]
    return lines


def _generation_lines(report: dict) -> list[str]:
    lines = ["## Generations", "",
             "| generation | threshold | accepted | evaluated | acceptance | effective sample |",
             "| --- | --- | --- | --- | --- | --- |"]
    return lines + [f"| {g['t']} | {g['epsilon']:.3f} | {g['accepted']} | {g['evaluations']} | "
                    f"{g['acceptance']:.0%} | {g['ess']:.1f} |"
                    for g in report["fit"]["generations"]]


def _panel_lines(report: dict) -> list[str]:
    """The panel against the posterior predictive, the claims, and the entries missed."""
    lines = [
        "",
        "## The panel against the posterior predictive",
        "",
        "Each entry: what its survey counted, the observation ± its tolerance (a bound: the "
        "model should not exceed it), its confidence and source, and the model's posterior "
        "predictive (one replication per posterior draw): mean [90% interval]. *Inside*: "
        "whether the observation lies inside the 90% interval (a bound: whether the "
        "predictive mean is at or below it); if not, how far outside, in tolerances.",
        "",
        "| entry | counts | quarter | observed | confidence | model: mean [90%] | inside | fitted "
        "| source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {row['name']} ({row['metric']}, {row['segment']}) | {row['counts']} | "
              f"{row['quarter']} | {_observed(row)} | {row['confidence']} | {_predicted(row)} | "
              f"{_inside(row)} | {'yes' if row['fitted'] else 'held out'} | {row['source']} |"
              for row in report["panel"]]
    if report["claimed"]:
        lines += ["", f"**Claims without a primary source.** {', '.join(report['claimed'])}: the "
                  "article states these figures, and no primary source for them was found "
                  "(`../shared/FACTS.md`); they are fitted because readers hold them, with the "
                  "measured entries carrying the history."]
    misses = [row for row in report["panel"] if row["fitted"] and not row["inside"]]
    if misses:
        lines += [
            "",
            "**Entries the model does not meet together with the rest** (the "
            "observation outside its 90% predictive interval): "
            + "; ".join(map(_miss, misses))
            + ". Within the priors, moving the model toward them moves other entries away "
            "from theirs.",
        ]
    return lines


def _parameter_lines(report: dict) -> list[str]:
    """Each parameter's prior and posterior, and which the data do not identify."""
    lines = [
        "",
        "## Parameters",
        "",
        f"Uniform priors. Rule: {report['identification']['rule']}.",
        "",
        "| parameter | prior | posterior median | 90% interval | interval / prior | identified |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {row['parameter']} | [{row['prior_low']:.4g}, {row['prior_high']:.4g}] | "
              f"{row['median']:.4g} | [{row['p5']:.4g}, {row['p95']:.4g}] | "
              f"{row['width_vs_prior']:.2f} | {'yes' if row['identified'] else '**no**'} |"
              for row in report["parameters"]]
    not_identified = report["identification"]["not_identified"]
    return lines + ["", f"**Not identified by the data:** {', '.join(not_identified)}. Projections "
                    "carry their whole prior range." if not_identified else
                    "Every parameter is identified by the data."]


def _validation_lines(report: dict) -> list[str]:
    """The held-out entries against the predictive (nothing without ``until``)."""
    validation = report["validation"]
    if not validation:
        return []
    held_out = [row for row in report["panel"] if not row["fitted"]]
    lines = ["", "## Validation", "",
             f"The entries after {validation['until']}, not used in the fit, against the "
             f"posterior predictive: {validation['inside']} of {len(held_out)} inside their "
             f"90% predictive interval (coverage {validation['coverage']:.0%}).", "",
             "| entry | quarter | observed | model: mean [90%] | inside |",
             "| --- | --- | --- | --- | --- |"]
    return lines + [f"| {row['name']} | {row['quarter']} | {_observed(row)} | {_predicted(row)} | "
                    f"{_inside(row)} |" for row in held_out]
