"""The `dblb` role: HAProxy in front of the database nodes, and what a test needs from it
(its listeners' addresses, and its own view of backend health from the stats page); and
the redundant pair (`--dblb keepalived`): two such nodes with keepalived floating one
service address between them (lab/roles/dblb/keepalived_config.py)."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pymysql
import requests
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.infra.docker_env import RunIdentity
from lab.infra.errors import LabError
from lab.infra.nodes import Node, Placement, container_spec, read_file, start_container, with_files
from lab.roles.db.node import connect_as_ox
from lab.roles.dblb.haproxy_config import (
    READ_LISTENER,
    READ_PORT,
    STATS_PORT,
    WRITE_LISTENER,
    WRITE_PORT,
)
from lab.roles.dblb.keepalived_config import KEEPALIVED_CONF, PAIR_COMMAND


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

    @property
    def nodes(self) -> list[Dblb]:
        """The containers behind this front: itself (the pair has two)."""
        return [self]

    def serving(self) -> Dblb:
        """The HAProxy clients reach now: this one (the pair: the address's holder)."""
        return self

    @classmethod
    def launch(
        cls,
        run: RunIdentity,
        network: Network,
        image: str,
        setup: HaproxySetup,
        member: PairMember | None = None,
    ) -> Dblb:
        """Start HAProxy with the lab's haproxy.cfg (its servers resolve at run time, so
        it need not wait for the databases) or the operator's; as a `member` of the
        keepalived pair, with keepalived beside it."""
        return cls(start_container(dblb_spec(run, network, image, setup, member), run).container)

    def holds(self, address: str) -> bool:
        """Whether this node has `address` on an interface (keepalived put it there)."""
        if self.not_running():
            return False
        out = self.exec(["ip", "-4", "-o", "addr", "show"], timeout_s=5).output
        return any(f" {address}/" in line for line in out.splitlines())

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
class PairMember:
    """One member of the keepalived pair: its node name and its keepalived.conf."""

    node: str
    keepalived_conf: str


@dataclass(frozen=True)
class HaproxySetup:
    """haproxy.cfg (the lab's or the operator's), files added beside it, the command."""

    config: str
    extra: tuple[Placement, ...] = ()
    command: tuple[str, ...] | None = None  # None: the image's


def dblb_spec(
    run: RunIdentity,
    network: Network | None,
    image: str,
    setup: HaproxySetup,
    member: PairMember | None = None,
) -> DockerContainer:
    """One HAProxy node; as a pair member: keepalived beside HAProxy, allowed to add the
    floating address (NET_ADMIN) and to send VRRP (NET_RAW, multicast)."""
    name = member.node if member else "dblb"
    kwargs = {"cap_add": ["NET_ADMIN", "NET_RAW", "NET_BROADCAST"]} if member else {}
    spec = container_spec(run, network, image, "dblb", name, **kwargs)
    if member:  # one name for both members: what a DNS round robin would hand out
        spec = spec.with_network_aliases(name, ROUND_ROBIN_NAME, *run.aliases_of(name))
    spec = spec.with_copy_into_container(setup.config.encode(), "/etc/haproxy/haproxy.cfg")
    if member:
        spec = spec.with_copy_into_container(
            member.keepalived_conf.encode(), KEEPALIVED_CONF
        ).with_command(list(PAIR_COMMAND))
    elif setup.command:
        spec = spec.with_command(list(setup.command))
    return with_files(spec, setup.extra)


def floating_address(subnet: str) -> str:
    """The pair's service address: the lab network's highest host address. Docker hands
    addresses out from the bottom of the subnet, so a lab's dozen containers never get it."""
    return str(ipaddress.ip_network(subnet).broadcast_address - 1)


ROUND_ROBIN_NAME = "dblb-rr"  # both pair members' addresses under one DNS name


class SplitBrain(LabError):
    """Both members of the dblb pair hold the floating address."""


class DblbPair:
    """The dblb pair: two HAProxy nodes and the address keepalived floats between them.
    Clients use the address; HAProxy's view is the holder's."""

    name = "dblb"

    def __init__(self, members: Sequence[Dblb], vip: str) -> None:
        self.members = list(members)
        self.vip = vip

    @property
    def ip(self) -> str:
        return self.vip

    @property
    def nodes(self) -> list[Dblb]:
        return self.members

    def holders(self) -> list[Dblb]:
        """The members that hold the floating address now (two: split brain)."""
        return [m for m in self.members if m.holds(self.vip)]

    def active(self) -> Dblb:
        """The one member holding the address; SplitBrain when both do."""
        held = self.holders()
        if len(held) > 1:
            raise SplitBrain(
                f"split brain: {' and '.join(m.name for m in held)} both hold {self.vip}"
            )
        if not held:
            raise LabError(f"no member of the dblb pair holds {self.vip}")
        return held[0]

    def took_over(self, since: float) -> tuple[str, float] | None:
        """(member, seconds after host time `since`) of the first keepalived "Entering
        MASTER STATE" after it: the takeover as keepalived itself logged it."""
        found = [
            (at - since, m.name)
            for m in self.members
            for at, line in m.timed_logs(since)
            if "Entering MASTER STATE" in line
        ]
        if not found:
            return None
        after, name = min(found)
        return name, round(after, 2)

    def not_running(self) -> str | None:
        down = [(m.name, m.not_running()) for m in self.members]
        if all(why for _, why in down):
            return "; ".join(f"{name}: {why}" for name, why in down)
        return None

    def names(self) -> dict[str, dict[str, str]]:
        return self.members[0].names()

    def serving(self) -> Dblb:
        """The member clients reach through the address (the first if both hold it);
        while nobody holds it, the first that runs."""
        held = self.holders() or [m for m in self.members if not m.not_running()]
        if not held:
            raise LabError(f"no member of the dblb pair runs: {self.not_running()}")
        return held[0]

    def backends(self, timeout: float = 3.0) -> list[Backend]:
        """The holder's view (the member clients reach through the address)."""
        return self.serving().backends(timeout)

    def connect(self, write: bool = True, timeout: float = 5.0) -> pymysql.Connection:
        """A connection as the OX user through the floating address."""
        return connect_as_ox(self.vip, WRITE_PORT if write else READ_PORT, timeout=timeout)


DatabaseFront = Dblb | DblbPair  # what clients connect through: one HAProxy, or the pair
