"""The guide's HAProxy in front of Galera, read three ways: its haproxy.cfg from the
host (one writer with the rest as backup, reads round robin, health checks against
clustercheck rather than a TCP connect, the timeouts), HAProxy's own view from its
stats page, and what a client sees through each listener (which node answers)."""

from __future__ import annotations

import csv
import io
import re

import pymysql
import requests

from lab.haproxy_config import READ_PORT, WRITE_PORT
from lab.hosts.remote import Host, HostError
from lab.operator.parsers import Section, haproxy_sections, servers_for_port
from lab.verify.result import Result, guarded, passed
from lab.verify.target import Target

HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
CONNECTS = 6  # per listener: enough for round robin to show every node


def haproxy(target: Target) -> list[Result]:
    results = []
    for host in target.role("dblb"):
        results.append(guarded("haproxy", host.name, "listeners", _listeners, target, host))
        results.append(guarded("haproxy", host.name, "stats", _stats, host))
        for port, name in ((WRITE_PORT, "writes"), (READ_PORT, "reads")):
            results.append(
                guarded(
                    "haproxy",
                    host.name,
                    f"{name} :{port}",
                    _through,
                    target,
                    host,
                    port,
                    name,
                )
            )
    return results


def config_sections(host: Host) -> list[Section]:
    """The host's haproxy.cfg (inventory variable oxlab_haproxy_cfg, else Debian's path)."""
    path = str(host.variables.get("oxlab_haproxy_cfg", HAPROXY_CFG))
    text = host.read_file(path)
    if text is None:
        raise HostError(f"{host}: no {path}")
    return haproxy_sections(text)


def _setting(section: Section, *words: str) -> str:
    found = section.first(*words)
    return " ".join(found[1][len(words) :]) if found else ""


def judge_listeners(sections: list[Section], galera_nodes: int) -> tuple[list[str], str]:
    """The guide's two listeners in a haproxy.cfg: (problems, evidence)."""
    problems, evidence = [], []
    write, read = (
        servers_for_port(sections, str(WRITE_PORT)),
        servers_for_port(sections, str(READ_PORT)),
    )
    defaults = next((s for s in sections if s.kind == "defaults"), Section("defaults", "", 0))
    for port, section in ((WRITE_PORT, write), (READ_PORT, read)):
        if section is None:
            problems.append(f"no listener on :{port}")
    if write is not None:
        servers = write.get("server")
        active = [w[1] for _, w in servers if "backup" not in w]
        backups = [w[1] for _, w in servers if "backup" in w]
        if len(active) != 1:
            problems.append(
                f"the write listener has {len(active)} active servers ({', '.join(active)}), not 1"
            )
        if len(servers) != galera_nodes:
            problems.append(
                f"the write listener has {len(servers)} servers for {galera_nodes} nodes"
            )
        evidence.append(f"writes: {', '.join(active)} + backup {', '.join(backups) or 'none'}")
    if read is not None:
        servers = read.get("server")
        balance = _setting(read, "balance") or _setting(defaults, "balance") or "roundrobin"
        if balance != "roundrobin":
            problems.append(f"the read listener balances {balance}, not roundrobin")
        if any("backup" in w for _, w in servers):
            problems.append("the read listener has backup servers")
        evidence.append(f"reads: {balance} over {len(servers)}")
    for section in filter(None, (write, read)):
        check = _setting(section, "option", "httpchk") or _setting(defaults, "option", "httpchk")
        if not check and not section.first("option", "httpchk"):
            problems.append(
                f"{section.name} checks by TCP connect, not clustercheck (option httpchk)"
            )
        check_port = re.search(r"\bport (\d+)", " ".join(" ".join(w) for _, w in section.lines))
        evidence.append(
            f"{section.name} checks "
            + (f"port {check_port.group(1)}" if check_port else "the server port")
        )
    timeouts = ", ".join(f"{w[1]} {w[2]}" for _, w in defaults.get("timeout") if len(w) > 2)
    evidence.append(f"timeouts: {timeouts or 'HAProxy defaults'}")
    return problems, "; ".join(evidence)


def _listeners(target: Target, host: Host) -> Result:
    problems, evidence = judge_listeners(config_sections(host), len(target.role("galera")))
    return passed("haproxy", host.name, "listeners", problems, evidence)


def stats_rows(text: str) -> list[dict[str, str]]:
    """HAProxy's CSV stats export, servers only."""
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return [r for r in rows if r.get("svname") not in ("FRONTEND", "BACKEND")]


def stats_url(sections: list[Section], address: str) -> str | None:
    """The stats page the configuration publishes (`stats uri` in a section with a bind)."""
    for section in sections:
        uri = section.first("stats", "uri")
        bind = section.first("bind")
        if uri and bind and len(bind[1]) > 1:
            port = bind[1][1].rsplit(":", 1)[-1]
            return f"http://{address}:{port}{uri[1][2] if len(uri[1]) > 2 else '/'};csv"
    return None


def _stats(host: Host) -> Result:
    """HAProxy's own view: every server UP (a healthy cluster), read from its stats page."""
    url = stats_url(config_sections(host), host.address)
    if url is None:
        return Result(
            "haproxy",
            host.name,
            "stats",
            False,
            "no stats page (stats uri) to read the live state from",
        )
    resp = requests.get(url, timeout=5)
    resp.raise_for_status()
    servers = stats_rows(resp.text)
    down = [f"{r['pxname']}/{r['svname']} {r['status']}" for r in servers if r["status"] != "UP"]
    evidence = f"{len(servers) - len(down)} of {len(servers)} servers UP ({url.split(';')[0]})"
    return passed(
        "haproxy", host.name, "stats", [f"not UP: {', '.join(down)}"] if down else [], evidence
    )


def _through(target: Target, host: Host, port: int, name: str) -> Result:
    """Which node answers a client through the listener: the writes one node, the reads
    every node in turn (the connections OX's pool makes, with its credentials)."""
    seen = []
    creds = target.credentials
    for _ in range(CONNECTS):
        conn = pymysql.connect(
            host=host.address,
            port=port,
            user=creds.db_user,
            password=creds.db_password,
            connect_timeout=5,
            read_timeout=5,
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@hostname")
                seen.append(str((cur.fetchone() or ("?",))[0]))
        finally:
            conn.close()
    nodes = sorted(set(seen))
    expected = 1 if name == "writes" else len(target.role("galera"))
    problems = []
    if name == "writes" and len(nodes) != 1:
        problems.append(
            f"writes reached {len(nodes)} nodes: two writers risk certification conflicts"
        )
    if name == "reads" and len(nodes) != expected:
        problems.append(f"reads reached {len(nodes)} of {expected} nodes")
    evidence = f"{CONNECTS} connects as {creds.db_user} answered by {', '.join(nodes)}"
    return passed("haproxy", host.name, f"{name} :{port}", problems, evidence)
