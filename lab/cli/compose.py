"""`lab compose write|check`: lab/compose/ generated from the lab's own container specs,
and whether the committed files still match them."""

from __future__ import annotations

import argparse
import sys

HELP = "lab/compose/ files for the guide topologies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("compose_command", choices=["write", "check"])


def run(args: argparse.Namespace) -> int:
    from lab.compose import COMPOSE_TOPOLOGIES, drift, write

    if args.compose_command == "write":
        for topology in COMPOSE_TOPOLOGIES:
            print(f"{topology}: {len(write(topology))} files written")
        return 0
    problems = [p for topology in COMPOSE_TOPOLOGIES for p in drift(topology)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        "compose files match the lab's definitions" if not problems else "run `lab compose write`"
    )
    return 1 if problems else 0
