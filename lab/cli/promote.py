"""`lab promote`: the GTID slave becomes the master and HAProxy follows (the guide's
manual failover, lab/roles/db/promote.py)."""

from __future__ import annotations

import argparse

from lab.cli import options
from lab.roles.system import Lab

HELP = "GTID lab: make the slave the master and repoint HAProxy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_name(parser)


def run(args: argparse.Namespace) -> int:
    from lab.roles.db.promote import promote

    promotion = promote(Lab.attach(args.name))
    print(
        f"{promotion.new_master} is the master now (GTID position {promotion.gtid_position}), "
        f"HAProxy writes and reads there; promoted in {promotion.seconds:.1f}s. "
        f"{promotion.old_master} stays out of rotation: rebuild it as a slave of "
        f"{promotion.new_master} (the guide's slave setup)."
    )
    return 0
