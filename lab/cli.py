"""`lab`: bring the guide's cluster up, show its status, tear it down, check the host.

Every failure the user can cause or fix (bad flag, Docker unreachable, missing image,
a node that cannot join) ends as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import docker
import docker.errors

from lab import __version__
from lab.bench import bench_build, bench_failover, bench_oxnode, bench_up
from lab.chaos.checkers.registry import CHECKERS
from lab.chaos.runner import CLIENT_CHOICES
from lab.chaos.scenarios.registry import SCENARIOS
from lab.infra.docker_env import LABEL_RUN, connect, remove_orphan_run_files, remove_resources
from lab.infra.errors import ClusterFormationError, ConfigError, LabError
from lab.infra.text import table
from lab.matrix import run_matrix
from lab.roles.db.galera_config import DEFAULT_JOIN, DEFAULT_SST_METHOD, SST_METHODS
from lab.roles.images import build_images, groupware_images, image_present, images_for
from lab.roles.status import render_status
from lab.roles.system import Lab, LabOptions, find_lab_runs, stderr_progress
from lab.spec.failover import DEFAULT_PROFILE, PROFILES
from lab.spec.flavours import DEFAULT_FLAVOUR, FLAVOURS, get_flavour
from lab.spec.operator.project import Project, find_project, load_project
from lab.spec.topology import DBLB_MODES, DEFAULT_DBLB, DEFAULT_TOPOLOGY, TOPOLOGIES, LabRequest
from lab.suite_timing import run_suite
from lab.verify.run import SECTIONS as VERIFY_SECTIONS
from lab.verify.target import Target, target_from_inventory


def _project(args: argparse.Namespace) -> Project | None:
    """--config PATH, else ./oxlab.toml if there is one, else none (the lab's own files)."""
    path = getattr(args, "config", None)
    if path:
        return load_project(Path(path))
    found = find_project(Path.cwd())
    return load_project(found) if found else None


def _request(args: argparse.Namespace) -> LabRequest:
    """Flags win over oxlab.toml, which wins over the lab's defaults."""
    return LabRequest.of(
        _project(args),
        topology=getattr(args, "topology", None),
        flavour=getattr(args, "flavour", None),
        profile=getattr(args, "profile", None),
        sst_method=getattr(args, "sst", None),
        join=getattr(args, "join", None),
        dblb=getattr(args, "dblb", None),
    )


def cmd_up(args: argparse.Namespace) -> int:
    request = _request(args)
    request.validate()  # before Docker is touched
    options = LabOptions(
        name=args.name,
        keep=True,
        max_lag_s=args.max_lag,
        front_end=args.front_end,
        standin_hosts=bool(args.standin_hosts),
    )
    lab = Lab(request, options).up()
    print(f"lab {args.name!r} serving writes in {lab.timings['up']:.1f} s")
    lab.wait_healthy()  # every HAProxy check risen too, so the status below is the steady one
    print(render_status(lab))
    if args.standin_hosts:
        from lab.verify.standin import provision

        cluster = provision(lab, Path(args.standin_hosts))
        print(
            f"stand-in hosts reachable over SSH: `lab verify --inventory {cluster.inventory} "
            f"--credentials {cluster.credentials}`"
        )
    print(
        f"`lab status --name {args.name}` shows this again; "
        f"`lab down --name {args.name}` removes it."
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """The guide's non-destructive checks on the operator's hosts (--inventory, over
    SSH) or on a running lab's containers; exit 1 when a check fails."""
    from lab.verify.run import render, verify
    from lab.verify.target import target_from_lab

    target = _inventory_target(args) or target_from_lab(Lab.attach(args.name))
    verification = verify(target, tuple(args.section or ()))
    print(render(verification, args.width))
    return 1 if verification.failed else 0


def _inventory_target(args: argparse.Namespace) -> Target | None:
    """The operator's hosts: --inventory (else oxlab.toml's [verify] inventory) with
    --credentials (else [verify] credentials); None when neither names an inventory."""
    project = _project(args)
    inventory = args.inventory or (project and project.inventory)
    if not inventory:
        return None
    credentials = args.credentials or (project and project.credentials)
    if not credentials:
        raise ConfigError(
            "--inventory needs a credentials file (--credentials FILE or oxlab.toml "
            "[verify] credentials): the OX database user and a groupware test user"
        )
    return target_from_inventory(Path(inventory), Path(credentials))


def _add_inventory_flags(parser: argparse.ArgumentParser, inventory_help: str) -> None:
    parser.add_argument("--inventory", metavar="FILE", help=inventory_help)
    parser.add_argument(
        "--credentials", metavar="FILE", help="[client] user/password, [groupware] login/password"
    )


def cmd_status(args: argparse.Namespace) -> int:
    print(render_status(Lab.attach(args.name)))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    client = connect()
    if args.all:
        removed = remove_resources(client, {"label": [LABEL_RUN]})
        files = remove_orphan_run_files(client)
        print(
            f"removed {removed} lab resource(s) (containers, networks, volumes)"
            + (f" and {len(files)} CA file(s) of runs already gone" if files else "")
        )
        return 0
    runs = find_lab_runs(client, args.name)
    if not runs:
        print(f"no lab {args.name!r} is up; nothing to remove")
        return 0
    removed = sum(remove_resources(client, {"label": [f"{LABEL_RUN}={r}"]}) for r in runs)
    print(f"lab {args.name!r} removed ({removed} resources)")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Write a starter oxlab.toml and the lab's reference files into DIR."""
    from lab.spec.operator.init import init_project

    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    plan = LabRequest.of(topology=args.topology, flavour=args.flavour).plan()
    written = init_project(directory, plan, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(
        f"next: `lab lint --config {directory / 'oxlab.toml'}`, then `lab up --config ...`; "
        "replace the reference files with yours one by one"
    )
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """The operator's files against the rule catalogue (and the real tools' syntax
    checks where Docker and the role images are there); exit 1 on errors."""
    from lab.spec.operator.lint import ERROR, RULES, lint
    from lab.spec.operator.syntax import syntax_findings

    if args.rules:
        for rule_id, (summary, _) in RULES.items():
            print(f"{rule_id}  {summary}")
        return 0
    project = _project(args)
    if project is None:
        raise ConfigError("no oxlab.toml here; `lab init` writes one, or give --config PATH")
    request = _request(args)
    plans = [replace(request, flavour=f).plan() for f in project.flavours or (request.flavour,)]
    plan = plans[0]
    findings = lint(project, plan.topology, tuple(p.flavour for p in plans))
    if not args.no_syntax:
        findings += syntax_findings(plan, stderr_progress)
    base = project.path.parent
    for finding in findings:
        print(finding.render(base))
    errors = sum(f.severity == ERROR for f in findings)
    print(f"{project.path}: {len(project.files)} files, {len(findings)} findings, {errors} errors")
    return 1 if errors else 0


def cmd_images_build(args: argparse.Namespace) -> int:
    flavours = [get_flavour(f) for f in (args.flavour or [DEFAULT_FLAVOUR])]
    client = connect()
    specs = [s for f in flavours for s in images_for(f)]
    build_images(client, [*specs, *groupware_images()], stderr_progress)
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    from lab.compose import COMPOSE_TOPOLOGIES, drift, write

    if args.compose_command == "write":
        for topology in COMPOSE_TOPOLOGIES:
            print(f"{topology}: {len(write(topology))} files written")
        return 0
    problems = [p for topology in COMPOSE_TOPOLOGIES for p in drift(topology)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        "compose files match the lab's definitions" if not problems else "run `lab compose write`"
    )
    return 1 if problems else 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "suite":
        run = run_suite(args.pytest_args, Path.cwd())
        print(run.render())
        return run.exit_code
    client = connect()
    request = _request(args)
    if args.what == "up":
        print(bench_up(client, request, stderr_progress, repeat=args.repeat))
    elif args.what == "oxnode":
        print(bench_oxnode(client, request, stderr_progress))
    elif args.what == "failover":
        print(bench_failover(client, request, stderr_progress))
    else:
        print(bench_build(client, request, stderr_progress, cold=args.cold))
    return 0


def cmd_matrix(args: argparse.Namespace) -> int:
    """Flavour x topology; with oxlab.toml: its flavours, the topologies of its kind of
    cluster, every cell on the operator's files."""
    project = _project(args)
    flavours = args.flavour or list(project.flavours if project else ()) or list(FLAVOURS)
    topologies = args.topology or list(TOPOLOGIES)
    extra: list[str] = []
    if project:
        own = LabRequest.of(project).plan().topology
        topologies = args.topology or [t for t, s in TOPOLOGIES.items() if s.family == own.family]
        extra = ["--lab-config", str(project.path)]
    for name in flavours:
        get_flavour(name)  # one clear line for a typo, before hours of tests
    text, ok = run_matrix(flavours, topologies, args.tests, Path(args.report_dir), extra)
    print(text)
    print(f"reports: {args.report_dir}/ (JUnit XML and log per cell, matrix.json)")
    return 0 if ok else 1


def cmd_chaos(args: argparse.Namespace) -> int:
    """Run one chaos scenario on a fresh lab of its topology; print the verdict and the
    figures, keep the report (JSON, HTML timeline, history)."""
    from lab.chaos.report.publish import publish
    from lab.chaos.runner import ClientChoice
    from lab.chaos.scenarios.registry import SCENARIOS, run_registered

    # faults go on hosts only when --inventory says so (oxlab.toml's is for lab verify)
    target = _inventory_target(args) if args.inventory else None
    if target:
        return _chaos_on_hosts(args, target)
    if args.allow_faults_on_hosts:
        raise ConfigError("--allow-faults-on-hosts goes with --inventory (the hosts to fault)")
    scenario = SCENARIOS[args.scenario]
    request = replace(_request(args), topology=scenario.topology, dblb=scenario.dblb)
    request.validate()
    with Lab(request, LabOptions(name=f"chaos-{args.scenario}")) as lab:
        run = run_registered(args.scenario, lab, args.seed, ClientChoice.of(args.client or []))
    publish(run, Path(args.report_dir))
    return 1 if run.violations() else 0


def _chaos_on_hosts(args: argparse.Namespace, target: Target) -> int:
    """A scenario on the operator's hosts over SSH: only with --allow-faults-on-hosts."""
    from lab.chaos.nemesis.hosts import FaultJournal
    from lab.chaos.report.publish import publish
    from lab.chaos.scenarios.hosts import run_on_hosts

    if not args.allow_faults_on_hosts:
        raise ConfigError(
            f"{target.source}: faults on real hosts kill services and cut networks; "
            "add --allow-faults-on-hosts to run them (lab verify checks without faults)"
        )
    run = run_on_hosts(args.scenario, target, args.seed, FaultJournal(), stderr_progress)
    publish(run, Path(args.report_dir))
    return 1 if run.violations() else 0


def cmd_chaos_list(args: argparse.Namespace) -> int:
    from lab.chaos.scenarios.registry import SCENARIOS, markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    rows = [
        {"scenario": s.name, "topology": s.lab, "fault": s.fault, "proves": s.proves}
        for s in SCENARIOS.values()
    ]
    print(table(rows, ["scenario", "topology", "fault", "proves"], width=args.width))
    return 0


def cmd_lb_options(args: argparse.Namespace) -> int:
    """The guide's load balancer options: how the lab runs each, and whether it runs on
    this host (detected now: the kernel's IPVS, a registry's MaxScale image)."""
    from lab.roles.dblb.lb_options import OPTIONS, markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    client = connect()
    rows = [
        {
            "option": o.name,
            "the guide": o.guide,
            "in the lab": o.in_the_lab,
            "here": o.unavailable(client) or "runs",
        }
        for o in OPTIONS
    ]
    print(table(rows, ["option", "the guide", "in the lab", "here"], width=args.width))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Judge a recorded history again (exit 1: a forbidden anomaly; 2: not a history)."""
    from lab.chaos.checkers.registry import checks_of
    from lab.chaos.history import History, HistoryFormatError

    try:
        history = History.load(Path(args.history))
    except HistoryFormatError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    checks = checks_of(history, args.checker)
    scenario = history.meta.get("scenario", "(no meta line)")
    print(
        f"{args.history}: {len(history.ops)} operations, {len(history.faults)} faults, "
        f"scenario {scenario}"
    )
    failed = False
    for check in checks:
        verdict = check.judge(history)
        violated = check.violated(verdict)
        failed |= violated
        state = "FORBIDDEN" if violated else ("findings" if verdict.anomalies else "valid")
        forbidden = (
            "every anomaly" if check.forbidden is None else ", ".join(check.forbidden) or "nothing"
        )
        print(f"{check.checker}: {state} {verdict.stats} (forbids: {forbidden})")
        for kind, found in sorted(verdict.anomalies.items()):
            print(f"  {kind} x{len(found)}")
            for text in found[: args.limit]:
                print(f"    {text}")
            if len(found) > args.limit:
                print(f"    ... {len(found) - args.limit} more (--limit)")
    print("verdict: " + ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


def cmd_promote(args: argparse.Namespace) -> int:
    """The GTID slave becomes the master; HAProxy follows (lab/roles/db/promote.py)."""
    from lab.roles.db.promote import promote

    promotion = promote(Lab.attach(args.name))
    print(
        f"{promotion.new_master} is the master now (GTID position {promotion.gtid_position}), "
        f"HAProxy writes and reads there; promoted in {promotion.seconds:.1f}s. "
        f"{promotion.old_master} stays out of rotation: rebuild it as a slave of "
        f"{promotion.new_master} (the guide's slave setup)."
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'}  {what}: {detail}")

    try:
        client = connect()
    except LabError as exc:
        report(False, "Docker engine", str(exc))
        return 1
    version = client.version()
    report(True, "Docker engine", f"{version.get('Version')} (API {version.get('ApiVersion')})")
    root = client.info().get("DockerRootDir", "/var/lib/docker")
    if os.path.isdir(root):
        free_gb = shutil.disk_usage(root).free / 1e9
        report(free_gb > 5, "disk", f"{free_gb:.0f} GB free under {root} (images need ~2 GB)")
    makeable = bool(shutil.which("debootstrap")) or (
        os.geteuid() == 0 and bool(shutil.which("apt-get"))
    )
    for flavour in FLAVOURS.values():
        present = image_present(client, flavour.base_image)
        if flavour.from_registry:
            # optional: a registry-only flavour is skipped with its reason where absent
            state = "present" if present else "absent (registry-only: pull or `docker load` it)"
            print(f"{'ok  ' if present else 'info'}  flavour {flavour.name}: {state}")
            continue
        if present:
            report(True, f"base image {flavour.base_image}", "present")
        else:
            report(
                makeable,
                f"base image {flavour.base_image}",
                "absent; will be pulled or made with debootstrap"
                if makeable
                else "absent and cannot be made: install debootstrap",
            )
        for spec in images_for(flavour):
            built = image_present(client, spec.tag)
            state = "present" if built else "not built yet (`lab up` builds it)"
            print(f"{'ok  ' if built else 'info'}  image {spec.tag}: {state}")
    return 1 if problems else 0


def _add_lab_flags(p: argparse.ArgumentParser) -> None:
    """Flags that override oxlab.toml (defaults: oxlab.toml's, then the lab's)."""
    p.add_argument(
        "--topology", help=f"one of {', '.join(TOPOLOGIES)} (default {DEFAULT_TOPOLOGY})"
    )
    p.add_argument("--flavour", help=f"one of {', '.join(FLAVOURS)} (default {DEFAULT_FLAVOUR})")
    p.add_argument(
        "--profile", help=f"failover profile: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})"
    )
    p.add_argument(
        "--sst", help=f"SST method: {', '.join(SST_METHODS)} (default {DEFAULT_SST_METHOD})"
    )
    p.add_argument(
        "--join",
        help="Galera: seeded (every node from the image's seeded state, no state transfer, "
        f"joins at once) or sst (the guide's path: fresh datadirs, serial joins by SST); "
        f"default {DEFAULT_JOIN}",
    )
    p.add_argument(
        "--dblb",
        help="the load balancer in front of the databases: "
        + "; ".join(f"{name} ({text})" for name, text in DBLB_MODES.items())
        + f"; default {DEFAULT_DBLB}",
    )


def _config_parent() -> argparse.ArgumentParser:
    """--config on every command (before or after the command's name)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="the operator's oxlab.toml (default: ./oxlab.toml if present)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    config = _config_parent()
    parser = argparse.ArgumentParser(
        prog="lab", description=__doc__.splitlines()[0], parents=[config]
    )
    parser.add_argument("--version", action="version", version=f"ox-cluster-lab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser = partial(sub.add_parser, parents=[config])  # type: ignore[method-assign]

    init = sub.add_parser("init", help="write a starter oxlab.toml and reference files")
    init.add_argument("directory", nargs="?", default=".", help="where (default: here)")
    init.add_argument("--topology", default="guide-galera", help=f"one of {', '.join(TOPOLOGIES)}")
    init.add_argument("--flavour", help=f"one of {', '.join(FLAVOURS)}")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(func=cmd_init)

    lint_parser = sub.add_parser("lint", help="check the operator's files (no Docker needed)")
    lint_parser.add_argument(
        "--no-syntax", action="store_true", help="skip the real tools' syntax checks (Docker)"
    )
    lint_parser.add_argument("--rules", action="store_true", help="list the rule catalogue")
    lint_parser.set_defaults(func=cmd_lint)

    up = sub.add_parser("up", help="bring a lab up and print its status")
    _add_lab_flags(up)
    up.add_argument("--name", default="default", help="lab name (several labs may run)")
    up.add_argument(
        "--max-lag",
        type=float,
        default=LabOptions.max_lag_s,
        help="gtid: seconds a slave may lag before HAProxy reads from the master instead",
    )
    up.add_argument(
        "--front-end",
        choices=["ajp", "http"],
        default="ajp",
        help="guide topologies: Apache balances over AJP13 (the guide) or HTTP (mod_proxy_http)",
    )
    up.add_argument(
        "--standin-hosts",
        metavar="DIR",
        help="start the role containers with an SSH server and write an Ansible inventory, "
        "credentials file, key and known_hosts into DIR (stand-ins for `lab verify`)",
    )
    up.set_defaults(func=cmd_up)

    verify_parser = sub.add_parser(
        "verify", help="the guide's checks on your hosts (--inventory, over SSH) or a lab"
    )
    _add_inventory_flags(verify_parser, "Ansible inventory, groups named after the roles")
    verify_parser.add_argument("--name", default="default", help="without --inventory: the lab")
    verify_parser.add_argument(
        "--section",
        action="append",
        help="only this section (repeatable): "
        + ", ".join(dict.fromkeys(s for s, _, _ in VERIFY_SECTIONS)),
    )
    verify_parser.add_argument("--width", type=int, default=100, help="terminal columns")
    verify_parser.set_defaults(func=cmd_verify)

    status = sub.add_parser("status", help="wsrep table per node, HAProxy backends")
    status.add_argument("--name", default="default")
    status.set_defaults(func=cmd_status)

    down = sub.add_parser("down", help="remove a lab (only labelled resources)")
    down.add_argument("--name", default="default")
    down.add_argument("--all", action="store_true", help="every lab resource, test runs too")
    down.set_defaults(func=cmd_down)

    matrix = sub.add_parser("matrix", help="flavour x topology test matrix (the nightly run)")
    matrix.add_argument("--flavour", action="append", help="repeatable; default: all flavours")
    matrix.add_argument("--topology", action="append", help="repeatable; default: all")
    matrix.add_argument("--tests", default="tests/integration", help="test directory")
    matrix.add_argument("--report-dir", default="lab-reports", help="where reports go")
    matrix.set_defaults(func=cmd_matrix)

    chaos = sub.add_parser("chaos", help="failover under injected faults")
    chaos_sub = chaos.add_subparsers(dest="chaos_command", required=True)
    chaos_sub.add_parser = partial(chaos_sub.add_parser, parents=[config])  # type: ignore[method-assign]
    run = chaos_sub.add_parser("run", help="run one scenario on a fresh lab of its topology")
    run.add_argument(
        "scenario",
        choices=list(SCENARIOS),
        metavar="SCENARIO",
        help="one of: " + ", ".join(SCENARIOS) + " (`lab chaos list` says what each proves)",
    )
    run.add_argument("--seed", type=int, default=1, help="fault schedule seed (reproducible)")
    run.add_argument(
        "--client",
        action="append",
        choices=CLIENT_CHOICES,
        help="the workload's client: ox-pool (OX's JDBC pool with your configdb.properties; "
        "default) or aggressive (2 s timeouts); sysbench runs sysbench's oltp_write_only "
        "beside it (repeatable)",
    )
    run.add_argument("--report-dir", default="lab-reports")
    _add_inventory_flags(run, "run on these hosts over SSH instead of a new lab")
    run.add_argument(
        "--allow-faults-on-hosts",
        action="store_true",
        help="with --inventory: yes, kill services and cut networks on those hosts",
    )
    _add_lab_flags(run)
    run.set_defaults(func=cmd_chaos)
    listing = chaos_sub.add_parser("list", help="the scenarios: topology, fault, what each proves")
    listing.add_argument("--width", type=int, default=100, help="terminal columns")
    listing.add_argument("--markdown", action="store_true", help="the README's table")
    listing.set_defaults(func=cmd_chaos_list)

    lb = sub.add_parser(
        "lb-options", help="the guide's load balancer options: how each runs, and whether here"
    )
    lb.add_argument("--width", type=int, default=100, help="terminal columns")
    lb.add_argument("--markdown", action="store_true", help="the README's table")
    lb.set_defaults(func=cmd_lb_options)

    check = sub.add_parser("check", help="judge a recorded history (.jsonl) with the checkers")
    check.add_argument("history", help="a chaos run's history file (lab-reports/chaos-*.jsonl)")
    check.add_argument(
        "--checker",
        choices=list(CHECKERS),
        metavar="NAME",
        help="only this checker: " + ", ".join(CHECKERS),
    )
    check.add_argument(
        "--limit", type=int, default=5, help="offending operations shown per anomaly"
    )
    check.set_defaults(func=cmd_check)

    promote_parser = sub.add_parser(
        "promote", help="GTID lab: make the slave the master and repoint HAProxy"
    )
    promote_parser.add_argument("--name", default="default")
    promote_parser.set_defaults(func=cmd_promote)

    doctor = sub.add_parser("doctor", help="check Docker, disk and images")
    doctor.set_defaults(func=cmd_doctor)

    images = sub.add_parser("images", help="image pipeline")
    images_sub = images.add_subparsers(dest="images_command", required=True)
    images_sub.add_parser = partial(images_sub.add_parser, parents=[config])  # type: ignore[method-assign]
    build = images_sub.add_parser("build", help="build role images (base made if needed)")
    build.add_argument("--flavour", action="append", help="repeatable; default: " + DEFAULT_FLAVOUR)
    build.set_defaults(func=cmd_images_build)

    compose = sub.add_parser("compose", help="lab/compose/ files for the guide topologies")
    compose.add_argument("compose_command", choices=["write", "check"])
    compose.set_defaults(func=cmd_compose)

    bench = sub.add_parser(
        "bench",
        help="print figures: `up` (each topology, Galera vs its floor), `build`, `oxnode` "
        "(requests/s), `failover`, `suite` (the test suite's time per directory)",
    )
    bench.add_argument("what", choices=["up", "build", "oxnode", "failover", "suite"])
    bench.add_argument("--cold", action="store_true", help="build: remove role images first")
    bench.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="up: the median of N runs of each lab"
    )
    bench.add_argument(
        "pytest_args",
        nargs="*",
        help="suite: pytest's arguments after `--` (default: the README's test command's)",
    )
    _add_lab_flags(bench)
    bench.set_defaults(func=cmd_bench)
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


if __name__ == "__main__":
    sys.exit(main())
