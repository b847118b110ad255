"""The guide's groupware nodes (oxgw01, oxgw02) on a lab's network, set up by running
exactly the guide's sequence of admin commands: initconfigdb, oxinstaller with
--jkroute OX1/OX2, registerserver, registerfilestore, registerdatabase (master, then
slave with --masterid), start, createcontext, createuser."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import requests
from docker.models.containers import Container
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

import lab
from lab.infra.docker_env import RunIdentity
from lab.infra.errors import StartupError, find_node
from lab.infra.nodes import Node, Placement, container_spec, lab_volume, put_file, start_container
from lab.infra.waiting import poll
from lab.operator.parsers import Export
from lab.oxnode.filestore import SETTLE_S
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER
from lab.roles.filestore.nfs import PSEUDO_PATH, FilestoreNode, rules_from_exports
from lab.roles.images import groupware_image

OXNODE_CODE = Path(lab.__file__).parent / "oxnode"
MASTER_PASS = "secret"  # the guide's oxadminmaster password
FILESTORE = "/var/opt/filestore"
CONTEXT = {"cid": 1, "admin": "oxadmin", "password": "secret", "mapping": "defaultcontext"}
MASTER_AUTH = ("-A", "oxadminmaster", "-P", MASTER_PASS)
# The guide's createcontext line (context 1, its admin oxadmin, 1 GB quota).
CREATECONTEXT = (
    *MASTER_AUTH,
    *("-c", str(CONTEXT["cid"]), "-u", "oxadmin", "-d", "Context Admin", "-g", "Admin"),
    *("-s", "User", "-p", "secret", "-L", "defaultcontext", "-e", "oxadmin@example.com"),
    *("-q", "1024", "--access-combination-name=all"),
)
# The guide's groupware nodes and their --jkroute.
OX_NODES = (("oxgw01", "OX1"), ("oxgw02", "OX2"))
USER = {"name": "testuser", "password": "secret"}
HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"


class OxNode(Node):
    """A groupware node and its jkroute (the AJP route Apache's balancer names it by)."""

    def __init__(self, container: Container, route: str) -> None:
        super().__init__(container)
        self.route = route

    def admin(self, command: str, *args: str) -> str:
        """Run one of the guide's admin commands on this node; its output, or StartupError."""
        result = self.exec([f"/opt/open-xchange/sbin/{command}", *args], timeout_s=60)
        if result.exit_code != 0:
            raise StartupError(f"{self.name}: {command} failed: {result.output.strip()}")
        return result.output.strip()

    def service(self, action: str) -> None:
        self.exec(["/etc/init.d/open-xchange", action])

    @property
    def url(self) -> str:
        return f"http://{self.ip}:8080"

    def identity(self) -> dict[str, str]:
        return dict(requests.get(f"{self.url}/oxnode/identity", timeout=3).json()["data"])

    def node_status(self) -> dict[str, object]:
        return dict(requests.get(f"{self.url}/oxnode/status", timeout=3).json()["data"])

    def log_lines(self, pattern: str) -> list[str]:
        out = self.exec(["sh", "-c", "cat /var/log/open-xchange/open-xchange.log.0 || true"])
        return [line for line in out.output.splitlines() if re.search(pattern, line)]

    def wait_serving(self, timeout: float = 60.0) -> None:
        poll(
            lambda: self.identity()["route"] == self.route,
            timeout=timeout,
            what=f"{self.name} to serve HTTP",
            retry_on=(requests.RequestException, KeyError),
        )


@dataclass(frozen=True)
class DbHosts:
    """Where configdb and the user database are, as the guide's flags name them."""

    write: str  # --configdb-writehost, registerdatabase --master true --hostname
    read: str | None  # --configdb-readhost, the slave; None: reads go to the master too


@dataclass
class OxCluster:
    nodes: list[OxNode]
    filestore: FilestoreNode | None = None

    def node(self, name: str) -> OxNode:
        return find_node(self.nodes, name, "the groupware cluster")

    @classmethod
    def launch(
        cls,
        client: docker.DockerClient,
        run: RunIdentity,
        network: Network,
        names: Sequence[tuple[str, str]] = OX_NODES,
        clustering: bool = True,
        nfs: bool = True,
        exports: Sequence[Export] = (),
        host_map: Mapping[str, str] | None = None,
        haproxy_cfg: str | None = None,
    ) -> OxCluster:
        """The nodes' containers and the filestore: nothing here needs a database, so a
        lab starts them beside its databases. nfs=True: the filestore is the guide's NFS
        export (a `filestore` ganesha container, RW for these nodes only); False: a
        Docker volume both nodes mount. `exports`: the operator's /etc/exports (names
        through `host_map`). `haproxy_cfg`: HAProxy on each node (`--dblb local`)."""
        shared = None if nfs else lab_volume(client, run, "filestore")
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            nodes = list(
                pool.map(
                    lambda nr: _start_node(run, network, shared, clustering, haproxy_cfg, *nr),
                    names,
                )
            )
        cluster = cls(nodes)
        if nfs:
            ips = {n.name: n.ip for n in nodes}
            aliases = host_map or {}
            rules = rules_from_exports(exports, lambda h: ips.get(aliases.get(h, h), h))
            cluster.filestore = FilestoreNode.launch(
                client, run, network, list(ips.values()), rules
            )
        return cluster

    def guide_setup(
        self,
        hosts: DbHosts,
        replication_monitor: bool = True,
        files: Sequence[Placement] = (),
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        """The guide's sequence, in its order. What the guide runs on every node
        (oxinstaller, the service start) runs on both at once. `files`: the operator's
        configdb.properties / server.properties, in place before the nodes start."""
        started = time.monotonic()
        first = self.nodes[0]
        read = hosts.read or hosts.write
        first.admin(
            "initconfigdb",
            f"--configdb-user={OX_DB_USER}",
            f"--configdb-pass={OX_DB_PASSWORD}",
            f"--configdb-host={hosts.write}",
        )
        self.on_every_node(
            lambda node: node.admin(
                "oxinstaller",
                "--servername=oxserver",
                f"--configdb-readhost={read}",
                f"--configdb-writehost={hosts.write}",
                f"--configdb-user={OX_DB_USER}",
                f"--master-pass={MASTER_PASS}",
                f"--configdb-pass={OX_DB_PASSWORD}",
                f"--jkroute={node.route}",
                "--ajp-bind-port=*",
                f"--replication-monitor={'true' if replication_monitor else 'false'}",
            )
        )
        auth = MASTER_AUTH
        first.admin("registerserver", "-n", "oxserver", *auth)
        first.admin("registerfilestore", *auth, "-t", f"file://{FILESTORE}")
        registered = first.admin(
            "registerdatabase",
            *auth,
            "--name",
            "oxdatabase",
            "--hostname",
            hosts.write,
            "--dbuser",
            OX_DB_USER,
            "--dbpasswd",
            OX_DB_PASSWORD,
            "--master",
            "true",
        )
        master_id = re.search(r"database (\d+) registered", registered)
        if not master_id:
            raise StartupError(f"registerdatabase said {registered!r}")
        if hosts.read:
            first.admin(
                "registerdatabase",
                *auth,
                "--name",
                "oxdatabase_slave",
                "--hostname",
                hosts.read,
                "--dbuser",
                OX_DB_USER,
                "--dbpasswd",
                OX_DB_PASSWORD,
                "--master",
                "false",
                f"--masterid={master_id.group(1)}",
            )

        def start(node: OxNode) -> None:
            for placement in files:  # the operator's, over what oxinstaller wrote
                put_file(node, placement.target, placement.data)
            node.service("start")

        self.on_every_node(start)
        first.admin("createcontext", *CREATECONTEXT)
        first.admin(
            "createuser",
            "-c",
            "1",
            "-A",
            "oxadmin",
            "-P",
            "secret",
            "-u",
            "testuser",
            "-d",
            "Test User",
            "-g",
            "Test",
            "-s",
            "User",
            "-p",
            "secret",
            "-e",
            "testuser@example.com",
        )
        self.wait_ready()
        progress(
            f"groupware nodes set up by the guide's sequence in {time.monotonic() - started:.1f}s"
        )

    def on_every_node(self, step: Callable[[OxNode], object]) -> None:
        """One of the guide's per-node steps on all nodes at once (errors re-raised)."""
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            list(pool.map(step, self.nodes))

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Every node serves, and (clustering on) is connected to every peer, so a cache
        invalidation reaches all of them."""
        for node in self.nodes:
            node.wait_serving(timeout)
        others = len(self.nodes) - 1

        def meshed(node: OxNode) -> bool:
            cluster: dict[str, Any] = node.node_status()["cluster"]  # type: ignore[assignment]
            if cluster.get("enabled") is False:
                return True
            peers = list(cluster["peers"].values())
            return len(peers) >= others and all(p["connected"] for p in peers)

        for node in self.nodes:
            poll(
                functools.partial(meshed, node),
                timeout=timeout,
                what=f"{node.name} to join the cluster",
                retry_on=(requests.RequestException, KeyError),
            )

    def wait_filestore_settled(self, timeout: float = 2 * SETTLE_S) -> None:
        """Every node has no upload in progress and no partial file left to remove, so
        what the filestore holds now stays (an inventory after an outage is final). The
        default deadline is twice what an upload caught by an outage takes to settle."""
        for node in self.nodes:
            poll(
                lambda node=node: node.node_status()["filestore_unsettled"] == 0,  # type: ignore[misc]
                timeout=timeout,
                what=f"{node.name} to finish its uploads and remove their partial files",
                retry_on=(requests.RequestException, KeyError),
            )


def oxnode_spec(
    run: RunIdentity,
    network: Network | None,
    shared_volume: str | None,
    clustering: bool,
    name: str,
    haproxy_cfg: str | None = None,
) -> DockerContainer:
    """shared_volume None: the filestore is the NFS export (the guide's setup);
    haproxy_cfg: the node's own HAProxy, which oxnode-run starts (`--dblb local`)."""
    spec = (
        container_spec(
            run, network, groupware_image().tag, "groupware", name, cap_add=["NET_ADMIN"]
        )
        .with_env("OX_NODE_NAME", name)
        .with_env("OX_CLUSTER", "on" if clustering else "off")
        .with_copy_into_container(OXNODE_CODE, "/opt/oxlab/lab")
    )
    if haproxy_cfg:
        spec = spec.with_copy_into_container(haproxy_cfg.encode(), HAPROXY_CFG)
    if shared_volume:
        return spec.with_volume_mapping(shared_volume, FILESTORE, "rw")
    return spec.with_env("OX_FILESTORE_NFS", f"filestore:{PSEUDO_PATH}")


def _start_node(
    run: RunIdentity,
    network: Network,
    shared_volume: str | None,
    clustering: bool,
    haproxy_cfg: str | None,
    name: str,
    route: str,
) -> OxNode:
    spec = oxnode_spec(run, network, shared_volume, clustering, name, haproxy_cfg)
    node = OxNode(start_container(spec, run).container, route)
    # the filestore belongs to open-xchange, as the guide's chown does
    node.exec(["chown", "open-xchange:open-xchange", FILESTORE])
    return node
