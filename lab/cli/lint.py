"""`lab lint`: the operator's files against the rule catalogue (and the real tools'
syntax checks where Docker and the role images are there); exit 1 on errors. What it
marks as stopping `lab up` is exactly what `lab up` refuses (one list: BLOCKS_UP)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from lab.cli import options
from lab.infra.errors import ConfigError
from lab.roles.system import stderr_progress

HELP = "check the operator's files (no Docker needed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_lab_flags(parser)
    parser.add_argument(
        "--no-syntax", action="store_true", help="skip the real tools' syntax checks (Docker)"
    )
    parser.add_argument("--rules", action="store_true", help="list the rule catalogue")


def run(args: argparse.Namespace) -> int:
    from lab.operator.lint import ERROR, RULES, lint
    from lab.operator.syntax import skipped_checks, syntax_findings

    if args.rules:
        for rule_id, (summary, _) in sorted(RULES.items()):
            print(f"{rule_id}  {summary}")
        return 0
    project = options.project(args)
    if project is None:
        raise ConfigError("no oxlab.toml here; `lab init` writes one, or give --config PATH")
    request = options.request(args, one_flavour=False)
    flavours = options.flavours_of(options.args_value(args), project)
    plans = [replace(request, flavour=f).plan() for f in flavours]
    plan = plans[0]
    findings = lint(project, plan.topology, tuple(p.flavour for p in plans))
    if args.no_syntax:
        print(skipped_checks(plan))
    else:
        findings += syntax_findings(plan, stderr_progress)
    base = project.path.parent
    for finding in findings:
        print(finding.render(base))
    errors = sum(f.severity == ERROR for f in findings)
    print(f"{project.path}: {len(project.files)} files, {len(findings)} findings, {errors} errors")
    return 1 if errors else 0
