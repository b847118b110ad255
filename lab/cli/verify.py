"""`lab verify`: the guide's non-destructive checks on the operator's hosts (--inventory,
over SSH) or on a running lab's containers; exit 1 when a check fails."""

from __future__ import annotations

import argparse

from lab.cli import options
from lab.roles.system import Lab
from lab.verify.run import SECTIONS, Verification, render, verify
from lab.verify.target import Target, target_from_lab

HELP = "the guide's checks on your hosts (--inventory, over SSH) or a lab"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_inventory(parser)
    options.add_name(parser, "without --inventory: the lab")
    parser.add_argument(
        "--section",
        action="append",
        help="only this section (repeatable): "
        + ", ".join(dict.fromkeys(s for s, _, _ in SECTIONS)),
    )
    options.add_width(parser)


def checked(target: Target, sections: tuple[str, ...], width: int) -> Verification:
    """Run the checks and print one table per section."""
    verification = verify(target, sections)
    print(render(verification, width))
    return verification


def run(args: argparse.Namespace) -> int:
    target = options.inventory_target(args) or target_from_lab(Lab.attach(args.name))
    verification = checked(target, tuple(args.section or ()), args.width)
    return 1 if verification.failed else 0
