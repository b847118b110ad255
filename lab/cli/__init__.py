"""`lab`: bring the guide's cluster up, check it, break it, judge it.

One module per command in this folder (`lab/cli/<command>.py`: HELP, add_arguments,
run); the options both doors (this and the pytest plugin) share are in `options.py`.

Every failure the user can cause or fix (bad flag, Docker unreachable, missing image,
a node that cannot join) ends as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

import docker
import docker.errors

from lab import __version__
from lab.cli import (
    bench,
    chaos,
    check,
    compose,
    doctor,
    down,
    execute,
    images,
    init,
    lb_options,
    lint,
    listing,
    matrix,
    options,
    promote,
    status,
    testing,
    up,
    verify,
)
from lab.infra.errors import ClusterFormationError, LabError

# command -> module, in the order `lab --help` lists them: the operator's loop first
COMMANDS: dict[str, ModuleType] = {
    "init": init,
    "lint": lint,
    "up": up,
    "list": listing,
    "status": status,
    "exec": execute,
    "verify": verify,
    "test": testing,
    "down": down,
    "chaos": chaos,
    "check": check,
    "matrix": matrix,
    "bench": bench,
    "images": images,
    "compose": compose,
    "lb-options": lb_options,
    "promote": promote,
    "doctor": doctor,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lab", description=__doc__.splitlines()[0], parents=[options.config_parent()]
    )
    parser.add_argument("--version", action="version", version=f"ox-cluster-lab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, parents=[options.config_parent()])
        command.set_defaults(func=module.run)
        module.add_arguments(command)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line. pytest's arguments after `--` (`lab bench flakes --runs 3 -- -m
    chaos`) go to a command's pytest_args even when options come between its positional
    WHAT and the `--`, where argparse alone would refuse them."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras[:1] == ["--"] and getattr(args, "pytest_args", None) is not None:
        args.pytest_args = [*args.pytest_args, *extras[1:]]
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ClusterFormationError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        if exc.excerpt:
            print(exc.excerpt, file=sys.stderr)
        return 1
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except docker.errors.DockerException as exc:
        print(f"lab: error: Docker: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted; started containers were removed", file=sys.stderr)
        return 130
