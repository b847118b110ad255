"""`lab init`: a starter oxlab.toml and the lab's reference files (each setting annotated
with the guide's or OX's reason), which the operator replaces with theirs one by one."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.cli import options

HELP = "write a starter oxlab.toml and reference files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", default=".", help="where (default: here)")
    options.add(parser, "topology", "flavour")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def run(args: argparse.Namespace) -> int:
    from lab.operator.init import init_project

    directory = Path(args.directory)
    # the starter describes the flags given, not an oxlab.toml it may be about to replace
    plan = options.request_of(options.args_value(args), None).plan()
    directory.mkdir(parents=True, exist_ok=True)
    written = init_project(directory, plan, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(
        f"next: `lab lint --config {directory / 'oxlab.toml'}`, then `lab up --config ...`; "
        "replace the reference files with yours one by one"
    )
    return 0
