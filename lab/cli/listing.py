"""`lab list` (Test Kitchen's `kitchen list`): every lab on this Docker engine, by the
labels the lab puts on what it creates: its name, whether `lab up` keeps it or a test
run owns it, topology, flavour, and how many of its nodes run."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping

from lab.cli import options
from lab.infra.docker_env import LABEL_KEEP, LABEL_LAB, LABEL_NODE, LABEL_RUN, connect
from lab.infra.text import table

HELP = "the labs on this Docker engine: name, topology, flavour, nodes running"
COLUMNS = ["lab", "kept", "topology", "flavour", "nodes", "not running"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="only the lab of this name")
    options.add_width(parser)


def lab_rows(containers: Iterable[tuple[Mapping[str, str], str]]) -> list[dict[str, str]]:
    """One row per lab run from its containers' (labels, status); a run's nodes in
    name order, those not running named with their status."""
    runs: dict[str, list[tuple[Mapping[str, str], str]]] = {}
    for labels, status in containers:
        runs.setdefault(labels[LABEL_RUN], []).append((labels, status))
    rows = []
    for run_id in sorted(runs, key=lambda r: (runs[r][0][0].get(LABEL_LAB, ""), r)):
        members = sorted(runs[run_id], key=lambda m: m[0].get(LABEL_NODE, ""))
        labels = members[0][0]
        down = [f"{m.get(LABEL_NODE, '?')} ({s})" for m, s in members if s != "running"]
        rows.append(
            {
                "lab": labels.get(LABEL_LAB, run_id),
                "kept": "lab up" if labels.get(LABEL_KEEP) == "1" else "test run",
                "topology": labels.get("ox-lab.topology", "?"),
                "flavour": labels.get("ox-lab.flavour", "?"),
                "nodes": f"{len(members) - len(down)}/{len(members)} running",
                "not running": ", ".join(down) or "-",
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    wanted = [LABEL_RUN] + ([f"{LABEL_LAB}={args.name}"] if args.name else [])
    found = connect().containers.list(all=True, filters={"label": wanted})
    rows = lab_rows((c.labels, c.status) for c in found)
    if not rows:
        print(f"no lab {args.name!r} on this Docker engine" if args.name else "no labs are up")
        return 0
    print(table(rows, COLUMNS, width=args.width))
    return 0
