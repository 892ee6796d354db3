"""The `causalbench` command line.

Each subcommand lives in a module of this package and is registered here by a lazy
"module:function" string, so `causalbench list` imports only what listing needs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ..errors import CausalBenchError
from ..provenance import VERSION
from ..registry import Registry

# name -> "module:configure" (configure(parser) adds the arguments and returns the handler); summary = --help line.
COMMANDS: Registry = Registry("command")
for _name, _target, _help in (
    ("list", "causalbench.cli.data:configure_list", "list the registered environments (and methods)"),
    ("describe", "causalbench.cli.data:configure_describe",
     "explain an environment: story, graph, roles, shifts and ground truth"),
    ("generate", "causalbench.cli.generate:configure_generate", "write a dataset to .parquet, .csv or .npz"),
    ("run", "causalbench.cli.run:configure_run",
     "the main job: train every baseline on the default suite, score, tabulate and plot"),
    ("tune", "causalbench.cli.run:configure_tune",
     "model selection: random search per (env, method) on training data, written as a tuned hyper-parameter table"),
    ("report", "causalbench.cli.run:configure_report", "rebuild the summary table and plots of a run from its JSON lines"),
    ("scaling", "causalbench.cli.scaling:configure_scaling",
     "does more static data or a bigger model cure causal confusion? (sweep, fits, plots)"),
    ("evaluate", "causalbench.cli.leaderboard:configure_evaluate",
     "evaluate a method on secret hidden instances in isolated workers: its leaderboard entry"),
    ("reproduce", "causalbench.cli.reproduce:configure_reproduce",
     "re-run a published experiment (irm2019) through the baselines, beside the published numbers"),
    ("submit", "causalbench.cli.leaderboard:configure_submit",
     "validate and re-score a prediction submission, an unverified entry (--check: write nothing)"),
):
    COMMANDS.register(_name, _target, summary=_help)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="causalbench",
        description="A benchmark suite for causal confusion: do methods learn causes or correlations, "
                    "and does scale fix it?",
        epilog="Start with `causalbench run` (the default suite) or `causalbench describe IceCreamShorts-v1`.",
    )
    parser.add_argument("--version", action="version", version=f"causalbench {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen_command(argv)
    for entry in COMMANDS.entries():
        p = sub.add_parser(entry.name, help=entry.summary, description=entry.summary)
        if chosen == entry.name:  # only the command being run is imported
            p.set_defaults(handler=COMMANDS.get(entry.name)(p))
    return parser


def _chosen_command(argv: Sequence[str] | None) -> str | None:
    args = list(sys.argv[1:] if argv is None else argv)
    return next((a for a in args if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except CausalBenchError as err:
        print(f"causalbench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"causalbench {args.command}: interrupted; finished records are kept (use --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
