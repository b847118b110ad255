"""Render haproxy.cfg for the `dblb` role the way OX recommends HAProxy in front of
Galera: a round-robin read listener and an active-passive write listener, both health
checked through clustercheck on port 9200, with timeouts that do not kill idle DB
connections (the guide: HAProxy's defaults would)."""

from __future__ import annotations

from collections.abc import Sequence

from lab.failover import CheckTiming, FailoverProfile

WRITE_PORT = 3306
READ_PORT = 3307
STATS_PORT = 8404
CLUSTERCHECK_PORT = 9200


def _server_defaults(timing: CheckTiming, extra: str) -> str:
    return (
        f"    default-server port {CLUSTERCHECK_PORT} inter {timing.inter_ms} "
        f"rise {timing.rise} fall {timing.fall} {extra}".rstrip()
    )


def render_haproxy_cfg(members: Sequence[str], profile: FailoverProfile) -> str:
    """The write listener is active-passive: the first member, then the others as
    `backup` in order, so HAProxy sends writes to one server only (without `allbackups`
    only the first usable backup is used). Sessions to a writer that goes down, or to a
    backup once the writer returns, are shut so writes never continue on two nodes.

    Both listeners check clustercheck's `/`. Its `/master` (one writer cluster-wide) is
    for balancers that cannot express `backup` (the guide's Keepalived/LVS option); for
    HAProxy it would only add the backup's rise time to every failover."""
    resolve = "resolvers docker init-addr last,libc,none"
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
    lines += [
        "",
        "listen stats",
        f"    bind :{STATS_PORT}",
        "    mode http",
        "    stats enable",
        "    stats uri /",
        "    stats refresh 5s",
        "",
        "listen galera-write",
        f"    bind :{WRITE_PORT}",
        "    option httpchk GET /",
        "    http-check expect status 200",
        _server_defaults(
            profile.write, "on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions"
        ),
    ]
    for i, member in enumerate(members):
        backup = "" if i == 0 else " backup"
        lines.append(f"    server {member} {member}:3306 check {resolve}{backup}")
    lines += [
        "",
        "listen galera-read",
        f"    bind :{READ_PORT}",
        "    balance roundrobin",
        "    option httpchk GET /",
        "    http-check expect status 200",
        _server_defaults(profile.read, "on-marked-down shutdown-sessions"),
    ]
    lines += [f"    server {m} {m}:3306 check {resolve}" for m in members]
    lines.append("")
    return "\n".join(lines)
