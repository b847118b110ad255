"""`lab down`: remove a lab, only what carries the lab's labels (never other containers)."""

from __future__ import annotations

import argparse

from lab.cli import options
from lab.infra.docker_env import LABEL_RUN, connect, remove_orphan_run_files, remove_resources
from lab.roles.system import find_lab_runs

HELP = "remove a lab (only labelled resources)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_name(parser)
    parser.add_argument("--all", action="store_true", help="every lab resource, test runs too")


def remove(name: str) -> int:
    """Remove the kept lab `name`; how many resources went."""
    client = connect()
    runs = find_lab_runs(client, name)
    return sum(remove_resources(client, {"label": [f"{LABEL_RUN}={r}"]}) for r in runs)


def run(args: argparse.Namespace) -> int:
    if args.all:
        client = connect()
        removed = remove_resources(client, {"label": [LABEL_RUN]})
        files = remove_orphan_run_files(client)
        print(
            f"removed {removed} lab resource(s) (containers, networks, volumes)"
            + (f" and {len(files)} CA file(s) of runs already gone" if files else "")
        )
        return 0
    removed = remove(args.name)
    if not removed:
        print(f"no lab {args.name!r} is up; nothing to remove")
        return 0
    print(f"lab {args.name!r} removed ({removed} resources)")
    return 0
