"""`lab images build`: every role image of the flavours (the base image made with
debootstrap where no registry serves it); `lab up` builds what is missing by itself."""

from __future__ import annotations

import argparse

from lab.cli import options
from lab.infra.docker_env import connect
from lab.plan.flavours import get_flavour
from lab.roles.images import build_images, groupware_images, images_for
from lab.roles.system import stderr_progress

HELP = "image pipeline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = options.subcommands(parser, "images_command")
    build = sub.add_parser("build", help="build role images (base made if needed)")
    options.add(build, "flavour")
    build.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flavours = [get_flavour(f) for f in options.flavours_of(options.args_value(args), None)]
    client = connect()
    specs = [s for f in flavours for s in images_for(f)]
    build_images(client, [*specs, *groupware_images()], stderr_progress)
    return 0
