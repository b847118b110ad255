"""A second Docker engine the tests start themselves: dockerd in a privileged container
(lab/images/engine) on a network of its own, reached over tcp:// as DOCKER_HOST, with the
images the Galera lab needs streamed into it (no registry) and a route from this machine
to the networks it makes, as a control machine needs to a remote engine's lab."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import docker
import docker.errors
import requests

from lab.infra.docker_env import RunIdentity, remove_run
from lab.infra.errors import StartupError
from lab.infra.network import create_network
from lab.infra.nodes import Node, container_spec, start_container
from lab.infra.waiting import poll
from lab.plan.flavours import get_flavour
from lab.roles.images import build_images, copy_images, db_image, dblb_image, engine_image

ENGINE_POOL = "10.219.0.0/16"  # the second engine's networks (route from here via it)
ENGINE_PORT = 2375


@dataclass(frozen=True)
class SecondEngine:
    url: str  # as DOCKER_HOST names it: tcp://ADDRESS:2375
    node: Node  # the container dockerd runs in (its logs say why it did not start)
    client: docker.DockerClient


def galera_images(flavour: str) -> list[str]:
    """What a Galera lab of `flavour` runs on: the base image (role images' context
    hashes include its id) and the db and dblb images."""
    spec = get_flavour(flavour)
    return [spec.base_image, db_image(spec).tag, dblb_image(spec).tag]


@contextmanager
def second_engine(local: docker.DockerClient, flavour: str) -> Iterator[SecondEngine]:
    """Start the engine, copy the Galera images into it, route ENGINE_POOL to it; on exit
    (also when the test failed) remove the route, the engine and everything in it."""
    spec = get_flavour(flavour)
    build_images(local, [engine_image(), db_image(spec), dblb_image(spec)])
    run = RunIdentity.new("remote-engine", False)
    network = create_network(run)
    routed = False
    try:
        engine = container_spec(
            run,
            network,
            engine_image().tag,
            "engine",
            "engine",
            privileged=True,  # dockerd needs its own mounts, cgroups and iptables
            tmpfs={"/var/lib/docker": "size=12g"},  # its image store, gone with it
            environment={"ENGINE_POOL": ENGINE_POOL},
        )
        node = start_container(engine, run)
        address = node.ip
        url = f"tcp://{address}:{ENGINE_PORT}"
        client = docker.DockerClient(base_url=url, timeout=600)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except (docker.errors.DockerException, requests.RequestException):
                return False

        try:
            poll(answers, timeout=60, what=f"the second engine at {url} to answer")
        except StartupError as exc:
            raise StartupError(f"{exc}; its log: {node.logs(tail=20)}") from None
        copy_images(local, client, galera_images(flavour), progress=lambda line: None)
        subprocess.run(["ip", "route", "replace", ENGINE_POOL, "via", address], check=True)
        routed = True
        yield SecondEngine(url, node, client)
    finally:
        if routed:
            subprocess.run(["ip", "route", "del", ENGINE_POOL], check=False)
        remove_run(local, run.run_id)
