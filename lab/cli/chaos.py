"""`lab chaos run|list`: one chaos scenario on a fresh lab of its topology (or on the
operator's hosts over SSH, with --inventory and --allow-faults-on-hosts), its verdict
and figures, the report kept (JSON, HTML timeline, history). A flag the run cannot
honour is refused, never silently overridden."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from lab.chaos.scenarios.registry import SCENARIOS, Scenario
from lab.cli import options
from lab.infra.errors import ConfigError
from lab.infra.text import table
from lab.plan.topology import LabRequest
from lab.roles.db.storage import require_real_fsync
from lab.roles.system import Lab, LabOptions, stderr_progress
from lab.verify.target import Target

HELP = "failover under injected faults"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = options.subcommands(parser, "chaos_command")
    run_parser = sub.add_parser("run", help="run one scenario on a fresh lab of its topology")
    run_parser.add_argument(
        "scenario",
        choices=list(SCENARIOS),
        metavar="SCENARIO",
        help="one of: " + ", ".join(SCENARIOS) + " (`lab chaos list` says what each proves)",
    )
    options.add(run_parser, "seed", "client", "report_dir")
    options.add_inventory(run_parser, "run on these hosts over SSH instead of a new lab")
    run_parser.add_argument(
        "--allow-faults-on-hosts",
        action="store_true",
        help="with --inventory: yes, kill services and cut networks on those hosts",
    )
    options.add_lab_flags(run_parser)
    run_parser.add_argument(
        "--name", help="the lab's name (default chaos-SCENARIO; removed when the run ends)"
    )
    run_parser.set_defaults(func=run)
    listing = sub.add_parser("list", help="the scenarios: topology, fault, what each proves")
    options.add_width(listing)
    listing.add_argument("--markdown", action="store_true", help="the docs' table")
    listing.set_defaults(func=run_list)


def lab_request_for(scenario: Scenario, args: argparse.Namespace) -> LabRequest:
    """The scenario's lab: its topology and load balancer option, the rest from the flags
    and oxlab.toml. A --topology or --dblb other than the scenario's is refused."""
    for dest, own in (("topology", scenario.topology), ("dblb", scenario.dblb)):
        wanted = getattr(args, dest, None)
        if wanted not in (None, own):
            raise ConfigError(
                f"scenario {scenario.name} runs on --{dest} {own}; --{dest} {wanted} does not "
                "apply (`lab chaos list` shows each scenario's lab)"
            )
    return replace(options.request(args), topology=scenario.topology, dblb=scenario.dblb)


def run(args: argparse.Namespace) -> int:
    from lab.chaos.report.publish import publish
    from lab.chaos.runner import ClientChoice
    from lab.chaos.scenarios.registry import run_registered

    # faults go on hosts only when --inventory says so (oxlab.toml's is for lab verify)
    if args.inventory:
        refused = options.given(args, *options.LAB_FLAGS, "client")
        refused += ["--name"] if args.name else []
        if refused:
            raise ConfigError(
                f"{', '.join(refused)}: with --inventory the run uses the hosts as they are "
                "and starts no lab (leave them out)"
            )
        target = options.inventory_target(args, from_project=False)
        assert target is not None
        return _on_hosts(args, target)
    if args.allow_faults_on_hosts:
        raise ConfigError("--allow-faults-on-hosts goes with --inventory (the hosts to fault)")
    scenario = SCENARIOS[args.scenario]
    request = lab_request_for(scenario, args)
    request.validate()
    require_real_fsync(request.storage, f"chaos scenario {scenario.name}")
    name = args.name or f"chaos-{args.scenario}"
    with Lab(request, LabOptions(name=name)) as lab:
        chaos_run = run_registered(
            args.scenario, lab, args.seed, ClientChoice.of(args.client or [])
        )
    publish(chaos_run, Path(args.report_dir))
    return 1 if chaos_run.violations() else 0


def _on_hosts(args: argparse.Namespace, target: Target) -> int:
    """A scenario on the operator's hosts over SSH: only with --allow-faults-on-hosts."""
    from lab.chaos.nemesis.hosts import FaultJournal
    from lab.chaos.report.publish import publish
    from lab.chaos.scenarios.registry import run_on_hosts

    if not args.allow_faults_on_hosts:
        raise ConfigError(
            f"{target.source}: faults on real hosts kill services and cut networks; "
            "add --allow-faults-on-hosts to run them (lab verify checks without faults)"
        )
    chaos_run = run_on_hosts(args.scenario, target, args.seed, FaultJournal(), stderr_progress)
    publish(chaos_run, Path(args.report_dir))
    return 1 if chaos_run.violations() else 0


def run_list(args: argparse.Namespace) -> int:
    from lab.chaos.scenarios.registry import markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    rows = [
        {"scenario": s.name, "topology": s.lab, "fault": s.fault, "proves": s.proves}
        for s in SCENARIOS.values()
    ]
    print(table(rows, ["scenario", "topology", "fault", "proves"], width=args.width))
    return 0
