"""The groupware nodes as a role of a lab: oxgw01 and oxgw02 set up by the guide's
admin sequence, with the NFS filestore they share (the guide registers it from a
groupware node: `registerfilestore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from docker.models.containers import Container

from lab.infra.docker_env import LABEL_NODE
from lab.infra.nodes import Node
from lab.operator import parsers
from lab.operator.placement import groupware_files
from lab.roles.dblb.front import Dblb
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT, haproxy_config_for
from lab.roles.filestore.nfs import FilestoreNode
from lab.roles.groupware.cluster import OX_NODES, DbHosts, OxCluster, OxNode
from lab.roles.role import labelled

if TYPE_CHECKING:
    from lab.roles.system import Lab


class Groupware:
    name = "groupware"

    def launch(
        self, lab: Lab, clustering: bool = True, replication_monitor: bool = True
    ) -> OxCluster:
        """oxgw01/oxgw02 on the lab's network, set up by the guide's sequence, with the
        databases as the guide registers them (GTID: master and slave; Galera: HAProxy's
        write and read listeners) and the NFS filestore."""
        return self.set_up(lab, self.containers(lab, clustering), replication_monitor)

    def containers(self, lab: Lab, clustering: bool = True) -> OxCluster:
        """The nodes' and the filestore's containers (no database needed yet)."""
        assert lab.client and lab.run and lab.network
        exports = lab.plan.file("filestore", "exports")
        local = lab.plan.dblb == "local"
        return OxCluster.launch(
            lab.client,
            lab.run,
            lab.network,
            clustering=clustering,
            exports=parsers.exports(exports.text) if exports else (),
            host_map=lab.plan.host_map(),
            haproxy_cfg=haproxy_config_for(lab.plan) if local else None,
        )

    def set_up(self, lab: Lab, cluster: OxCluster, replication_monitor: bool = True) -> OxCluster:
        """The guide's admin sequence on launched nodes, once the databases serve."""

        def listeners(host: str) -> DbHosts:
            return DbHosts(f"{host}:{WRITE_PORT}", f"{host}:{READ_PORT}")

        if lab.plan.dblb == "local":  # the guide: "OX is then connecting to the local HAproxy"
            hosts = listeners("127.0.0.1")
            # each node's HAProxy started with its container, before the databases
            # served: its writer is UP only after `rise` checks, and the guide's first
            # admin command connects through it
            for node in cluster.nodes:
                lab.wait_writable(Dblb(node.container))
        elif lab.plan.dblb == "keepalived" and lab.dblb:  # the pair's floating address
            hosts = listeners(lab.dblb.ip)
        elif lab.gtid:  # the guide registers master and slave themselves
            hosts = DbHosts(lab.gtid.master.name, lab.gtid.slave.name)
        else:
            hosts = listeners("dblb")
        cluster.guide_setup(hosts, replication_monitor, groupware_files(lab.plan), lab.progress)
        lab.ox = cluster
        if lab.gtid:
            lab.gtid.wait_caught_up()  # the admin commands' writes reach the slave too
        return cluster

    def attach(self, lab: Lab, containers: Sequence[Container]) -> None:
        routes = dict(OX_NODES)
        nodes = [
            OxNode(c, routes.get(c.labels.get(LABEL_NODE, ""), ""))
            for c in labelled(containers, "groupware")
        ]
        filestore = [FilestoreNode(c) for c in labelled(containers, "filestore")]
        if nodes:
            lab.ox = OxCluster(nodes, filestore[0] if filestore else None)

    def problems(self, lab: Lab) -> list[str]:
        """None of its own: a groupware node's health is the front end's routing, which
        the tests and chaos scenarios wait for (Lab.balance_front_end)."""
        return []

    def nodes(self, lab: Lab) -> list[Node]:
        if not lab.ox:
            return []
        return [*lab.ox.nodes, *([lab.ox.filestore] if lab.ox.filestore else [])]


GROUPWARE = Groupware()
