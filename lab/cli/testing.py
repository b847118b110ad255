"""`lab test` (Test Kitchen's `kitchen test`): the operator's whole loop with one exit
code: bring their lab up (their oxlab.toml and files), run the guide's checks on it, a
chaos smoke run, and remove it (`--destroy`, as Kitchen's). 0 only if every step passed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lab.chaos.scenarios.registry import SCENARIOS, Scenario
from lab.cli import options
from lab.cli.verify import checked
from lab.infra.errors import ConfigError
from lab.plan.topology import TOPOLOGIES
from lab.roles.system import Lab, LabOptions
from lab.verify.target import target_from_lab

HELP = "the operator's loop: up, verify, a chaos smoke run, down; one exit code"
DESTROY = ("always", "passing", "never")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_lab_flags(parser)
    parser.add_argument("--name", default="test", help="the lab's name (default test)")
    parser.add_argument(
        "--scenario",
        choices=list(SCENARIOS),
        metavar="SCENARIO",
        help="the chaos smoke run (default: the first scenario registered for the lab's "
        "topology and load balancer option, e.g. writer-kill on galera)",
    )
    options.add(parser, "seed", "client", "report_dir")
    parser.add_argument(
        "--destroy",
        choices=DESTROY,
        default="always",
        help="remove the lab always (default), only when every step passed (a failed lab "
        "stays for `lab exec` and `lab status`), or never",
    )
    options.add_width(parser)


def smoke_scenario(topology: str, dblb: str) -> Scenario:
    """The first scenario registered for this topology and load balancer option, else
    the first on a topology of the same family with that option."""
    family = TOPOLOGIES[topology].family
    for same in (
        lambda s: s.topology == topology,
        lambda s: TOPOLOGIES[s.topology].family == family,
    ):
        for scenario in SCENARIOS.values():
            if same(scenario) and scenario.dblb == dblb:
                return scenario
    raise ConfigError(f"no chaos scenario runs on {topology} with --dblb {dblb}; give --scenario")


def run(args: argparse.Namespace) -> int:
    from lab.chaos.report.publish import publish
    from lab.chaos.runner import ClientChoice
    from lab.chaos.scenarios.registry import run_registered

    request = options.request(args)
    request.validate()  # before Docker is touched
    scenario = SCENARIOS[args.scenario] if args.scenario else None
    scenario = scenario or smoke_scenario(request.topology, request.dblb)
    family = TOPOLOGIES[request.topology].family
    if TOPOLOGIES[scenario.topology].family != family:
        raise ConfigError(
            f"scenario {scenario.name} runs on a {TOPOLOGIES[scenario.topology].family} "
            f"cluster; this lab ({request.topology}) is a {family} one"
        )
    started = time.monotonic()
    lab = Lab(request, LabOptions(name=args.name, keep=True))
    passed = False
    try:
        lab.up()
        lab.wait_healthy()
        print(f"lab test: {args.name!r} up in {lab.timings['up']:.1f} s")
        verification = checked(target_from_lab(lab), (), args.width)
        clients = ClientChoice.of(args.client or [])
        chaos_run = run_registered(scenario.name, lab, args.seed, clients)
        publish(chaos_run, Path(args.report_dir))
        failures = [f"{len(verification.failed)} check(s) failed"] if verification.failed else []
        failures += [f"chaos {scenario.name}: {v}" for v in chaos_run.violations()]
        passed = not failures
        print(
            f"lab test: {'PASS' if passed else 'FAIL'} in {time.monotonic() - started:.0f} s: "
            f"{len(verification.results)} checks, {len(verification.failed)} failed; "
            f"chaos {scenario.name} "
            + ("held" if not chaos_run.violations() else "; ".join(failures))
        )
    finally:
        if args.destroy == "always" or (args.destroy == "passing" and passed):
            lab.down()
        else:
            print(f"lab test: {args.name!r} kept; `lab down --name {args.name}` removes it")
    return 0 if passed else 1
