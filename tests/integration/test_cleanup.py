"""Cleanup by label: what a crashed run left behind is removed by the next run, while a
live run's resources, kept labs and anything unlabelled are never touched."""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from lab.infra.docker_env import (
    LABEL_OWNER,
    LABEL_RUN,
    RunIdentity,
    owner_token,
    remove_orphan_run_files,
    remove_resources,
    sweep_stale,
)
from lab.plan.flavours import get_flavour
from lab.roles.images import build_images, dblb_image

# flavour-independent; it runs in the nightly galera cell, which has HAProxy's image
pytestmark = [pytest.mark.docker, pytest.mark.galera]


@pytest.fixture
def idle_image(docker_client: docker.DockerClient) -> str:
    """Any small lab image will do; HAProxy's is built here if no test built it yet."""
    spec = dblb_image(get_flavour("mariadb-10.11"))
    build_images(docker_client, [spec])
    return spec.tag


@pytest.fixture
def containers(docker_client: docker.DockerClient) -> Iterator[list]:
    made: list = []
    yield made
    for container in made:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


def test_sweep_removes_dead_runs_only(
    docker_client: docker.DockerClient, idle_image: str, containers: list
) -> None:
    gone_owner = owner_token().rsplit(":", 2)[0] + ":999999999:1"  # this host, no such pid
    dead = RunIdentity.new("sweep-dead", keep=False)
    dead_labels = {**dead.labels(), LABEL_OWNER: gone_owner}
    live = RunIdentity.new("sweep-live", keep=False)
    kept = RunIdentity.new("sweep-kept", keep=True)
    kept_labels = {**kept.labels(), LABEL_OWNER: gone_owner}
    for labels in (dead_labels, live.labels(), kept_labels, {}):
        containers.append(
            docker_client.containers.run(idle_image, ["sleep", "300"], detach=True, labels=labels)
        )
    network = docker_client.networks.create(f"oxlab-sweep-{dead.run_id}", labels=dead_labels)

    swept = sweep_stale(docker_client)

    assert dead.run_id in swept, "a run whose process is gone is swept"
    assert live.run_id not in swept and kept.run_id not in swept
    remaining = {c.id for c in docker_client.containers.list(all=True)}
    dead_c, live_c, kept_c, unlabelled_c = containers
    assert dead_c.id not in remaining, "the dead run's container is removed"
    assert {live_c.id, kept_c.id, unlabelled_c.id} <= remaining, (
        "live runs, kept labs and unlabelled containers are never touched"
    )
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(network.id)


def test_removing_a_run_removes_its_ca_file_too(
    docker_client: docker.DockerClient, idle_image: str, containers: list
) -> None:
    """`lab down` removes by label; the run's CA certificate on this host goes with it."""
    run = RunIdentity.new("ca-leak", keep=True)
    containers.append(
        docker_client.containers.run(idle_image, ["sleep", "300"], detach=True, labels=run.labels())
    )
    with open(run.ca_file(docker_client), "w", encoding="ascii") as f:
        f.write("-----BEGIN CERTIFICATE-----\n")
    assert remove_resources(docker_client, {"label": [f"{LABEL_RUN}={run.run_id}"]}) == 1
    assert not os.path.exists(run.ca_file(docker_client)), (
        "the run's CA file is removed with the run"
    )


def test_a_ca_file_whose_run_is_gone_is_removed_and_a_live_runs_is_kept(
    docker_client: docker.DockerClient, idle_image: str, containers: list
) -> None:
    """A compose lab taken down by `docker compose down -v` leaves the CA file that
    `lab status` wrote, with no label left to find it by: the next cleanup removes it."""
    live = RunIdentity.new("ca-live", keep=True)
    gone = RunIdentity.new("ca-gone", keep=True)
    containers.append(
        docker_client.containers.run(
            idle_image, ["sleep", "300"], detach=True, labels=live.labels()
        )
    )
    for run in (live, gone):
        with open(run.ca_file(docker_client), "w", encoding="ascii") as f:
            f.write("-----BEGIN CERTIFICATE-----\n")
    try:
        removed = remove_orphan_run_files(docker_client)
        assert gone.ca_file(docker_client) in removed, (
            "the CA file of a run with no resource is removed"
        )
        assert not os.path.exists(gone.ca_file(docker_client))
        assert os.path.exists(live.ca_file(docker_client)), "a live run's CA file is kept"
    finally:
        for run in (live, gone):
            if os.path.exists(run.ca_file(docker_client)):
                os.remove(run.ca_file(docker_client))
