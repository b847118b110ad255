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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
