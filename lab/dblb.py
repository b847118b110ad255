"""The `dblb` role: HAProxy in front of the Galera nodes, and what a test needs from it
(its listeners' addresses, and its own view of backend health from the stats page)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pymysql
import requests
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.db import connect_as_ox
from lab.docker_env import RunIdentity
from lab.haproxy_config import (
    READ_LISTENER,
    READ_PORT,
    STATS_PORT,
    WRITE_LISTENER,
    WRITE_PORT,
)
from lab.nodes import Node, Placement, container_spec, read_file, start_container, with_files


@dataclass(frozen=True)
class Backend:
    listener: str
    server: str
    status: str  # UP, DOWN, "UP 1/2" (rising), MAINT, no check
    check: str  # last check result, e.g. L7OK, L7STS (503), L4TOUT
    backup: bool
    sessions: int  # current (scur)
    total_sessions: int = 0  # since HAProxy started (stot)
    queued: int = 0  # sessions waiting for this server (qcur): a dead active piles them up


# an operator's haproxy.cfg names its listeners and servers as they like; the lab puts
# their names -> its own (db-write, db-read, node names) here (lab/operator/placement.py)
NAMES_FILE = "/etc/haproxy/oxlab-names.json"


class Dblb(Node):
    WRITE = WRITE_LISTENER
    READ = READ_LISTENER
    _names: dict[str, dict[str, str]] | None = None

    def names(self) -> dict[str, dict[str, str]]:
        """The operator's listener/server names -> the lab's (empty: the lab's config)."""
        if self._names is None:
            data = read_file(self, NAMES_FILE)
            self._names = json.loads(data) if data else {}
        return self._names

    @classmethod
    def launch(
        cls,
        run: RunIdentity,
        network: Network,
        image: str,
        setup: HaproxySetup,
    ) -> Dblb:
        """Start HAProxy with the lab's haproxy.cfg (its servers resolve at run time, so
        it need not wait for the databases) or the operator's."""
        return cls(start_container(dblb_spec(run, network, image, setup)).container)

    def backends(self, timeout: float = 3.0) -> list[Backend]:
        """HAProxy's own view, from the stats page's CSV export."""
        resp = requests.get(f"http://{self.ip}:{STATS_PORT}/;csv", timeout=timeout)
        resp.raise_for_status()
        rows = csv.DictReader(io.StringIO(resp.text.lstrip("# ")))
        listeners, servers = self.names().get("listeners", {}), self.names().get("servers", {})
        return [
            Backend(
                listener=listeners.get(r["pxname"], r["pxname"]),
                server=servers.get(r["svname"], r["svname"]),
                status=r["status"],
                check=r.get("check_status", ""),
                backup=r.get("bck") == "1",
                sessions=int(r.get("scur") or 0),
                total_sessions=int(r.get("stot") or 0),
                queued=int(r.get("qcur") or 0),
            )
            for r in rows
            if r["svname"] not in ("FRONTEND", "BACKEND") and r["pxname"] != "oxlab-stats"
        ]

    def connect(self, write: bool = True, timeout: float = 5.0) -> pymysql.Connection:
        """A connection as the OX user through the write (3306) or read (3307) listener."""
        return connect_as_ox(self.ip, WRITE_PORT if write else READ_PORT, timeout=timeout)


@dataclass(frozen=True)
class HaproxySetup:
    """haproxy.cfg (the lab's or the operator's), files added beside it, the command."""

    config: str
    extra: tuple[Placement, ...] = ()
    command: tuple[str, ...] | None = None  # None: the image's


def dblb_spec(
    run: RunIdentity, network: Network | None, image: str, setup: HaproxySetup
) -> DockerContainer:
    spec = container_spec(run, network, image, "dblb", "dblb").with_copy_into_container(
        setup.config.encode(), "/etc/haproxy/haproxy.cfg"
    )
    if setup.command:
        spec = spec.with_command(list(setup.command))
    return with_files(spec, setup.extra)
