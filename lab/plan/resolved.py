"""One plan per lab: the request (flags, pytest options, oxlab.toml), the operator's
files and the flavour, resolved once before Docker is touched. Lab, compose, bench, chaos
and the pytest plugin read the plan's objects; nothing looks a name up again."""

from __future__ import annotations

from dataclasses import dataclass

from lab.operator.project import OperatorFile, Project
from lab.oxnode.config import ConfigDb, PoolSettings, parse_properties
from lab.plan.failover import FailoverProfile, get_profile
from lab.plan.flavours import Flavour, get_flavour
from lab.plan.topology import TOPOLOGIES, LabRequest, Topology
from lab.roles.dblb.keepalived_config import PAIR_NODES


@dataclass(frozen=True)
class Plan:
    request: LabRequest
    topology: Topology
    flavour: Flavour
    profile: FailoverProfile
    sst_method: str
    join: str
    dblb: str  # the load balancer option: single, keepalived or local
    project: Project | None
    storage: str  # the databases' fsync: disk or fast (lab/roles/db/storage.py)

    @classmethod
    def of(cls, request: LabRequest) -> Plan:
        return cls(
            request=request,
            topology=TOPOLOGIES[request.topology],
            flavour=get_flavour(request.flavour),
            profile=get_profile(request.profile),
            sst_method=request.sst_method,
            join=request.join,
            dblb=request.dblb,
            project=request.project,
            storage=request.storage,
        )

    @property
    def dblb_nodes(self) -> tuple[str, ...]:
        """The HAProxy containers: dblb, the keepalived pair, or none (the guide's GTID
        topology registers its databases directly; `local` runs HAProxy on the
        groupware nodes)."""
        if self.dblb == "keepalived":
            return PAIR_NODES
        if self.dblb == "single" and self.topology.dblb:
            return ("dblb",)
        return ()

    def file(self, role: str, key: str) -> OperatorFile | None:
        """The operator's file for a role's key, if oxlab.toml names one and this
        topology has the role (a smaller topology runs the roles it has)."""
        found = self.files(role, key)
        return found[0] if found else None

    def files(self, role: str, key: str | None = None) -> list[OperatorFile]:
        if not self.project or role not in self.topology.roles:
            return []
        return self.project.files_of(role, key)

    def pool_settings(self) -> PoolSettings:
        """OX's JDBC pool as the operator's configdb.properties sets it (OX's defaults
        without one): what the lab's OX-like clients and lint's rules assume."""
        f = self.project.file("groupware", "configdb_properties") if self.project else None
        return ConfigDb.from_properties(parse_properties(f.text)).pool if f else PoolSettings()

    def host_map(self) -> dict[str, str]:
        """Operator host name -> lab node, plus every lab node as itself."""
        found = {name: name for name in self.topology.node_names}
        if self.project:
            found.update(dict(self.project.hosts))
        return found

    def records(self) -> list[dict[str, str]]:
        """Which of the operator's files this lab runs on, by path and hash (reports)."""
        if not self.project:
            return []
        return [f.record() for f in self.project.files if f.role in self.topology.roles]

    def describe(self) -> str:
        source = f", files from {self.project.path}" if self.project else ""
        return (
            f"{self.topology.name} on {self.flavour.name}, failover profile "
            f"{self.profile.name}, SST {self.sst_method}, join {self.join}, "
            f"dblb {self.dblb}, storage {self.storage}{source}"
        )
