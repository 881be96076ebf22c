"""The ``adoptsim`` command line: parses arguments, calls a library function, prints. The module
holds one idea, the command line (a handler per command and the one argument parser), which is
why it is long.

Library modules are imported inside the command handlers so that ``adoptsim --help`` starts
instantly. A bad scenario exits with code 2 and one readable message, without a traceback. The
module holds one idea, the command line (a thin handler per command, and the parser), which is
why it is long.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.running import termination

EXIT_USER_ERROR = 2


def whole_number(low: int, high: int | None, what: str):
    """An argparse type: a whole number from ``low`` to ``high`` (None: no upper end); anything
    else is an error saying it must be ``what``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
        return value

    return parse


positive_int = whole_number(1, None, "a positive whole number")   # --workers, sizes
port_number = whole_number(0, 65535, "a port number from 1 to 65535 (or 0 for any free port)")


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. --set behaviour.review_rate=0.3 (repeatable)",
    )


def _executor_options(parser: argparse.ArgumentParser) -> None:
    """Where the simulations run (sim.running.executors): --executor, --scheduler, --workers."""
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local process pool (default) or Dask")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="Dask scheduler address (default: a local cluster on 127.0.0.1)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        help="worker processes, local pool or local Dask cluster (default: all cores)",
    )


def _progress_bar(total: int, description: str):
    """A tqdm bar on stderr when it is a terminal; returns (callback, close)."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="rep", disable=not sys.stderr.isatty())

    def update(done: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def _quarter(text: str) -> str:
    """An argparse type: a quarter written YYYYQn."""
    import re

    if not re.fullmatch(r"\d{4}Q[1-4]", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a quarter; write it like 2024Q4")
    return text


POINT_HELP = ("run every replication at the posterior median: intervals then show chance only, "
              "not the parameter uncertainty the calibration leaves")


def command_validate(args) -> int:
    from sim.advise.profile import is_profile_file, load_profile
    from sim.core.scenario import load_scenario, scenario_hash

    if is_profile_file(args.scenario):
        if args.overrides:
            print("adoptsim: error: --set applies to scenarios; a profile file (kind: profile) "
                  "takes none", file=sys.stderr)
            return EXIT_USER_ERROR
        profile = load_profile(args.scenario)
        print(f"{args.scenario}: valid profile '{profile.name}' ({profile.sector}, "
              f"{profile.region}, {profile.size}; {profile.ml_engineers:g} ML engineers; "
              f"{len(profile.workloads)} workloads as of {profile.as_of})")
        return 0
    scenario = load_scenario(args.scenario, args.overrides)
    print(f"{args.scenario}: valid scenario '{scenario.name}' "
          f"({scenario.horizon.start}-{scenario.horizon.end}, "
          f"{scenario.population.enterprises} enterprises, hash {scenario_hash(scenario)[:8]})")
    return 0


def command_run(args) -> int:
    from sim.core.quarters import snapshot_quarters
    from sim.views.terminal import headline_table
    from sim.workflows import resolve, run_scenario

    scenario = resolve(args.scenario, replications=args.replications, seed=args.seed,
                       overrides=args.overrides, point=args.point)
    update, close = _progress_bar(scenario.replications, f"{scenario.name}")
    try:
        result = run_scenario(scenario, workers=args.workers, executor=args.executor,
                              scheduler=args.scheduler, out=args.out, plots=not args.no_plots,
                              progress=update)
    finally:
        close()
    print(f"Run folder: {result.folder}")
    print(f"{scenario.name}: {scenario.replications} replications, "
          f"{scenario.population.enterprises} enterprises, mean and 90% interval\n")
    headline = headline_table(result.summary)
    print(headline.to_string() if len(headline) else
          f"No enterprise uses AI at {' or '.join(snapshot_quarters(scenario.quarters))} in this "
          "run, so there are no shares to report (population.sizes: ai_use_at_start, "
          "ai_use_ceiling).")
    return 0


def command_calibrate(args) -> int:
    from tqdm import tqdm

    from sim.workflows import calibrate_scenario

    bar = tqdm(desc="calibrating", disable=args.quiet or not sys.stderr.isatty())
    stage = [None]   # the bar restarts (count, rate, time left) with each stage and generation

    def progress(where) -> None:   # a sim.calibration.Progress
        if stage[0] != (where.stage, where.generation):
            stage[0] = (where.stage, where.generation)
            bar.reset(total=where.total)
            bar.set_postfix_str("", refresh=False)
            bar.set_description(f"generation {where.generation}, threshold {where.epsilon:.3g}"
                                if where.stage == "generation" else
                                "sample from the prior" if where.stage == "prior" else
                                f"move {where.generation} of the draws" if where.stage == "move"
                                else "posterior predictive")
        if where.stage == "generation":
            bar.set_postfix(
                acceptance=f"{where.done / max(where.evaluations, 1):.0%}", refresh=False
            )
        bar.update(where.done - bar.n)
        if where.stage == "predictive" and where.done == where.total:
            bar.close()   # what follows (report, plots) is not counted

    try:
        result = calibrate_scenario(args.scenario, args.targets, quick=args.quick, until=args.until,
                                    executor=args.executor, workers=args.workers,
                                    scheduler=args.scheduler, out=args.out, progress=progress)
    finally:
        bar.close()
    fit = result.report["fit"]
    print(f"Calibration report: {result.folder}")
    for path in result.wrote:
        print(f"Wrote {path}")
    print(
        f"{len(fit['generations'])} generations of {result.calibration.settings.particles} "
        f"particles, {fit['evaluations']} evaluations, final threshold {fit['final_epsilon']:.3f}, "
        f"acceptance {fit['final_acceptance']:.0%} ({fit['wall_seconds']:.0f} s); it stopped "
        f"because {fit['stopped']}\n"
    )
    panel = result.panel.assign(fitted=result.panel["fitted"].map({True: "yes", False: "held out"}),
                                inside=result.panel["inside"].map({True: "yes", False: "no"}))
    print(panel[["name", "quarter", "kind", "value", "tolerance", "mean", "p5", "p95", "inside",
                 "outside", "fitted"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print(result.parameters.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    validation = result.report["validation"]
    if validation:
        print(f"\nOut of sample: {validation['inside']} of {len(validation['held_out'])} entries "
              f"after {validation['until']} inside their 90% predictive interval "
              f"(coverage {validation['coverage']:.0%})")
    return 0


def command_report(args) -> int:
    from sim.calibration import project_targets
    from sim.views.report import build_report

    print(f"Report: {build_report(args.folder, targets=args.targets or project_targets())}")
    return 0


def command_sweep(args) -> int:
    from sim.sweep import ProgressReporter, load_sweep, run_sweep
    from sim.views.sweep_analysis import analyze_sweep

    sweep = load_sweep(args.sweep)
    progress = ProgressReporter(sweep.spec.name, quiet=args.quiet)
    try:
        result = run_sweep(sweep, executor=args.executor, scheduler=args.scheduler,
                           workers=args.workers, out=args.out, retry_failed=args.retry_failed,
                           progress=progress)
    finally:
        progress.close()
    print(f"Sweep folder: {result.folder}")
    print(
        f"{sweep.spec.name}: {result.runs} runs, {result.finished} finished, {result.failed} failed"
        f" ({result.executed} run now, {result.wall_seconds:.1f} s)"
    )
    if result.failed:
        print(f"Tracebacks of the failed runs: {result.folder / 'failures'} "
              "(--retry-failed runs them again)")
    if args.no_analysis:
        from sim.views.report import build_report

        print(f"Report: {build_report(result.folder)}")
    else:
        _print_analysis(analyze_sweep(result.folder))
    return 1 if result.failed else 0


def command_analyze(args) -> int:
    from sim.views.sweep_analysis import analyze_sweep

    _print_analysis(analyze_sweep(args.folder, prim=args.prim, plots=not args.no_plots))
    return 0


def _print_analysis(analysis) -> None:
    print(f"Analysis: {analysis.folder} ({len(analysis.files)} files)")
    for note in analysis.notes:
        print(f"  note: {note}")
    for box in analysis.prim:
        stats = box.stats
        print(f"  PRIM {box.condition}: coverage {stats['coverage']:.0%}, density "
              f"{stats['density']:.0%}, restricts "
              + (", ".join(box.box().query("restricted").index) or "nothing"))


def command_compare(args) -> int:
    from sim.views.terminal import comparison_display, signposts_display
    from sim.workflows import DEFAULT_COMPARE_DATES, compare_scenarios

    dates = args.at or list(DEFAULT_COMPARE_DATES)
    result = compare_scenarios(args.scenarios, reference=args.reference, dates=dates,
                               replications=args.replications, workers=args.workers,
                               executor=args.executor, scheduler=args.scheduler, out=args.out,
                               reuse=not args.no_reuse, point=args.point,
                               progress=lambda name: print(f"  {name}: done", file=sys.stderr))
    reference = result.table["scenario"].iloc[0]
    print(f"Comparison folder: {result.folder}")
    print(comparison_display(result.table, reference))
    if signposts := signposts_display(result.signposts.table):
        print(signposts)
    return 0


def command_advise(args) -> int:
    from sim.views.terminal import advice_display
    from sim.workflows import advise_profile

    result = advise_profile(args.profile, scenarios=args.scenarios, baseline=args.baseline,
                            until=args.until, draws=args.draws,
                            peer_replications=args.peer_replications,
                            peer_enterprises=args.peer_enterprises, out=args.out,
                            plots=not args.no_plots)
    advice, manifest = result.advice, result.manifest
    print(f"Advice folder: {result.folder}")
    print(f"{advice.profile.name}: {len(advice.profile.workloads)} workloads under "
          f"{len(advice.scenarios)} scenarios, {advice.scenarios[0]['draws']} posterior draws "
          f"each ({manifest['wall_seconds']:.1f} s)\n")
    print(advice_display(advice.table, manifest["reference"]))
    return 0


def command_clean(args) -> int:
    from sim.running import storage

    stale = storage.stale_partials(args.out, recursive=True)
    if not stale:
        print(f"No unfinished folders older than a day under {args.out}.")
        return 0
    print(f"Unfinished folders and files older than a day under {args.out}, left by killed runs:")
    for path in stale:
        print(f"  {path}")
        if args.yes:
            storage.remove_path(path)
    print(f"Removed {len(stale)}." if args.yes else "Run adoptsim clean --yes to remove them.")
    return 0


def _extra_missing(module: str, needs: str, extra: str) -> bool:
    """Whether an optional extra's ``module`` is not installed; if so, say which to install."""
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        return False
    print(f'adoptsim: error: {needs}: pip install -e ".[{extra}]"', file=sys.stderr)
    return True


