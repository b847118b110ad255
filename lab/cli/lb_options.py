"""`lab lb-options`: the guide's load balancer options, how the lab runs each, and
whether it runs on this host (detected now: the kernel's IPVS, a registry's MaxScale)."""

from __future__ import annotations

import argparse

from lab.cli import options
from lab.infra.docker_env import connect
from lab.infra.text import table

HELP = "the guide's load balancer options: how each runs, and whether here"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_width(parser)
    parser.add_argument("--markdown", action="store_true", help="the docs' table")


def run(args: argparse.Namespace) -> int:
    from lab.roles.dblb.lb_options import OPTIONS, markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    client = connect()
    rows = [
        {
            "option": o.name,
            "the guide": o.guide,
            "in the lab": o.in_the_lab,
            "here": o.unavailable(client) or "runs",
        }
        for o in OPTIONS
    ]
    print(table(rows, ["option", "the guide", "in the lab", "here"], width=args.width))
    return 0
