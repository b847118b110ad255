"""The lab's boundary to the Docker engine: connecting (with one clear error), the labels
every lab resource carries, and cleanup that touches labelled resources only.

Cleanup replaces testcontainers' Ryuk reaper (an image pull, impossible on air-gapped
hosts): each resource is labelled with its run id and owning process, so a later run can
remove what a crashed run left behind while never touching a live run or anything
unlabelled.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import os
import socket
import tempfile
import uuid
from dataclasses import dataclass, field

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container
from docker.models.resource import Model

from lab import __version__
from lab.infra.errors import ConfigError, DockerUnavailable
from lab.infra.vocabulary import ROLE_NAMES
from lab.infra.waiting import poll

MIN_API_VERSION = (1, 41)  # Docker engine 20.10, Debian's docker.io: the oldest supported

LABEL_RUN = "ox-lab.run"
LABEL_LAB = "ox-lab.lab"
LABEL_OWNER = "ox-lab.owner"  # host:pid:process-start-time of the creating process
LABEL_KEEP = "ox-lab.keep"  # "1": made by `lab up`, removed only by `lab down`
LABEL_ROLE = "ox-lab.role"
LABEL_NODE = "ox-lab.node"
LABEL_VERSION = "ox-lab.version"


def connect() -> docker.DockerClient:
    """A client for the engine in DOCKER_HOST (default: the local socket), checked."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
        api = client.version().get("ApiVersion", "0.0")
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise DockerUnavailable(
            f"cannot reach the Docker engine at {where}: {_first_line(exc)} "
            "(is dockerd running and may this user use it? `lab doctor` checks)"
        ) from None
    if tuple(int(x) for x in api.split(".")[:2]) < MIN_API_VERSION:
        raise DockerUnavailable(f"Docker engine API {api} is older than 1.41 (engine 20.10)")
    return client


ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://")  # what DOCKER_HOST may name


def parse_docker_hosts(text: str) -> list[str]:
    """`--lab-docker-hosts H1,H2,...`: Docker engines as DOCKER_HOST names them; a word
    that is none is one line naming it."""
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    if not hosts:
        raise ConfigError("--lab-docker-hosts: no engine given (H1,H2,...)")
    for host in hosts:
        if not host.startswith(ENGINE_SCHEMES):
            raise ConfigError(
                f"--lab-docker-hosts: {host!r} is not a Docker engine address "
                f"(DOCKER_HOST's forms: {', '.join(s + '...' for s in ENGINE_SCHEMES)})"
            )
    return hosts


def docker_host_for_worker(hosts: list[str], worker: str) -> str:
    """The engine of an xdist worker: gw0 the first, gw1 the second, ... round robin;
    a run without xdist ("main") the first. Each worker's labs stay whole on its engine."""
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return hosts[index % len(hosts)]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _process_start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            # field 22 (starttime); the command name in field 2 may contain spaces
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_token(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start_time(pid)}"


def owner_alive(token: str) -> bool:
    """Whether the process that created a resource still runs (pid reuse is detected)."""
    try:
        host, pid, start = token.rsplit(":", 2)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another host's run (shared engine): not ours to judge
    return _process_start_time(int(pid)) == start


COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
ADOPT_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class ComposeProject:
    """A compose project (lab/compose/) whose containers the lab adopts instead of
    creating: the same procedures then configure what `docker-compose up` started."""

    client: docker.DockerClient
    name: str

    def container(self, service: str, timeout: float = ADOPT_TIMEOUT_S) -> Container:
        """The service's running container; compose creates a Galera joiner only once its
        predecessor is healthy, so it may appear while the setup waits."""
        filters = {"label": [f"{COMPOSE_PROJECT}={self.name}", f"{COMPOSE_SERVICE}={service}"]}

        def running() -> Container | None:
            found = self.client.containers.list(filters=filters)
            return found[0] if found else None

        return poll(running, timeout=timeout, what=f"compose service {service} to run")

    def volume(self, name: str) -> str:
        return f"{self.name}_{name}"

    @property
    def network(self) -> str:
        return f"{self.name}_lab"


STANDIN_ROLES = ROLE_NAMES  # every role image, SSH added (lab/images/standin)


def standin_tag(role_tag: str) -> str:
    """The stand-in image's tag for a role image's tag (the role images only; others,
    such as the tools image, are used as they are)."""
    repository, _, version = role_tag.partition(":")
    role = repository.rpartition("/")[2]
    return f"oxlab/standin:{role}-{version}" if role in STANDIN_ROLES else role_tag