def command_explore(args) -> int:
    """Start the interactive explorer (the ``viz`` extra) on the scenario, in this project."""
    from sim.core.scenario import load_scenario
    from sim.explorer.files import project_root, safe_path

    if _extra_missing("solara", "the explorer needs Solara", "viz"):
        return EXIT_USER_ERROR
    root = project_root()
    load_scenario(args.scenario)                      # a bad scenario: the usual message, exit 2
    scenario = safe_path(root, args.scenario)         # and the page reads only the project's
    from sim.explorer.server import check_host, listening_socket, serve

    check_host(args.host, args.allow_remote)          # no authentication: this machine only
    serve(root, str(scenario.relative_to(root.resolve())),
          listener=listening_socket(args.host, args.port), enterprises=args.enterprises,
          replications=args.replications, draws=args.draws,
          peer_replications=args.peer_replications)
    return 0


def command_docs(args) -> int:
    """Build the documentation site strictly into OUT/site; with --serve, serve it."""
    if _extra_missing("mkdocs", "the documentation needs MkDocs", "docs"):
        return EXIT_USER_ERROR
    from sim.docs import build_site, serve_site

    built = build_site(args.out)
    notebooks = ", ".join(f"{name} {seconds:.0f} s"
                          for name, seconds in built.notebook_seconds.items())
    print(f"Site: {built.folder} (built in {built.seconds:.0f} s; notebooks run: {notebooks})")
    if args.serve:
        serve_site(built.folder, host=args.host, port=args.port)
    else:
        print(f"Open {built.folder / 'index.html'}, or serve it: adoptsim docs --serve")
    return 0


