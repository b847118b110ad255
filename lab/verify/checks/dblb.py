"""The guide's HAProxy in front of Galera, read three ways: its haproxy.cfg from the
host (one writer with the rest as backup, reads round robin, health checks against
clustercheck rather than a TCP connect, the timeouts), HAProxy's own view from its
stats page, and what a client sees through each listener (which node answers)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import requests

from lab.infra.hosts.remote import Host, HostError
from lab.operator.lint import BLOCKS_UP, ERROR, Finding, lint
from lab.operator.parsers import Section, haproxy_sections, servers_for_port
from lab.operator.project import OperatorFile, Project
from lab.plan.flavours import DEFAULT_FLAVOUR, get_flavour
from lab.plan.topology import TOPOLOGIES
from lab.roles.db.node import connect_as_ox
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT
from lab.roles.health import servers_not_up
from lab.verify.result import Result, guarded, passed
from lab.verify.target import Target

HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
CONFIGDB = "/opt/open-xchange/etc/configdb.properties"
CONNECTS = 6  # per listener: enough for round robin to show every node


def haproxy(target: Target) -> list[Result]:
    results = []
    for host in target.role("dblb"):
        results.append(guarded("dblb", host.name, "listeners", _listeners, target, host))
        results.append(guarded("dblb", host.name, "stats", _stats, host))
        for port, name in ((WRITE_PORT, "writes"), (READ_PORT, "reads")):
            results.append(
                guarded(
                    "dblb",
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
    text = host.read_text(path)
    if text is None:
        raise HostError(f"{host}: no {path}")
    return haproxy_sections(text)


def _setting(section: Section, *words: str) -> str:
    found = section.first(*words)
    return " ".join(found[1][len(words) :]) if found else ""


def judge_listeners(sections: list[Section], galera_nodes: int) -> tuple[list[str], str]:
    """What the guide's two listeners need beyond `lab lint`'s HAProxy rules (which
    judge the writer count, the health check and the timeouts): both present, every
    node behind them, reads round robin without backups. (problems, evidence)"""
    problems, evidence = [], []
    write = servers_for_port(sections, str(WRITE_PORT))
    read = servers_for_port(sections, str(READ_PORT))
    defaults = next((s for s in sections if s.kind == "defaults"), Section("defaults", "", 0))
    for port, section in ((WRITE_PORT, write), (READ_PORT, read)):
        if section is None:
            problems.append(f"no listener on :{port}")
    if write is not None:
        servers = write.get("server")
        active = [w[1] for _, w in servers if "backup" not in w]
        backups = [w[1] for _, w in servers if "backup" in w]
        if not active:
            problems.append("the write listener has only backup servers")
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
    timeouts = ", ".join(f"{w[1]} {w[2]}" for _, w in defaults.get("timeout") if len(w) > 2)
    evidence.append(f"timeouts: {timeouts or 'HAProxy defaults'}")
    return problems, "; ".join(evidence)


def lint_on_host(cfg: str, text: str, configdb: OperatorFile | None) -> list[Finding]:
    """`lab lint`'s HAProxy rules on the configuration the host runs (with a groupware
    node's configdb.properties, whose pool settings HA001 compares the timeouts with).
    The rules about running the file in the lab (BLOCKS_UP: its host names mapped to lab
    nodes) do not apply to a host that runs it."""
    files = (
        OperatorFile("dblb", "haproxy_cfg", Path(cfg), text),
        *([configdb] if configdb else []),
    )
    project = Project(Path(cfg), None, (), None, None, None, (), files)
    found = lint(project, TOPOLOGIES["guide-galera"], (get_flavour(DEFAULT_FLAVOUR),))
    return [f for f in found if f.rule.startswith("HA") and f.rule not in BLOCKS_UP]


def configdb_of(target: Target) -> OperatorFile | None:
    """A groupware node's configdb.properties, as lint reads the operator's."""
    for node in target.role("groupware"):
        text = node.read_text(CONFIGDB)
        if text is not None:
            return OperatorFile(
                "groupware", "configdb_properties", Path(f"{node.name}:{CONFIGDB}"), text
            )
    return None


def _listeners(target: Target, host: Host) -> Result:
    path = str(host.variables.get("oxlab_haproxy_cfg", HAPROXY_CFG))
    text = host.read_text(path)
    if text is None:
        raise HostError(f"{host}: no {path}")
    problems, evidence = judge_listeners(haproxy_sections(text), len(target.role("galera")))
    findings = lint_on_host(f"{host.name}:{path}", text, configdb_of(target))
    problems += [f"{f.rule} line {f.line}: {f.what}" for f in findings if f.severity == ERROR]
    notes = [f"{f.rule}: {f.what}" for f in findings if f.severity != ERROR]
    return passed("dblb", host.name, "listeners", problems, "; ".join([evidence, *notes]))


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
            "dblb",
            host.name,
            "stats",
            False,
            "no stats page (stats uri) to read the live state from",
        )
    resp = requests.get(url, timeout=5)
    resp.raise_for_status()
    servers = stats_rows(resp.text)
    down = servers_not_up((r["pxname"], r["svname"], r["status"]) for r in servers)
    evidence = f"{len(servers) - len(down)} of {len(servers)} servers UP ({url.split(';')[0]})"
    return passed(
        "dblb", host.name, "stats", [f"not UP: {', '.join(down)}"] if down else [], evidence
    )


def _through(target: Target, host: Host, port: int, name: str) -> Result:
    """Which node answers a client through the listener: the writes one node, the reads
    every node in turn (the connections OX's pool makes, with its credentials)."""
    seen = []
    creds = target.credentials
    for _ in range(CONNECTS):
        conn = connect_as_ox(host.address, port, login=(creds.db_user, creds.db_password))
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
    return passed("dblb", host.name, f"{name} :{port}", problems, evidence)
