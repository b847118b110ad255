"""Which roles a lab has and how they are named: the guide's hostnames. Validation of a
whole lab request happens here, before Docker is touched, and reports every problem at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.infra.errors import ConfigError, lookup
from lab.plan.failover import DEFAULT_PROFILE, PROFILES
from lab.plan.flavours import DEFAULT_FLAVOUR, FLAVOURS
from lab.roles.db.galera_config import DEFAULT_JOIN, DEFAULT_SST_METHOD, JOIN_MODES, SST_METHODS
from lab.roles.db.storage import DEFAULT_STORAGE, STORAGE_MODES

if TYPE_CHECKING:
    from lab.operator.project import Project
    from lab.plan.resolved import Plan


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    galera_members: tuple[str, ...] = ()
    gtid_pair: tuple[str, str] | None = None  # (master, slave)
    dblb: bool = False
    groupware: bool = False  # oxgw01, oxgw02, the NFS filestore and the web front end

    @property
    def database_nodes(self) -> tuple[str, ...]:
        return self.galera_members + (self.gtid_pair or ())

    @property
    def node_names(self) -> tuple[str, ...]:
        """Every container's guide hostname: what an operator's [hosts] may map to."""
        return (
            *self.database_nodes,
            *(("dblb",) if self.dblb else ()),
            *(GROUPWARE_NODES if self.groupware else ()),
        )

    @property
    def roles(self) -> tuple[str, ...]:
        """The oxlab.toml role tables this topology has a place for."""
        return (
            "db",
            *(("dblb",) if self.dblb else ()),
            "clustercheck" if self.galera_members else "replcheck",
            *(("web", "groupware", "filestore") if self.groupware else ()),
        )

    @property
    def family(self) -> str:
        """galera or gtid: an operator's files describe one kind of database cluster."""
        return "galera" if self.galera_members else "gtid"


GROUPWARE_NODES = ("oxgw01", "oxgw02", "filestore", "web")

# The guide's "Loadbalancer options" in front of the databases (`--dblb`)
DBLB_MODES = {
    "single": "one HAProxy (dblb); the guide topology registers master and slave directly",
    "keepalived": "two HAProxies (dblb1, dblb2) with keepalived floating one address (VRRP)",
    "local": "HAProxy on each groupware node; OX connects to 127.0.0.1",
}
DEFAULT_DBLB = "single"


TOPOLOGIES: dict[str, Topology] = {
    t.name: t
    for t in (
        Topology(
            name="galera",
            description="3-node Galera cluster behind HAProxy (the guide's Galera variant)",
            galera_members=("galera1", "galera2", "galera3"),
            dblb=True,
        ),
        Topology(
            name="gtid",
            description="GTID master/slave behind HAProxy (the guide's Master/Slave setup)",
            gtid_pair=("dbmaster", "dbslave"),
            dblb=True,
        ),
        Topology(
            name="guide",
            description="the guide's five machines: web, oxgw01, oxgw02, dbmaster, dbslave "
            "(+ filestore)",
            gtid_pair=("dbmaster", "dbslave"),
            groupware=True,
        ),
        Topology(
            name="guide-galera",
            description="the guide with Galera: web, oxgw01, oxgw02, galera1-3, dblb, filestore",
            galera_members=("galera1", "galera2", "galera3"),
            dblb=True,
            groupware=True,
        ),
    )
}
DEFAULT_TOPOLOGY = "galera"