@dataclass(frozen=True)
class RunIdentity:
    """Who owns a set of lab resources: the labels and names a run gives them."""

    run_id: str
    lab_name: str
    keep: bool
    details: tuple[tuple[str, str], ...] = ()  # e.g. topology and flavour, for `lab status`
    # (lab node, host name): the operator's names for lab nodes (oxlab.toml [hosts])
    aliases: tuple[tuple[str, str], ...] = ()
    # the role containers run their stand-in images (an SSH server beside the service)
    standin: bool = False
    # a compose project whose containers the run adopts instead of creating (lab/compose.py)
    compose: ComposeProject | None = field(default=None, compare=False)

    @classmethod
    def new(
        cls,
        lab_name: str,
        keep: bool,
        aliases: tuple[tuple[str, str], ...] = (),
        standin: bool = False,
        **details: str,
    ) -> RunIdentity:
        return cls(
            uuid.uuid4().hex[:8], lab_name, keep, tuple(sorted(details.items())), aliases, standin
        )

    def labels(self, **extra: str) -> dict[str, str]:
        return {
            LABEL_RUN: self.run_id,
            LABEL_LAB: self.lab_name,
            LABEL_OWNER: owner_token(),
            LABEL_KEEP: "1" if self.keep else "0",
            LABEL_VERSION: __version__,
            **{f"ox-lab.{key}": value for key, value in self.details},
            **extra,
        }

    def aliases_of(self, node: str) -> tuple[str, ...]:
        return tuple(alias for name, alias in self.aliases if name == node)

    def resource_name(self, role: str) -> str:
        return f"oxlab-{self.lab_name}-{self.run_id}-{role}"

    def ca_file(self, client: docker.DockerClient) -> str:
        """Where the run's CA certificate is kept for clients (curl --cacert, requests
        verify), under its engine's directory; removed with the run's resources."""
        return os.path.join(engine_files(client), f"oxlab-{self.lab_name}-{self.run_id}-ca.pem")


@functools.cache
def engine_files(client: docker.DockerClient) -> str:
    """The directory on the control machine for files of runs on `client`'s engine,
    named by the engine: labs on several engines (DOCKER_HOST, --lab-docker-hosts) keep
    their files apart, so one engine's cleanup, which sees only that engine's labels,
    never removes a file another engine's live run still uses. The daemon ID alone does
    not tell two engines on one machine apart (both take it from /etc/docker's key); its
    data root does."""
    info = client.info()
    engine = "|".join(str(info.get(key, "")) for key in ("ID", "Name", "DockerRootDir"))
    key = hashlib.sha256(engine.encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"oxlab-engine-{key}")
    os.makedirs(path, exist_ok=True)
    return path


def _run_files(client: docker.DockerClient, run_id: str) -> list[str]:
    """Files on the control machine that belong to a run on this engine (its CA)."""
    return glob.glob(os.path.join(engine_files(client), f"oxlab-*-{run_id}-ca.pem"))


def resource_labels(resource: Model) -> dict[str, str]:
    """A container's, network's or volume's labels (a container keeps them under Config)."""
    attrs = resource.attrs
    return attrs.get("Labels") or attrs.get("Config", {}).get("Labels") or {}


def remove_orphan_run_files(client: docker.DockerClient) -> list[str]:
    """Remove the CA files of runs that have no labelled resource left: a compose lab
    taken down by `docker compose down -v` leaves the file `lab status` or `Lab.attach`
    wrote, and no label leads `remove_resources` to it. Returns the paths removed."""
    live: set[str] = set()
    for resource in (
        *client.containers.list(all=True, filters={"label": LABEL_RUN}),
        *client.networks.list(filters={"label": LABEL_RUN}),
        *client.volumes.list(filters={"label": LABEL_RUN}),
    ):
        live.add(resource_labels(resource).get(LABEL_RUN, ""))
    removed = []
    for path in _run_files(client, "*"):
        if any(path.endswith(f"-{run_id}-ca.pem") for run_id in live - {""}):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed.append(path)
    return removed


def remove_resources(client: docker.DockerClient, filters: dict[str, str | list[str]]) -> int:
    """Remove labelled containers, then their networks and volumes, and the runs' files
    on this host (CA certificates); returns how many resources."""
    removed = 0
    runs: set[str] = set()
    for container in client.containers.list(all=True, filters={"label": filters["label"]}):
        runs.add(container.labels.get(LABEL_RUN, ""))
        try:
            container.remove(force=True, v=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    for network in client.networks.list(filters={"label": filters["label"]}):
        runs.add((network.attrs.get("Labels") or {}).get(LABEL_RUN, ""))
        try:
            network.remove()
            removed += 1
        except docker.errors.NotFound:
            pass
    for volume in client.volumes.list(filters={"label": filters["label"]}):
        try:
            volume.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    for run_id in runs - {""}:
        for path in _run_files(client, run_id):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
    return removed


def remove_run(client: docker.DockerClient, run_id: str) -> int:
    return remove_resources(client, {"label": [f"{LABEL_RUN}={run_id}"]})


def stale_runs(client: docker.DockerClient) -> set[str]:
    """Run ids of test runs (not kept labs) whose creating process is gone."""
    runs: set[str] = set()
    labelled = list(client.containers.list(all=True, filters={"label": LABEL_RUN}))
    labelled += client.networks.list(filters={"label": LABEL_RUN})
    for resource in labelled:
        labels = resource_labels(resource)
        if labels.get(LABEL_KEEP) == "1":
            continue
        if not owner_alive(labels.get(LABEL_OWNER, "")):
            runs.add(labels[LABEL_RUN])
    return runs


def sweep_stale(client: docker.DockerClient) -> set[str]:
    """Remove what crashed test runs left behind, and CA files no run owns any more;
    live runs and kept labs are untouched."""
    runs = stale_runs(client)
    for run_id in runs:
        remove_run(client, run_id)
    remove_orphan_run_files(client)
    return runs
