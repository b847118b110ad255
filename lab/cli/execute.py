"""`lab exec NODE -- CMD` (Test Kitchen's `kitchen exec`): a command on one node of a
running lab (its container), or with --inventory on one of the operator's hosts over
SSH; its output printed, its exit code returned."""

from __future__ import annotations

import argparse
import shlex

from lab.cli import options
from lab.infra.errors import ConfigError
from lab.infra.nodes import ExecResult
from lab.roles.system import Lab

HELP = "run a command on a lab node (or an inventory host): lab exec [OPTIONS] NODE -- CMD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("node", metavar="NODE", help="a node of the lab (galera1, oxgw01, ...)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command")
    options.add_name(parser)
    options.add_inventory(parser, "run on this inventory's host NODE over SSH instead")
    parser.add_argument("--timeout", type=int, default=60, help="seconds the command may take")


def run(args: argparse.Namespace) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        raise ConfigError("lab exec NODE -- CMD: no command given after the node")
    result = _on_host(args, argv) if args.inventory else _on_node(args, argv)
    print(result.output, end="" if result.output.endswith("\n") or not result.output else "\n")
    return result.exit_code


def _on_node(args: argparse.Namespace, argv: list[str]) -> ExecResult:
    lab = Lab.attach(args.name)
    nodes = {n.name: n for n in lab.nodes()}
    node = nodes.get(args.node)
    if node is None:
        raise ConfigError(
            f"lab {args.name!r} has no node {args.node!r}; it has: {', '.join(sorted(nodes))}"
        )
    return node.sh(shlex.join(argv), timeout_s=args.timeout)


def _on_host(args: argparse.Namespace, argv: list[str]) -> ExecResult:
    target = options.inventory_target(args)
    assert target is not None  # --inventory given
    hosts = {h.name: h for h in target.hosts}
    host = hosts.get(args.node)
    if host is None:
        raise ConfigError(
            f"{target.source} has no host {args.node!r}; it has: {', '.join(sorted(hosts))}"
        )
    return host.sh(shlex.join(argv), timeout_s=args.timeout)
