"""`lab up`: bring a lab up (the operator's files if there is an oxlab.toml), wait until
every check has risen, print its status."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.cli import options
from lab.roles.status import render_status
from lab.roles.system import Lab, LabOptions

HELP = "bring a lab up and print its status"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_lab_flags(parser)
    options.add_name(parser)
    parser.add_argument(
        "--max-lag",
        type=float,
        default=LabOptions.max_lag_s,
        help="gtid: seconds a slave may lag before HAProxy reads from the master instead",
    )
    parser.add_argument(
        "--front-end",
        choices=["ajp", "http"],
        default="ajp",
        help="guide topologies: Apache balances over AJP13 (the guide) or HTTP (mod_proxy_http)",
    )
    parser.add_argument(
        "--standin-hosts",
        metavar="DIR",
        help="start the role containers with an SSH server and write an Ansible inventory, "
        "credentials file, key and known_hosts into DIR (stand-ins for `lab verify`)",
    )


def bring_up(args: argparse.Namespace) -> Lab:
    """The kept lab of the flags and oxlab.toml, serving writes with every check risen."""
    request = options.request(args)
    request.validate()  # before Docker is touched
    lab_options = LabOptions(
        name=args.name,
        keep=True,
        max_lag_s=args.max_lag,
        front_end=args.front_end,
        standin_hosts=bool(args.standin_hosts),
    )
    lab = Lab(request, lab_options).up()
    print(f"lab {args.name!r} serving writes in {lab.timings['up']:.1f} s")
    lab.wait_healthy()  # every HAProxy check risen too, so the status is the steady one
    return lab


def run(args: argparse.Namespace) -> int:
    lab = bring_up(args)
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
