"""`lab images build`: every role image of the flavours (the base image made with
debootstrap where no registry serves it); `lab up` builds what is missing by itself.
`lab images copy --to ENGINE`: the images built here, streamed to another Docker engine
(`docker save | docker load`, no registry), for a lab run there with DOCKER_HOST.
`lab images save --to FILE` / `lab images load FILE`: the same images as one archive
(docker save + zstd), which a CI builds once and its other jobs load from its cache."""

from __future__ import annotations

import argparse
from pathlib import Path

import docker
import docker.errors
import requests

from lab.cli import options
from lab.infra.docker_env import connect, parse_docker_hosts
from lab.infra.errors import DockerUnavailable
from lab.plan.flavours import Flavour, get_flavour
from lab.roles.image_archive import load_images, save_images
from lab.roles.images import (
    ImageSpec,
    build_images,
    build_lab_images,
    copy_images,
    groupware_images,
    image_present,
    images_for,
    standin_specs,
)
from lab.roles.system import stderr_progress

HELP = "image pipeline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = options.subcommands(parser, "images_command")
    build = sub.add_parser("build", help="build role images (base made if needed)")
    options.add(build, "flavour")
    build.add_argument(
        "--standin-hosts",
        action="store_true",
        help="also the stand-in hosts' images (SSH and sudo in each role image: -m hosts)",
    )
    build.set_defaults(func=run)
    copy = sub.add_parser(
        "copy", help="stream the role images built here to another engine (no registry needed)"
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="ENGINE",
        help="the engine as DOCKER_HOST names it: unix:///path, tcp://host:2375, ssh://user@host",
    )
    options.add(copy, "flavour")
    copy.set_defaults(func=run_copy)
    save = sub.add_parser(
        "save", help="build what is missing or stale, then write every image to one archive"
    )
    save.add_argument("--to", required=True, metavar="FILE", help="the archive (.tar.zst)")
    options.add(save, "flavour")
    save.add_argument(
        "--standin-hosts", action="store_true", help="also the stand-in hosts' images"
    )
    save.set_defaults(func=run_save)
    load = sub.add_parser("load", help="load the images of an archive `lab images save` wrote")
    load.add_argument("archive", metavar="FILE")
    load.set_defaults(func=run_load)


def _flavours(args: argparse.Namespace) -> list[Flavour]:
    return [get_flavour(f) for f in options.flavours_of(options.args_value(args), None)]


def _specs(args: argparse.Namespace) -> list[ImageSpec]:
    return [*(s for f in _flavours(args) for s in images_for(f)), *groupware_images()]


def run(args: argparse.Namespace) -> int:
    build_lab_images(connect(), _flavours(args), args.standin_hosts, stderr_progress)
    return 0


def run_save(args: argparse.Namespace) -> int:
    client = connect()
    flavours = _flavours(args)
    build_lab_images(client, flavours, args.standin_hosts, stderr_progress)
    specs = _specs(args)
    if args.standin_hosts:
        specs += standin_specs(client, specs)
    present = [s for s in specs if image_present(client, s.tag)]  # a flavour unavailable today
    tags = [*dict.fromkeys(s.flavour.base_image for s in present), *(s.tag for s in present)]
    save_images(client, tags, Path(args.to), stderr_progress)
    return 0


def run_load(args: argparse.Namespace) -> int:
    tags = load_images(connect(), Path(args.archive), stderr_progress)
    print(f"{len(tags)} images loaded from {args.archive}")
    return 0


def run_copy(args: argparse.Namespace) -> int:
    (engine,) = parse_docker_hosts(args.to)[:1]
    source = connect()
    specs = _specs(args)
    build_images(source, specs, stderr_progress)  # only what is missing or stale
    try:
        target = docker.DockerClient(base_url=engine, timeout=600)
        target.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise DockerUnavailable(f"cannot reach the Docker engine at {engine}: {exc}") from None
    tags = [*dict.fromkeys(s.flavour.base_image for s in specs), *(s.tag for s in specs)]
    copied = copy_images(source, target, tags, stderr_progress)
    print(f"{len(copied)} of {len(tags)} images copied to {engine} (the others were current)")
    return 0
