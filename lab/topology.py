"""Which roles a lab has and how they are named: the guide's hostnames. Validation of a
whole lab request happens here, before Docker is touched, and reports every problem at once."""

from __future__ import annotations

from dataclasses import dataclass

from lab.errors import ConfigError, lookup
from lab.failover import DEFAULT_PROFILE, PROFILES
from lab.flavours import DEFAULT_FLAVOUR, FLAVOURS
from lab.galera_config import DEFAULT_SST_METHOD, SST_METHODS


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    galera_members: tuple[str, ...] = ()
    gtid_pair: tuple[str, str] | None = None  # (master, slave)
    dblb: bool = False
    groupware: bool = False  # oxgw01, oxgw02, the NFS filestore and the web front end


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
    """What a user asked for (CLI flags or pytest options), unvalidated."""

    topology: str = DEFAULT_TOPOLOGY
    flavour: str = DEFAULT_FLAVOUR
    profile: str = DEFAULT_PROFILE
    sst_method: str = DEFAULT_SST_METHOD

    def problems(self) -> list[str]:
        problems = []
        for kind, value, known in (
            ("topology", self.topology, TOPOLOGIES),
            ("flavour", self.flavour, FLAVOURS),
            ("failover profile", self.profile, PROFILES),
            ("SST method", self.sst_method, dict.fromkeys(SST_METHODS)),
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
        return problems

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))
