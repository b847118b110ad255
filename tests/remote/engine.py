"""A second Docker engine the tests start themselves: dockerd on a unix socket of its
own, with its own data root, exec root, containerd and address pool, reached as
DOCKER_HOST=unix://…; the images the Galera lab needs are streamed into it (no
registry), as `lab images copy` does for an operator's remote engine.

Why not dockerd in a privileged container: Docker hosts like ours (sandboxes, CI VMs)
refuse privileged containers ("unable to apply caps"). A second daemon beside the first
shares the host's network namespace instead, so it runs with `--iptables=false` (its
rules would rewrite the first engine's chains) and a rule in Docker's DOCKER-USER chain,
for its address pool only, lets bridged traffic between its containers through the
host's FORWARD policy (br_netfilter hands bridged packets to iptables).

Its default bridge is one of its own (`--bridge=oxlab-e2br0`, made here), never
`--bridge=none`: with none, dockerd deletes the host's docker0 at start
(removeDefaultBridgeInterface), and the first engine's default-network containers then
fail with "could not find bridge docker0" until it restarts. Everything is undone on
exit (containers, daemon, rule, bridge, directories) except its image store, kept in
DATA_ROOT between runs as the local engine keeps its own: an image is streamed again only
when its build changed (copy_images compares ids), which saves about half a minute."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests

from lab.infra.errors import StartupError
from lab.infra.waiting import poll
from lab.plan.flavours import get_flavour
from lab.roles.images import build_images, copy_images, images_for

ENGINE_POOL = "10.219.0.0/16"  # its networks' addresses: none of the first engine's
ENGINE_BRIDGE = "oxlab-e2br0"  # its default bridge (docker0 is the first engine's)
ENGINE_BRIDGE_ADDRESS = "10.218.0.1/24"  # outside the pool: dockerd takes it as given
DATA_ROOT = Path("/var/lib/oxlab-engine2")  # its image store, kept between runs
HOST_BRIDGE = "docker0"  # the local engine's default bridge, which must survive


@dataclass(frozen=True)
class SecondEngine:
    url: str  # as DOCKER_HOST names it: unix:///…/docker.sock
    client: docker.DockerClient
    log: Path  # dockerd's own log (why it did not start)


def unavailable_reason() -> str | None:
    """Why this machine cannot start a second engine (None: it can)."""
    if not shutil.which("dockerd"):
        return "no dockerd binary on this machine (the engine is elsewhere: DOCKER_HOST)"
    if os.geteuid() != 0:
        return "starting a second dockerd needs root"
    if not shutil.which("iptables"):
        return "no iptables to let the second engine's bridged traffic through"
    return None


def galera_images(flavour: str) -> list[str]:
    """What a Galera lab of `flavour` runs on: the base image (role images' context
    hashes include its id) and the flavour's role images (`lab up` wants them all)."""
    spec = get_flavour(flavour)
    return [spec.base_image, *(image.tag for image in images_for(spec))]


def host_bridge_present() -> bool:
    return Path("/sys/class/net", HOST_BRIDGE).exists()


def _make_bridge() -> None:
    """dockerd uses a named bridge as it finds it, so it must exist, up, with an address."""
    subprocess.run(["ip", "link", "add", ENGINE_BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", ENGINE_BRIDGE_ADDRESS, "dev", ENGINE_BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", ENGINE_BRIDGE, "up"], check=True)


def _remove_everything_but_images(client: docker.DockerClient) -> None:
    """The engine is the tests' own: every container, network and volume on it goes."""
    for container in client.containers.list(all=True):
        container.remove(force=True, v=True)
    client.networks.prune()
    client.volumes.prune()


def _forward_rule(action: str) -> list[str]:
    return [
        "iptables", action, "DOCKER-USER", "-s", ENGINE_POOL, "-d", ENGINE_POOL,
        "-m", "comment", "--comment", "oxlab-second-engine", "-j", "ACCEPT",
    ]  # fmt: skip


@contextlib.contextmanager
def second_engine(local: docker.DockerClient, flavour: str) -> Iterator[SecondEngine]:
    """Start the engine, copy the Galera images into it; on exit (also when the test
    failed) remove what runs on it, stop it, and remove its rule and directories."""
    build_images(local, images_for(get_flavour(flavour)))
    root = Path(tempfile.mkdtemp(prefix="oxlab-engine2-"))
    (root / "daemon.json").write_text(json.dumps({}))  # not the host's /etc/docker one
    socket, log = root / "docker.sock", root / "dockerd.log"
    command = [
        "dockerd",
        f"--config-file={root / 'daemon.json'}",
        f"--host=unix://{socket}",
        f"--data-root={DATA_ROOT}",
        f"--exec-root={root / 'exec'}",
        f"--pidfile={root / 'docker.pid'}",
        f"--storage-driver={local.info().get('Driver', 'overlay2')}",
        f"--default-address-pool=base={ENGINE_POOL},size=24",
        f"--bridge={ENGINE_BRIDGE}",
        "--iptables=false",
        "--ip-masq=false",
        "--mtu=1400",
        "--cgroup-parent=/oxlab-engine2",
    ]
    # the API version is fixed, not asked, so making the client cannot fail: the socket
    # appears only once dockerd is up
    client = docker.DockerClient(base_url=f"unix://{socket}", version="1.41", timeout=600)
    subprocess.run(["ip", "link", "del", ENGINE_BRIDGE], check=False, capture_output=True)
    # only the images are kept: a network store restored from an earlier run made the
    # second dockerd delete the host's docker0 at start (seen here), a fresh one does not
    shutil.rmtree(DATA_ROOT / "network", ignore_errors=True)
    _make_bridge()
    ruled = False
    daemon: subprocess.Popen[bytes] | None = None
    try:
        with open(log, "wb") as out:
            daemon = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

        def answers() -> bool:
            assert daemon is not None
            if daemon.poll() is not None:
                raise StartupError(f"the second dockerd exited: {log.read_text()[-800:]}")
            try:
                return bool(client.ping())
            except (docker.errors.DockerException, requests.RequestException):
                return False

        poll(answers, timeout=60, what=f"the second engine at {socket} to answer")
        _remove_everything_but_images(client)  # what a run that was killed left
        subprocess.run(_forward_rule("-I"), check=True)
        ruled = True
        copy_images(local, client, galera_images(flavour), progress=lambda _line: None)
        yield SecondEngine(f"unix://{socket}", client, log)
    finally:
        with contextlib.suppress(docker.errors.DockerException, requests.RequestException):
            _remove_everything_but_images(client)
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        if ruled:
            subprocess.run(_forward_rule("-D"), check=False)
        subprocess.run(["ip", "link", "del", ENGINE_BRIDGE], check=False)
        shutil.rmtree(root, ignore_errors=True)
