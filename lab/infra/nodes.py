"""Handles on running lab containers. A Node wraps a docker-py Container, so the same
code serves a lab the current process started (through testcontainers) and one found
again by its labels (`lab status` on a lab started by an earlier `lab up`)."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from lab.infra.docker_env import LABEL_NODE, LABEL_ROLE, ComposeProject, RunIdentity, standin_tag
from lab.infra.errors import StartupError
from lab.infra.testcontainers_adapter import spec_files, spec_service

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

    def not_running(self) -> str | None:
        """Why the node cannot answer, as a person says it ("container not running
        (killed 4 s ago)", "container paused (frozen) 2 s ago"), or None when it runs.
        Status pages use this before any exec, which Docker refuses with a raw 409."""
        try:
            self.reload()
        except StartupError as exc:
            return str(exc)
        state = self.container.attrs.get("State", {})
        if state.get("Paused"):
            return "container paused (frozen with docker pause)"
        if state.get("Running"):
            return None
        code = state.get("ExitCode")
        how = {137: "killed", 143: "stopped"}.get(code, f"exited with status {code}")
        if state.get("OOMKilled"):
            how = "killed by the kernel (out of memory)"
        ago = seconds_since(state.get("FinishedAt", ""))
        return f"container not running ({how}{f' {ago:.0f} s ago' if ago is not None else ''})"

    @property
    def ip(self) -> str:
        self.reload()
        networks = self.container.attrs["NetworkSettings"]["Networks"]
        for settings in networks.values():
            if settings.get("IPAddress"):
                return str(settings["IPAddress"])
        raise StartupError(f"{self.name} has no IP address (status {self.container.status})")

    @property
    def network(self) -> str:
        """The name of the (first) network the container is on: where a client
        container must run to reach it by name."""
        return str(next(iter(self.container.attrs["NetworkSettings"]["Networks"])))

    def exec(self, cmd: list[str], timeout_s: int = 30) -> ExecResult:
        """Run a command in the container (bounded by `timeout`, so a frozen one cannot hang us)."""
        result = self.container.exec_run(["timeout", str(timeout_s), *cmd], demux=False)
        return ExecResult(result.exit_code, (result.output or b"").decode(errors="replace"))

    def sh(self, command: str, timeout_s: int = 30) -> ExecResult:
        """A shell command line as root in the container (the Remote verb)."""
        return self.exec(["sh", "-c", command], timeout_s)

    def spawn(self, command: str) -> None:
        """A shell command line left running in the container (a session that holds a
        lock until it is killed)."""
        self.container.exec_run(["sh", "-c", command], detach=True)

    def read_text(self, path: str) -> str | None:
        """A file's text (None: no such file)."""
        data = read_file(self, path)
        return None if data is None else data.decode(errors="replace")

    def put_file(self, path: str, data: bytes) -> None:
        """Write one file into the running container."""
        put_file(self, path, data)

    def logs(self, tail: int | str = "all", since: float | None = None) -> str:
        """The container's log (the last `tail` lines; from host time `since` on)."""
        try:
            raw = self.container.logs(tail=tail, since=int(since) if since else None)
            return raw.decode(errors="replace")
        except docker.errors.NotFound:
            return "(container is gone)"

    def started_at(self) -> float | None:
        """Host time the container last started (None: never, or unknown); read afresh,
        since a start since the last look is what callers ask about."""
        self.reload()
        return docker_epoch(self.container.attrs.get("State", {}).get("StartedAt", ""))

    def timed_logs(self, since: float) -> list[tuple[float, str]]:
        """Log lines since host time `since`, each with the host time Docker received
        it: evidence that lines up with a history's fault times."""
        try:
            raw = self.container.logs(timestamps=True, since=int(since)).decode(errors="replace")
        except docker.errors.NotFound:
            return []
        lines = []
        for line in raw.splitlines():
            stamp, _, text = line.partition(" ")
            at = docker_epoch(stamp)
            if at is not None and at >= since:
                lines.append((at, text))
        return lines

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


def docker_epoch(docker_time: str) -> float | None:
    """A Docker timestamp (RFC 3339 in UTC with nanoseconds) as host time; None for
    Docker's zero time (0001-01-01: never) or anything else."""
    whole, _, fraction = docker_time.rstrip("Z").partition(".")
    try:
        when = datetime.fromisoformat(whole).replace(tzinfo=UTC)
    except ValueError:
        return None
    if when.year < 2000:
        return None
    return when.timestamp() + (float(f"0.{fraction}") if fraction.isdigit() else 0.0)


def seconds_since(docker_time: str) -> float | None:
    """Seconds since a Docker timestamp (None: never, or not a timestamp)."""
    at = docker_epoch(docker_time)
    return None if at is None else max(0.0, datetime.now(UTC).timestamp() - at)


def lab_volume(client: docker.DockerClient, run: RunIdentity, name: str) -> str:
    """A named volume for the run (the compose project's own when adopting)."""
    if run.compose:
        return run.compose.volume(name)
    return str(client.volumes.create(run.resource_name(name), labels=run.labels()).name)


def _adopt(spec: DockerContainer, project: ComposeProject) -> Node:
    """The compose container for this spec, checked against it: a compose file that
    drifted from the lab's definitions fails here, naming what differs."""
    service = spec_service(spec)
    container = project.container(service)
    drift = []
    if container.attrs["Config"]["Image"] != spec.image:
        drift.append(f"image is {container.attrs['Config']['Image']}, lab uses {spec.image}")
    env = dict(e.split("=", 1) for e in container.attrs["Config"].get("Env") or [])
    drift += [
        f"environment {k}={env.get(k)!r}, lab sets {v!r}"
        for k, v in spec.env.items()
        if env.get(k) != v
    ]
    for source, dest in spec_files(spec):
        if isinstance(source, bytes) and read_file(Node(container), dest) != source:
            drift.append(f"{dest} differs from what the lab renders")
    if drift:
        raise StartupError(
            f"compose service {service} drifted from the lab's definitions: "
            + "; ".join(drift)
            + " (regenerate with `lab compose write`)"
        )
    return Node(container)


def start_container(spec: DockerContainer, run: RunIdentity) -> Node:
    """Start a testcontainers spec; a half-started container is removed before re-raising.
    For a run that adopts a compose project, its container for the spec is used instead."""
    if run.compose:
        return _adopt(spec, run.compose)
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
    run: RunIdentity, network: Network | None, image: str, role: str, name: str, **kwargs: Any
) -> DockerContainer:
    """A testcontainers spec for one lab node: named and labelled for its run, reachable
    on the lab network by its guide hostname (and the operator's names for it, from
    oxlab.toml's [hosts]), with an init process to reap children. A stand-in run
    starts the role's stand-in image instead (the same services, plus SSH)."""
    spec = DockerContainer(standin_tag(image) if run.standin else image).with_name(
        run.resource_name(name)
    )
    if network is not None:
        spec = spec.with_network(network)
    return spec.with_network_aliases(name, *run.aliases_of(name)).with_kwargs(
        hostname=name,
        labels=run.labels(**{LABEL_ROLE: role, LABEL_NODE: name}),
        init=True,
        **kwargs,
    )


