"""`lab doctor`: what this host has for the lab: the Docker engine, disk, the base and
role images of every flavour (and whether a missing base image can be made here)."""

from __future__ import annotations

import argparse
import os
import shutil

from lab.infra.docker_env import connect
from lab.infra.errors import LabError
from lab.plan.flavours import FLAVOURS
from lab.roles.images import image_present, images_for

HELP = "check Docker, disk and images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options of its own: it looks at this host."""


def run(args: argparse.Namespace) -> int:
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
