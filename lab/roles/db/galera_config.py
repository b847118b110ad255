"""Render the guide's per-node Galera files: wsrep.cnf (cluster-wide) and host.cnf
(node-local). ox.cnf (sizing) is static and lives in the image. Pure functions, so the
rendering is unit-tested without Docker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lab.plan.failover import FailoverProfile
from lab.plan.flavours import Flavour

OX_CONF_D = "/etc/mysql/ox.conf.d"
SST_METHODS = ("rsync", "mariabackup")
# rsync is the default: it needs no SST user and is the quickest on a lab's tiny datadir;
# mariabackup (what production uses, donor stays writable) is selectable and tested.
DEFAULT_SST_METHOD = "rsync"
# How a lab's nodes come by their data. "seeded": every node starts from the image's
# seeded cluster state (lab-seed-galera) with the lab's primary view (gvwstate.dat), so
# the three form their primary component together, at the seeded uuid:seqno, and none
# needs a state transfer. (A first node bootstrapped with --wsrep-new-cluster would not
# do: Galera 4 gives each configuration change a seqno, so a joiner with the seeded
# seqno is behind the group and gets an IST, one joiner at a time.) "sst": the guide's
# path, a fresh datadir on every node, the first bootstrapped and secured, the others
# joined one at a time by a full SST.
JOIN_MODES = ("seeded", "sst")
DEFAULT_JOIN = "seeded"
# The guide's SST user and password (section "Galera database setup").
SST_USER = "sstuser"
SST_PASSWORD = "OpIdjijwef0"
CLUSTER_NAME = "oxlab"
GCACHE_SIZE = "32M"
# what the lab renders per node (host.cnf); the same value on every node breaks the cluster
NODE_LOCAL = ("wsrep_node_name", "wsrep_node_address", "server_id", "wsrep_sst_receive_address")


def node_uuid(run_id: str, node_name: str) -> uuid.UUID:
    """A node's gcomm UUID in the lab's seeded view: fixed per run and node, so a compose
    file can carry it and a restarted node is the same member."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"oxlab:{run_id}/{node_name}")


def render_gvwstate(run_id: str, members: tuple[str, ...], node_name: str) -> str:
    """gvwstate.dat as Galera saves it ("save pc into disk"): this node's UUID and the
    primary view (type 3) of all members. pc.recovery restores it when they all meet."""
    uuids = [node_uuid(run_id, m) for m in members]
    return "\n".join(
        [
            f"my_uuid: {node_uuid(run_id, node_name)}",
            "#vwbeg",
            f"view_id: 3 {uuids[0]} 1",
            "bootstrap: 0",
            *(f"member: {u} 0" for u in uuids),
            "#vwend",
        ]
    )


@dataclass(frozen=True)
class GaleraSettings:
    """Everything that shapes a node's wsrep.cnf; the same for every node of a cluster."""

    flavour: Flavour
    profile: FailoverProfile
    members: tuple[str, ...]
    sst_method: str = DEFAULT_SST_METHOD
    provider_path: str | None = None  # None: the flavour's; tests set a wrong one on purpose
    causal_reads: bool = True  # wsrep_sync_wait=1: OX can then run without replication monitor


def render_wsrep_cnf(s: GaleraSettings) -> str:
    provider_options = "; ".join(
        [f"gcache.size={GCACHE_SIZE}"] + [f"{k}={v}" for k, v in s.profile.evs_options]
    )
    return "\n".join(
        [
            f"# wsrep.cnf: cluster-wide Galera settings (failover profile {s.profile.name!r})",
            "[mysqld]",
            "wsrep_on = ON",
            f"wsrep_provider = {s.provider_path or s.flavour.galera_provider}",
            f'wsrep_provider_options = "{provider_options}"',
            f"wsrep_cluster_name = {CLUSTER_NAME}",
            f"wsrep_cluster_address = gcomm://{','.join(s.members)}",
            f"wsrep_sst_method = {s.sst_method}",
            f"wsrep_sst_auth = {SST_USER}:{SST_PASSWORD}",
            "wsrep_slave_threads = 2",
            f"wsrep_sync_wait = {1 if s.causal_reads else 0}",
            "# Galera requires these three",
            "binlog_format = ROW",
            "default_storage_engine = InnoDB",
            "innodb_autoinc_lock_mode = 2",
            "",
        ]
    )


def render_host_cnf(node_name: str, server_id: int) -> str:
    return "\n".join(
        [
            "# host.cnf: node-local settings",
            "[mysqld]",
            f"wsrep_node_name = {node_name}",
            f"wsrep_node_address = {node_name}",
            f"server_id = {server_id}",
            "",
        ]
    )