@dataclass(frozen=True)
class Placement:
    """One file into a container: an operator's file (or the lab's addition to it)."""

    target: str
    data: bytes
    source: str  # the operator's path, or "lab"


def with_files(spec: DockerContainer, placements: Sequence[Placement]) -> DockerContainer:
    """The spec with these files copied in before the container starts."""
    for placement in placements:
        spec = spec.with_copy_into_container(placement.data, placement.target)
    return spec


def put_file(node: Node, path: str, data: bytes, mode: int = 0o644) -> None:
    """Write one file into a running container."""
    if not node.container.put_archive("/", build_transfer_tar(data, path, mode)):
        raise StartupError(f"writing {path} into {node.name} failed")


def read_file(node: Node, path: str) -> bytes | None:
    """One file's bytes from a container (None: it has no such file)."""
    try:
        stream, _ = node.container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        extracted = tar.extractfile(member) if member else None
        return extracted.read() if extracted else None


def rewrite_file(node: Node, path: str, data: bytes) -> None:
    """Replace a file keeping its owner and mode (mysqld must still be able to write
    its grastate.dat)."""
    stream, _ = node.container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        info = tar.next()
    if info is None:
        raise StartupError(f"{node.name}: {path} is not a file")
    info.size = len(data)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(info, io.BytesIO(data))
    if not node.container.put_archive(path.rsplit("/", 1)[0], buf.getvalue()):
        raise StartupError(f"{node.name}: rewriting {path} failed")


def copy_file(src: Node, path: str, dst: Node, dst_dir: str) -> None:
    """Copy one file between containers (the guide's `scp master.sql gtid-slave:`)."""
    stream, _ = src.container.get_archive(path)
    if not dst.container.put_archive(dst_dir, b"".join(stream)):
        raise StartupError(f"copying {path} from {src.name} to {dst.name} failed")
