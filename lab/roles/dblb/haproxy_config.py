"""Render haproxy.cfg for the `dblb` role the way OX recommends HAProxy in front of
Galera: a round-robin read listener and an active-passive write listener, both health
checked through clustercheck on port 9200, with timeouts that do not kill idle DB
connections (the guide: HAProxy's defaults would)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lab.plan.failover import CheckTiming, FailoverProfile

if TYPE_CHECKING:
    from lab.plan.resolved import Plan

WRITE_PORT = 3306
READ_PORT = 3307
STATS_PORT = 8404
WRITE_LISTENER = "db-write"
READ_LISTENER = "db-read"
CLUSTERCHECK_PORT = 9200


def _server_defaults(timing: CheckTiming, extra: str) -> str:
    return (
        f"    default-server port {CLUSTERCHECK_PORT} inter {timing.inter_ms} "
        f"rise {timing.rise} fall {timing.fall} {extra}".rstrip()
    )


RESOLVE = "resolvers docker init-addr last,libc,none"
WRITE_EXTRA = "on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions"
READ_EXTRA = "on-marked-down shutdown-sessions"


def _preamble(profile: FailoverProfile) -> list[str]:
    lines = [
        f"# haproxy.cfg for dblb (failover profile {profile.name!r}: {profile.description})",
        "global",
        "    maxconn 2000",
        "    log stdout format raw local0 info",
        "    stats socket /run/haproxy/admin.sock mode 600 level admin",
        "",
        "resolvers docker",
        "    nameserver dns 127.0.0.11:53",
        "    hold valid 1s",
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    retries 3",
        "    option redispatch",
        f"    timeout connect {profile.timeout_connect}",
        "    timeout client 20m",
        "    timeout server 20m",
    ]
    if profile.timeout_check:
        lines.append(f"    timeout check {profile.timeout_check}")
    return [
        *lines,
        "",
        "listen stats",
        f"    bind :{STATS_PORT}",
        "    mode http",
        "    stats enable",
        "    stats uri /",
        "    stats refresh 5s",
    ]


def _listener(
    name: str,
    port: int,
    check_path: str,
    timing: CheckTiming,
    extra: str,
    servers: Sequence[tuple[str, bool]],
    balance: str | None = None,
) -> list[str]:
    """One listener; `servers` are (name, is_backup) in order of preference."""
    lines = ["", f"listen {name}", f"    bind :{port}"]
    if balance:
        lines.append(f"    balance {balance}")
    lines += [
        f"    option httpchk GET {check_path}",
        "    http-check expect status 200",
        _server_defaults(timing, extra),
    ]
    lines += [
        f"    server {s} {s}:3306 check {RESOLVE}{' backup' if backup else ''}"
        for s, backup in servers
    ]
    return lines


def render_haproxy_cfg(members: Sequence[str], profile: FailoverProfile) -> str:
    """Galera: the write listener is active-passive: the first member, then the others
    as `backup` in order, so HAProxy sends writes to one server only (without
    `allbackups` only the first usable backup is used). Sessions to a writer that goes
    down, or to a backup once the writer returns, are shut so writes never continue on
    two nodes. The read listener round-robins over every member.

    Both listeners check clustercheck's `/`. Its `/master` (one writer cluster-wide) is
    for balancers that cannot express `backup` (the guide's Keepalived/LVS option); for
    HAProxy it would only add the backup's rise time to every failover."""
    writers = [(m, i > 0) for i, m in enumerate(members)]
    readers = [(m, False) for m in members]
    return "\n".join(
        [
            *_preamble(profile),
            *_listener(WRITE_LISTENER, WRITE_PORT, "/", profile.write, WRITE_EXTRA, writers),
            *_listener(
                READ_LISTENER,
                READ_PORT,
                "/",
                profile.read,
                READ_EXTRA,
                readers,
                balance="roundrobin",
            ),
            "",
        ]
    )


def render_local_haproxy_cfg(members: Sequence[str], profile: FailoverProfile) -> str:
    """Galera behind one HAProxy per groupware node (`--dblb local`): the same read
    listener, and a write listener that lets the cluster choose the writer.

    Two independent HAProxies must never write to two Galera nodes at once, and their own
    checks disagree for a while whenever a node fails or returns (each checks on its own
    clock). So neither chooses: every server is checked on clustercheck's `/master`,
    which answers 200 on one node only, the healthy member of the primary component whose
    name sorts first, and no server is a `backup`. Both instances then follow one
    decision. When that decision moves (the writer dies, or galera1 returns), the old
    writer fails `/master` at once for everyone, and an instance adopts the new one only
    after `rise` checks: with rise >= fall + 2 and `timeout check` below `inter`, every
    instance has marked the old writer down (fall checks, closing its sessions) before
    any instance marks the new one up. The price: failover waits rise checks, not fall."""
    timing = replace(profile.write, rise=max(profile.write.rise, profile.write.fall + 2))
    return "\n".join(
        [
            *_preamble(profile),
            *_listener(
                WRITE_LISTENER,
                WRITE_PORT,
                "/master",
                timing,
                WRITE_EXTRA,
                [(m, False) for m in members],
            ),
            *_listener(
                READ_LISTENER,
                READ_PORT,
                "/",
                profile.read,
                READ_EXTRA,
                [(m, False) for m in members],
                balance="roundrobin",
            ),
            "",
        ]
    )


def render_gtid_haproxy_cfg(master: str, slave: str | None, profile: FailoverProfile) -> str:
    """GTID master/slave: writes to the master only (replcheck's /master: answering,
    not a replica, read_only OFF); reads to the slave while replcheck's `/` says it can
    serve (threads running, or retrying a master that is gone, and lagging no more than
    the threshold), otherwise to the master (`backup`).
    slave None: a promoted master alone, until a new slave is set up."""
    readers = [(slave, False), (master, True)] if slave else [(master, False)]
    return "\n".join(
        [
            *_preamble(profile),
            *_listener(
                WRITE_LISTENER, WRITE_PORT, "/master", profile.write, WRITE_EXTRA, [(master, False)]
            ),
            *_listener(
                READ_LISTENER,
                READ_PORT,
                "/",
                profile.read,
                READ_EXTRA,
                readers,
            ),
            "",
        ]
    )


def haproxy_config_for(plan: Plan) -> str:
    """The lab's haproxy.cfg for the plan's topology, failover profile and load balancer
    option (`local`: one HAProxy per groupware node, the writer chosen by the cluster)."""
    if plan.topology.gtid_pair:
        return render_gtid_haproxy_cfg(*plan.topology.gtid_pair, plan.profile)
    if plan.dblb == "local":
        return render_local_haproxy_cfg(plan.topology.galera_members, plan.profile)
    return render_haproxy_cfg(plan.topology.galera_members, plan.profile)