BENCHMARKS = Path("tests", "benchmarks", "run.py")


def benchmarks_script(start: Path | None = None) -> Path | None:
    """``tests/benchmarks/run.py`` of the source checkout holding ``start`` (default: the
    working directory), found from its project root (the folder with ``pyproject.toml``)."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() and (folder / BENCHMARKS).is_file():
            return folder / BENCHMARKS
    return None


def command_bench(args) -> int:
    """Run the checkout's benchmarks (tests/benchmarks/run.py) with the arguments given."""
    import importlib.util

    script = benchmarks_script()
    if script is None:
        print(f"adoptsim: error: the benchmarks are in {BENCHMARKS.parent.as_posix()} of a source "
              f"checkout: run adoptsim bench inside one (there is none at {Path.cwd()})",
              file=sys.stderr)
        return EXIT_USER_ERROR
    sys.path.insert(0, str(script.parent))  # run.py imports its siblings
    spec = importlib.util.spec_from_file_location("benchmarks_run", script)
    benchmarks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmarks)
    return benchmarks.main(args.bench_arguments, prog="adoptsim bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adoptsim",
        description="Agent-based simulator of enterprises choosing closed AI APIs, self-hosted "
                    "open-weight models, or hybrid stacks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write a run folder")
    _scenario_options(run)
    run.add_argument(
        "--replications", type=int, help="number of replications (default: the scenario's)"
    )
    run.add_argument("--seed", type=int, help="scenario seed (default: the scenario's)")
    run.add_argument("--point", action="store_true", help=POINT_HELP)
    _executor_options(run)
    run.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.set_defaults(handler=command_run)

    calibrate = commands.add_parser("calibrate", help="fit the free parameters' posterior to the "
                                    "panel of observations (ABC-SMC)")
    calibrate.add_argument("scenario", nargs="?", default="scenarios/baseline.yaml",
                           help="scenario to calibrate (default: scenarios/baseline.yaml)")
    calibrate.add_argument(
        "--targets",
        default="scenarios/targets.yaml",
        help="the panel and calibration settings (default: scenarios/targets.yaml)",
    )
    calibrate.add_argument("--quick", action="store_true",
                           help="a small, fast fit to check the machinery (writes only the report)")
    calibrate.add_argument("--until", metavar="QUARTER", type=_quarter,
                           help="fit only observations up to QUARTER and validate on the later "
                                "ones (writes only the report)")
    _executor_options(calibrate)
    calibrate.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")
    calibrate.set_defaults(handler=command_calibrate)

    report = commands.add_parser("report", help="(re)build the HTML report of an output folder")
    report.add_argument("folder", help="a run folder (outputs/<scenario>/<timestamp>-<hash>/), a "
                                       "comparison, sweep or advice folder")
    report.add_argument("--targets", help="the targets file a run report compares the run with "
                                          "(default: the project's scenarios/targets.yaml)")
    report.set_defaults(handler=command_report)

    sweep = commands.add_parser(
        "sweep", help="run a batch sweep (grid, LHS, Sobol, Morris) and analyse it"
    )
    sweep.add_argument("sweep", help="sweep YAML file (see scenarios/sweeps/)")
    _executor_options(sweep)
    sweep.add_argument(
        "--out",
        default="outputs",
        help="output folder; the sweep goes to OUT/sweeps/NAME/HASH8 (default: outputs)",
    )
    sweep.add_argument("--retry-failed", action="store_true", help="run recorded failures again")
    sweep.add_argument("--no-analysis", action="store_true", help="skip the analysis at the end")
    sweep.add_argument("--quiet", action="store_true", help="log lines instead of a progress bar")
    sweep.set_defaults(handler=command_sweep)

    analyze = commands.add_parser(
        "analyze", help="sensitivity, grid plots and PRIM of a sweep folder"
    )
    analyze.add_argument("folder", help="a sweep folder (outputs/sweeps/NAME/HASH8/)")
    analyze.add_argument("--prim", action="append", default=[], metavar="CONDITION",
                         help="scenario discovery for a condition, e.g. "
                              "'workload_share_open_any@2030Q4 >= 0.25' (repeatable)")
    analyze.add_argument("--no-plots", action="store_true", help="tables only")
    analyze.set_defaults(handler=command_analyze)

    compare = commands.add_parser(
        "compare", help="run scenarios side by side with common random numbers"
    )
    compare.add_argument("scenarios", nargs="+", help="scenario YAML files")
    compare.add_argument("--point", action="store_true", help=POINT_HELP)
    compare.add_argument("--reference", default="scenarios/baseline.yaml",
                         help="the scenario differences are taken against (default: the baseline)")
    compare.add_argument(
        "--at",
        action="append",
        metavar="QUARTER",
        help="a date for the table, e.g. 2028Q4 (repeatable; default 2026Q4, 2028Q4, 2030Q4)",
    )
    compare.add_argument("--replications", type=int, help="replications for every scenario "
                         "(default: the reference's)")
    _executor_options(compare)
    compare.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    compare.add_argument("--no-reuse", action="store_true",
                         help="run every scenario even if a run folder with the same hash exists")
    compare.set_defaults(handler=command_compare)

    advise = commands.add_parser(
        "advise", help="advise one enterprise (a profile file): which workloads should run on "
                       "closed APIs or open weights, what each option costs, when it flips")
    advise.add_argument("profile", help="profile YAML file (kind: profile; see profiles/)")
    advise.add_argument("--scenarios", nargs="*", metavar="FILE",
                        help="futures to advise under beside the baseline (default: the "
                             "what-to-watch 2x2, scenarios/watch/tooling-*-gap-*.yaml; "
                             "--scenarios with no file: the baseline only)")
    advise.add_argument("--baseline", default="scenarios/baseline.yaml",
                        help="the reference scenario (default: scenarios/baseline.yaml)")
    advise.add_argument("--until", metavar="QUARTER", type=_quarter,
                        help="the last quarter advised on (default: each scenario's horizon end)")
    advise.add_argument("--draws", type=positive_int,
                        help="posterior draws to evaluate (default: all)")
    advise.add_argument("--peer-replications", type=positive_int,
                        help="replications of each scenario for the peers (default: 4)")
    advise.add_argument("--peer-enterprises", type=positive_int,
                        help="enterprises in those replications (default: the scenario's)")
    advise.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    advise.add_argument("--no-plots", action="store_true", help="skip the figures")
    advise.set_defaults(handler=command_advise)

    validate = commands.add_parser("validate", help="check a scenario or a profile file without "
                                                    "running it")
    _scenario_options(validate)
    validate.set_defaults(handler=command_validate)

    clean = commands.add_parser("clean", help="list (and with --yes remove) unfinished folders "
                                              "that killed runs left behind")
    clean.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    clean.add_argument("--yes", action="store_true", help="remove them (default: only list them)")
    clean.set_defaults(handler=command_clean)

    explore = commands.add_parser("explore", help="start the interactive explorer (a local web "
                                                  "page: what if, my enterprise, agents, "
                                                  "results)")
    explore.add_argument("scenario", nargs="?", default="scenarios/baseline.yaml",
                         help="the scenario the page opens on (default: scenarios/baseline.yaml)")
    explore.add_argument("--host", default="127.0.0.1", help="address to listen on "
                         "(default: 127.0.0.1, this machine only; another needs --allow-remote)")
    explore.add_argument("--allow-remote", action="store_true",
                         help="let a --host that other machines can reach be used: the page has "
                              "no authentication")
    explore.add_argument("--port", type=port_number, default=8765,
                         help="port, 1 to 65535, or 0 for any free one (default: 8765); the "
                              "address is printed")
    explore.add_argument("--enterprises", type=positive_int, default=1000,
                         help="enterprises per replication on the page (default: 1,000)")
    explore.add_argument("--replications", type=positive_int, default=8,
                         help="replications per what-if ensemble (default: 8)")
    explore.add_argument("--draws", type=positive_int, default=100,
                         help="posterior draws of the My enterprise view's advice (default: 100;"
                              " adoptsim advise: all)")
    explore.add_argument("--peer-replications", type=positive_int, default=2,
                         help="replications of the advice's peer simulation, each of "
                              "--enterprises enterprises (default: 2; adoptsim advise: 4)")
    explore.set_defaults(handler=command_explore)

    docs = commands.add_parser("docs", help="build the documentation site (strictly, notebooks "
                                            "executed) into OUT/site, and with --serve serve it")
    docs.add_argument("--serve", action="store_true",
                      help="serve the built site on this machine until Ctrl-C")
    docs.add_argument("--out", default="outputs",
                      help="output folder; the site goes to OUT/site (default: outputs)")
    docs.add_argument("--host", default="127.0.0.1", help="address to serve on "
                      "(default: 127.0.0.1, this machine only)")
    docs.add_argument("--port", type=int, default=8000, help="port to serve on (default: 8000)")
    docs.set_defaults(handler=command_docs)

    bench = commands.add_parser("bench", add_help=False,
                                help="time the model at 2,000 to 100,000 enterprises and write "
                                     "the table as JSON (from a source checkout: "
                                     "tests/benchmarks; adoptsim bench --help for its options)")
    bench.set_defaults(handler=command_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; SIGTERM or Ctrl-C (from start-up on) end it with exit code 143 or 130
    and one line, after its clean-up (:mod:`sim.running.termination`)."""
    try:
        with termination.handling_signals():   # and a signal after the last safe point: raised
            return _command(argv)               # as it ends, so the command is not reported done
    except termination.Terminated as stop:
        termination.leave(stop)


def _thread_only_progress_lock() -> None:
    """Give tqdm's progress bars a lock for threads only. Its default adds a multiprocessing
    lock (for bars drawn by forked workers, which there are none of here); with the start method
    Mesa sets ("spawn") that lock is registered with multiprocessing's resource tracker, which,
    if the terminate watchdog ends the process (:mod:`sim.running.termination`), prints a
    warning after "adoptsim: terminated"."""
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def _command(argv: list[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_arguments = extra   # parsed by the benchmarks themselves
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from sim.errors import InternalError, UserError

    _thread_only_progress_lock()
    termination.check()   # a signal during start-up (these imports take a while): nothing ran
    try:
        return args.handler(args)
    except UserError as error:   # a bad input, output folder or executor: one line, exit 2
        print(f"adoptsim: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except InternalError as error:   # adoptsim's fault, e.g. a run met a non-finite number
        print(f"adoptsim: internal error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the machine's fault (a full disk, a lost mount): still one line
        print(f"adoptsim: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
