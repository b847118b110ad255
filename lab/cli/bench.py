"""`lab bench WHAT`: commands that print figures, never timed assertions: lab up per
topology, image builds, the OX node's requests/s, the failover write gap, the suite's
time per directory. Each figure names the client and settings that produced it."""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from lab.bench import BENCH_NAME, MEASURED_PAGE, record
from lab.cli import options
from lab.infra.docker_env import connect
from lab.roles.system import stderr_progress

HELP = (
    "print figures: `up` (each topology, Galera vs its floor), `build`, `oxnode` "
    "(requests/s), `failover`, `suite` (the test suite's time per directory), `flakes` "
    "(chosen tests run again and again: pass rates at -n 0, -n 2, -n 2 under CPU load)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["up", "build", "oxnode", "failover", "suite", "flakes"])
    parser.add_argument("--cold", action="store_true", help="build: remove role images first")
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="up: the median of N runs of each lab"
    )
    parser.add_argument(
        "--runs", type=int, default=5, metavar="N", help="flakes: runs per condition (5)"
    )
    parser.add_argument(
        "--conditions",
        default="n0,n2,n2-load",
        metavar="LIST",
        help="flakes: which of n0 (-n 0), n2 (-n 2), n2-load (-n 2 beside stress-ng at "
        "50%% on every core), comma-separated (default all three)",
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        help="suite, flakes: pytest's arguments after `--` (suite's default: the README's "
        "test command's; flakes': the chaos, hosts and integration tests)",
    )
    parser.add_argument(
        "--record",
        nargs="?",
        const=str(MEASURED_PAGE),
        metavar="PAGE",
        help=f"also write the figures into PAGE's section for this bench (default {MEASURED_PAGE})",
    )
    options.add_name(
        parser, "the labs it starts: NAME, NAME-ox, NAME-failover, NAME-floor", BENCH_NAME
    )
    options.add_lab_flags(parser)


def when_where() -> str:
    """The date and the host a figure was measured on (a figure names where it came from)."""
    return f"{time.strftime('%Y-%m-%d')} on {platform.node()} ({os.cpu_count()} cores)"


def run(args: argparse.Namespace) -> int:
    from lab.bench import bench_build, bench_failover, bench_oxnode, bench_up
    from lab.flakes import FLAKE_TESTS, conditions_named, run_flakes
    from lab.suite_timing import run_suite

    if args.what == "flakes":
        chosen = conditions_named(args.conditions)
        flakes = run_flakes(args.pytest_args or FLAKE_TESTS, args.runs, chosen, Path.cwd())
        print(flakes.render())
        if args.record:
            record(Path(args.record), "flakes", flakes.render(), when_where())
        return flakes.exit_code
    if args.what == "suite":
        suite = run_suite(args.pytest_args, Path.cwd())
        print(suite.render())
        if args.record:
            record(Path(args.record), "suite", suite.render(), when_where())
        return suite.exit_code
    client = connect()
    request = options.request(args)
    figures: dict[str, Callable[[], str]] = {
        "up": lambda: bench_up(
            client, request, stderr_progress, repeat=args.repeat, name=args.name
        ),
        "build": lambda: bench_build(client, request, stderr_progress, cold=args.cold),
        "oxnode": lambda: bench_oxnode(client, request, stderr_progress, name=args.name),
        "failover": lambda: bench_failover(client, request, stderr_progress, name=args.name),
    }
    text = figures[args.what]()
    print(text)
    if args.record:
        context = (
            f"{when_where()}, Docker {client.version().get('Version')}, flavour "
            f"{request.flavour}, failover profile {request.profile}"
        )
        record(Path(args.record), args.what, text, context)
        print(f"recorded in {args.record}")
    return 0
