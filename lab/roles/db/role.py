"""The databases as a role of a lab: the Galera cluster or the GTID master/slave pair,
started by the guide's steps ("Galera database setup", "Master/Slave database setup")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from docker.models.containers import Container

from lab.infra.docker_env import LABEL_NODE
from lab.infra.network import mysql_host_mask
from lab.infra.nodes import Node
from lab.operator.placement import database_files, seed_blockers
from lab.plan.flavours import get_flavour
from lab.plan.topology import TOPOLOGIES
from lab.roles.db.galera import GaleraCluster, GaleraNode, GaleraPlan
from lab.roles.db.galera_config import GaleraSettings
from lab.roles.db.gtid import GtidNode, GtidPair, GtidPlan
from lab.roles.db.node import NotReady
from lab.roles.images import db_image
from lab.roles.role import labelled

if TYPE_CHECKING:
    from lab.roles.system import Lab


class Databases:
    name = "db"

    def launch(self, lab: Lab) -> object:
        """The topology's Galera members (seeded, or joined by SST as the guide says) or
        its GTID pair, set up step by step; `lab.galera` / `lab.gtid` are set."""
        assert lab.run and lab.network
        plan = lab.plan
        topology, flavour = plan.topology, plan.flavour
        ox_user_host = mysql_host_mask(lab.network)
        files = database_files(plan)
        if topology.galera_members:
            galera_plan = GaleraPlan(
                settings=GaleraSettings(
                    flavour=flavour,
                    profile=plan.profile,
                    members=topology.galera_members,
                    sst_method=plan.sst_method,
                    provider_path=lab.options.provider_path,
                ),
                image=db_image(flavour).tag,
                create_sst_user=lab.options.create_sst_user,
                files=files,
                join=join_mode(lab),
                storage=plan.storage,
            )
            lab.galera = GaleraCluster.start(
                lab.run, lab.network, ox_user_host, galera_plan, lab.progress
            )
        if topology.gtid_pair:
            master, slave = topology.gtid_pair
            gtid_plan = GtidPlan(
                flavour,
                db_image(flavour).tag,
                master,
                slave,
                lab.options.max_lag_s,
                files,
                storage=plan.storage,
            )
            lab.gtid = GtidPair.start(lab.run, lab.network, ox_user_host, gtid_plan, lab.progress)
        return lab.galera or lab.gtid

    def attach(self, lab: Lab, containers: Sequence[Container]) -> None:
        galera = [GaleraNode(c) for c in labelled(containers, "galera")]
        lab.galera = GaleraCluster(galera) if galera else None
        gtid = {c.labels.get(LABEL_NODE): c for c in labelled(containers, "gtid")}
        topology = TOPOLOGIES.get(lab.request.topology)
        if gtid and topology and topology.gtid_pair:
            dialect = get_flavour(lab.request.flavour).dialect
            master, slave = (GtidNode(gtid[n], dialect) for n in topology.gtid_pair)
            lab.gtid = GtidPair(master, slave)

    def problems(self, lab: Lab) -> list[str]:
        """Every Galera node passes the guide's verification table; the GTID slave's
        replication threads both run."""
        problems: list[str] = []
        if lab.galera:
            size = len(lab.galera.nodes)
            for node in lab.galera.nodes:
                try:
                    problems += [f"{node.name}: {p}" for p in node.verification_failures(size)]
                except NotReady as exc:
                    problems.append(str(exc))
        if lab.gtid:
            try:
                status = lab.gtid.slave.replica_status() or {}
            except NotReady as exc:
                status = {"error": str(exc)}
            running = {
                k: v for k, v in status.items() if k.endswith(("_IO_Running", "_SQL_Running"))
            }
            if list(running.values()) != ["Yes", "Yes"]:
                problems.append(f"{lab.gtid.slave.name}: replication threads {running or status}")
        return problems

    def nodes(self, lab: Lab) -> list[Node]:
        return [*(lab.galera.nodes if lab.galera else []), *(lab.gtid.nodes if lab.gtid else [])]


def join_mode(lab: Lab) -> str:
    """The plan's join mode, unless the operator's files rule the seeded state out:
    then the guide's path, saying why."""
    blockers = seed_blockers(lab.plan) if lab.plan.join == "seeded" else []
    for blocker in blockers:
        lab.progress(f"{blocker}: the nodes join by SST (the guide's path), not seeded")
    return "sst" if blockers else lab.plan.join


DATABASES = Databases()
