"""The lab on a Docker engine other than the local one: `lab up`, a Galera smoke test
and `lab down` with DOCKER_HOST naming a second engine the test starts itself
(tests/remote/engine.py: dockerd on a socket of its own); the local engine never sees
the lab, the remote one keeps nothing of it afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import docker
import pytest

from lab.infra.docker_env import LABEL_LAB, RunIdentity, remove_run
from lab.plan.flavours import get_flavour
from lab.roles.system import Lab
from tests.remote.engine import (
    HOST_BRIDGE,
    SecondEngine,
    host_bridge_present,
    second_engine,
    unavailable_reason,
)

pytestmark = [pytest.mark.remote, pytest.mark.docker]

NAME = "remote-smoke"


@pytest.fixture(scope="module")
def engine(docker_client: docker.DockerClient, flavour: str) -> Iterator[SecondEngine]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no second Docker engine here: {reason}")
    had_bridge = host_bridge_present()
    with second_engine(docker_client, flavour) as started:
        yield started
    # the local engine's default bridge outlives the second engine too (its start and
    # its stop): without it every later default-network container fails to start
    assert host_bridge_present() or not had_bridge, (
        f"the second engine's start or stop deleted the host's {HOST_BRIDGE}"
    )


def lab(engine: SecondEngine, *args: str) -> subprocess.CompletedProcess[str]:
    """`lab ARGS` as an operator runs it with DOCKER_HOST naming the other engine."""
    return subprocess.run(
        [sys.executable, "-m", "lab.cli", *args],
        env={**os.environ, "DOCKER_HOST": engine.url},
        capture_output=True,
        text=True,
        timeout=600,
    )


def labelled(client: docker.DockerClient) -> list[str]:
    found = client.containers.list(all=True, filters={"label": f"{LABEL_LAB}={NAME}"})
    return [c.name for c in found]


def test_a_galera_lab_comes_up_replicates_and_is_removed_on_a_second_engine(
    engine: SecondEngine, docker_client: docker.DockerClient, flavour: str
) -> None:
    up = lab(engine, "up", "--name", NAME, "--topology", "galera", "--flavour", flavour)
    try:
        assert up.returncode == 0, f"lab up on {engine.url}: {up.stderr[-1500:]}"
        assert "wsrep_cluster_size" in up.stdout, f"the status after up: {up.stdout[-800:]}"
        assert len(labelled(engine.client)) >= 4, "3 Galera nodes and HAProxy on the engine"
        assert not labelled(docker_client), "nothing of the lab on the local engine"
        remote = Lab.attach(NAME, client=engine.client)
        remote.wait_healthy(timeout=60)
        assert remote.galera and remote.dblb
        # through HAProxy's write port, from this machine (the route to the engine's
        # networks), then read on every node: the cluster replicates
        with remote.dblb.connect(write=True) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS oxlab_remote")
            cur.execute("CREATE TABLE IF NOT EXISTS oxlab_remote.t (v INT PRIMARY KEY)")
            cur.execute("REPLACE INTO oxlab_remote.t VALUES (42)")
            conn.commit()
        for node in remote.galera.nodes:
            seen = node.sql_value("SELECT v FROM oxlab_remote.t")
            assert seen == "42", f"{node.name} on the second engine has not replicated: {seen!r}"
    finally:
        down = lab(engine, "down", "--name", NAME)
    assert down.returncode == 0, f"lab down on {engine.url}: {down.stderr[-800:]}"
    assert not labelled(engine.client), "lab down leaves nothing of the lab on the engine"
    networks = engine.client.networks.list(filters={"label": f"{LABEL_LAB}={NAME}"})
    assert not networks, f"its network is gone too: {[n.name for n in networks]}"


def test_the_local_engines_default_network_still_works_beside_the_second_engine(
    engine: SecondEngine, docker_client: docker.DockerClient, flavour: str
) -> None:
    """A second dockerd shares the host's links: started with --bridge=none it deletes
    docker0, and every other test's container on the default network then fails to
    start ("could not find bridge docker0"), as CI once saw."""
    assert engine.client.ping()
    probe = RunIdentity.new("default-network-probe", keep=False)  # labelled: swept if left
    try:
        output = docker_client.containers.run(
            get_flavour(flavour).base_image, ["echo", "started"], labels=probe.labels()
        )
    finally:
        remove_run(docker_client, probe.run_id)  # also when it was created but not started
    assert output.strip() == b"started", f"a container on the local default network: {output!r}"
