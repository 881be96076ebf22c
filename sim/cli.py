"""The ``adoptsim`` command line: parses arguments, calls a library function, prints.

Library modules are imported inside the command handlers so that ``adoptsim --help`` starts
instantly. A bad scenario exits with code 2 and one readable message, without a traceback.
"""

from __future__ import annotations

import argparse
import sys

EXIT_USER_ERROR = 2


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario key, e.g. --set behaviour.review_rate=0.3 (repeatable)")


def _progress_bar(total: int, description: str):
    """A tqdm bar on stderr when it is a terminal; returns (callback, close)."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="rep", disable=not sys.stderr.isatty())

    def update(done: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def command_validate(args) -> int:
    from sim.scenario import load_scenario, scenario_hash

    scenario = load_scenario(args.scenario, args.overrides)
    print(f"{args.scenario}: valid scenario '{scenario.name}' "
          f"({scenario.horizon.start}-{scenario.horizon.end}, "
          f"{scenario.population.enterprises} enterprises, hash {scenario_hash(scenario)[:8]})")
    return 0


def command_run(args) -> int:
    from sim.workflows import headline_table, resolve, run_scenario

    scenario = resolve(args.scenario, replications=args.replications, seed=args.seed,
                       overrides=args.overrides)
    update, close = _progress_bar(scenario.replications, f"{scenario.name}")
    try:
        result = run_scenario(scenario, workers=args.workers, out=args.out,
                              plots=not args.no_plots, progress=update)
    finally:
        close()
    print(f"Run folder: {result.folder}")
    print(f"{scenario.name}: {scenario.replications} replications, "
          f"{scenario.population.enterprises} enterprises, mean and 90% interval\n")
    print(headline_table(result.summary).to_string())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adoptsim",
        description="Agent-based simulator of enterprises choosing closed AI APIs, self-hosted "
                    "open-weight models, or hybrid stacks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write a run folder")
    _scenario_options(run)
    run.add_argument("--replications", type=int, help="number of replications (default: the scenario's)")
    run.add_argument("--seed", type=int, help="scenario seed (default: the scenario's)")
    run.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    run.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.set_defaults(handler=command_run)

    validate = commands.add_parser("validate", help="check a scenario without running it")
    _scenario_options(validate)
    validate.set_defaults(handler=command_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sim.scenario import ScenarioError

    try:
        return args.handler(args)
    except ScenarioError as error:
        print(f"adoptsim: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("adoptsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
