"""Handles on running lab containers. A Node wraps a docker-py Container, so the same
code serves a lab the current process started (through testcontainers) and one found
again by its labels (`lab status` on a lab started by an earlier `lab up`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import docker.errors
from docker.models.containers import Container

from lab.docker_env import LABEL_NODE, LABEL_ROLE, RunIdentity
from lab.errors import StartupError

# Ryuk (testcontainers' reaper) is an image pull; the lab cleans up by its own labels.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.transferable import build_transfer_tar

testcontainers_config.ryuk_disabled = True


@dataclass
class ExecResult:
    exit_code: int
    output: str


class Node:
    """One lab container: its name in the topology, address, logs and shell."""

    def __init__(self, container: Container) -> None:
        self.container = container

    @property
    def name(self) -> str:
        return str(self.container.labels.get(LABEL_NODE, self.container.name))

    @property
    def role(self) -> str:
        return str(self.container.labels.get(LABEL_ROLE, ""))

    def reload(self) -> None:
        try:
            self.container.reload()
        except docker.errors.NotFound:
            raise StartupError(f"{self.name}: container {self.container.name} is gone") from None

    @property
    def status(self) -> str:
        self.reload()
        return str(self.container.status)

    @property
    def ip(self) -> str:
        self.reload()
        networks = self.container.attrs["NetworkSettings"]["Networks"]
        for settings in networks.values():
            if settings.get("IPAddress"):
                return str(settings["IPAddress"])
        raise StartupError(f"{self.name} has no IP address (status {self.container.status})")

    def exec(self, cmd: list[str], timeout_s: int = 30) -> ExecResult:
        """Run a command in the container (bounded by `timeout`, so a frozen one cannot hang us)."""
        result = self.container.exec_run(["timeout", str(timeout_s), *cmd], demux=False)
        return ExecResult(result.exit_code, (result.output or b"").decode(errors="replace"))

    def logs(self, tail: int | str = "all") -> str:
        try:
            return self.container.logs(tail=tail).decode(errors="replace")
        except docker.errors.NotFound:
            return "(container is gone)"

    def kill(self) -> None:
        self.container.kill()

    def stop(self, timeout_s: int = 10) -> None:
        self.container.stop(timeout=timeout_s)

    def start(self) -> None:
        self.container.start()

    def pause(self) -> None:
        self.container.pause()

    def unpause(self) -> None:
        self.container.unpause()


def start_container(spec: DockerContainer) -> Node:
    """Start a testcontainers spec; a half-started container is removed before re-raising."""
    try:
        spec.start()
    except docker.errors.APIError as exc:
        try:
            spec.stop()
        except Exception:
            pass
        raise StartupError(f"cannot start container: {exc.explanation or exc}") from None
    return Node(spec.get_wrapped_container())


def container_spec(
    run: RunIdentity, network: Network, image: str, role: str, name: str, **kwargs: Any
) -> DockerContainer:
    """A testcontainers spec for one lab node: named and labelled for its run, reachable
    on the lab network by its guide hostname, with an init process to reap children."""
    return (
        DockerContainer(image)
        .with_name(run.resource_name(name))
        .with_network(network)
        .with_network_aliases(name)
        .with_kwargs(
            hostname=name,
            labels=run.labels(**{LABEL_ROLE: role, LABEL_NODE: name}),
            init=True,
            **kwargs,
        )
    )


def put_file(node: Node, path: str, data: bytes, mode: int = 0o644) -> None:
    """Write one file into a running container."""
    if not node.container.put_archive("/", build_transfer_tar(data, path, mode)):
        raise StartupError(f"writing {path} into {node.name} failed")


def copy_file(src: Node, path: str, dst: Node, dst_dir: str) -> None:
    """Copy one file between containers (the guide's `scp master.sql gtid-slave:`)."""
    stream, _ = src.container.get_archive(path)
    if not dst.container.put_archive(dst_dir, b"".join(stream)):
        raise StartupError(f"copying {path} from {src.name} to {dst.name} failed")
