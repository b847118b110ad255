"""`lab matrix`: flavour x topology, the nightly run. With oxlab.toml: its flavours, the
topologies of its kind of cluster, every cell on the operator's files."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.cli import options
from lab.matrix import run_matrix
from lab.plan.flavours import FLAVOURS, get_flavour
from lab.plan.topology import TOPOLOGIES, LabRequest

HELP = "flavour x topology test matrix (the nightly run)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add(parser, "flavour", help="repeatable; default: oxlab.toml's, else all flavours")
    options.add(parser, "topology", action="append", help="repeatable; default: all")
    parser.add_argument("--tests", default="tests/integration", help="test directory")
    options.add(parser, "report_dir", help="where reports go (JUnit XML and log per cell)")


def run(args: argparse.Namespace) -> int:
    project = options.project(args)
    flavours = args.flavour or list(project.flavours if project else ()) or list(FLAVOURS)
    topologies = args.topology or list(TOPOLOGIES)
    extra: list[str] = []
    if project:
        own = LabRequest.of(project).plan().topology
        topologies = args.topology or [t for t, s in TOPOLOGIES.items() if s.family == own.family]
        extra = ["--config", str(project.path)]
    for name in flavours:
        get_flavour(name)  # one clear line for a typo, before hours of tests
    text, ok = run_matrix(flavours, topologies, args.tests, Path(args.report_dir), extra)
    print(text)
    print(f"reports: {args.report_dir}/ (JUnit XML and log per cell, matrix.json)")
    return 0 if ok else 1