@dataclass(frozen=True)
class LabRequest:
    """What a user asked for (CLI flags, pytest options, oxlab.toml), unvalidated; the
    plan (lab/plan/resolved.py) is what it resolves to, once."""

    topology: str = DEFAULT_TOPOLOGY
    flavour: str = DEFAULT_FLAVOUR
    profile: str = DEFAULT_PROFILE
    sst_method: str = DEFAULT_SST_METHOD
    join: str = DEFAULT_JOIN  # Galera: "seeded" (no state transfer) or "sst" (the guide's)
    dblb: str = DEFAULT_DBLB  # the load balancer option in front of the databases
    project: Project | None = None  # the operator's oxlab.toml and files
    storage: str = DEFAULT_STORAGE  # the databases' fsync: disk or fast (roles/db/storage.py)

    @classmethod
    def of(
        cls,
        project: Project | None = None,
        topology: str | None = None,
        flavour: str | None = None,
        profile: str | None = None,
        sst_method: str | None = None,
        join: str | None = None,
        dblb: str | None = None,
        storage: str | None = None,
    ) -> LabRequest:
        """A flag wins over oxlab.toml, which wins over the lab's default."""
        p = project
        return cls(
            topology=topology or (p and p.topology) or DEFAULT_TOPOLOGY,
            flavour=flavour or (p and p.flavours and p.flavours[0]) or DEFAULT_FLAVOUR,
            profile=profile or (p and p.profile) or DEFAULT_PROFILE,
            sst_method=sst_method or (p and p.sst_method) or DEFAULT_SST_METHOD,
            join=join or (p and p.join) or DEFAULT_JOIN,
            dblb=dblb or (p and p.dblb) or DEFAULT_DBLB,
            project=project,
            storage=storage or DEFAULT_STORAGE,  # the lab's own choice, never the operator's
        )

    def problems(self) -> list[str]:
        problems = []
        for kind, value, known in (
            ("topology", self.topology, TOPOLOGIES),
            ("flavour", self.flavour, FLAVOURS),
            ("failover profile", self.profile, PROFILES),
            ("SST method", self.sst_method, dict.fromkeys(SST_METHODS)),
            ("join mode", self.join, dict.fromkeys(JOIN_MODES)),
            ("load balancer option (--dblb)", self.dblb, DBLB_MODES),
            ("storage (--storage)", self.storage, STORAGE_MODES),
        ):
            try:
                lookup(known, value, kind)
            except ConfigError as exc:
                problems.append(str(exc))
        if not problems:
            topology, flavour = TOPOLOGIES[self.topology], FLAVOURS[self.flavour]
            if topology.name not in flavour.topologies:
                problems.append(
                    f"flavour {flavour.name} cannot run topology {topology.name} "
                    f"(it runs: {', '.join(flavour.topologies)})"
                )
            if self.dblb == "local" and not topology.groupware:
                problems.append(
                    f"--dblb local puts HAProxy on the groupware nodes; topology "
                    f"{topology.name} has none (use guide or guide-galera)"
                )
        if not problems and self.project:
            problems += project_problems(self.project, TOPOLOGIES[self.topology])
        return problems

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def plan(self) -> Plan:
        """Validate and resolve once: everything after this reads the plan's objects."""
        from lab.plan.resolved import Plan

        self.validate()
        return Plan.of(self)


def project_problems(project: Project, topology: Topology) -> list[str]:
    """What in oxlab.toml this topology cannot honour: a file written for the other
    database family; on the operator's own topology also a role it has no place for or
    a host mapped to a node it does not have. (A smaller topology of the same family, as
    a test fixture or chaos scenario uses, runs the roles it has and ignores the rest.)"""
    problems = []
    for name in project.flavours:
        if name not in FLAVOURS:
            problems.append(
                f"{project.where('flavours', 'lab')}: unknown flavour {name!r}; "
                f"known: {', '.join(sorted(FLAVOURS))}"
            )
    if project.topology and TOPOLOGIES.get(project.topology, topology).family != topology.family:
        problems.append(
            f"{project.where('topology', 'lab')}: the operator's files describe a "
            f"{project.topology} cluster; topology {topology.name} is a {topology.family} one"
        )
    if project.topology not in (None, topology.name):
        return problems
    for f in project.files:
        if f.role not in topology.roles:
            problems.append(
                f"{project.where(f.role)}: topology {topology.name} has no {f.role} role "
                f"(it has: {', '.join(topology.roles)})"
            )
    for host, node in project.hosts:
        if node not in topology.node_names:
            problems.append(
                f"{project.where(host, 'hosts')}: {host} maps to {node!r}, which topology "
                f"{topology.name} does not have (it has: {', '.join(topology.node_names)})"
            )
    return problems
