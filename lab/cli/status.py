"""`lab status`: a running lab's nodes (wsrep or replication), HAProxy's backends and the
front end, as a table that fits the terminal."""

from __future__ import annotations

import argparse

from lab.cli import options
from lab.roles.status import render_status
from lab.roles.system import Lab

HELP = "wsrep table per node, HAProxy backends"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_name(parser)


def run(args: argparse.Namespace) -> int:
    print(render_status(Lab.attach(args.name)))
    return 0
