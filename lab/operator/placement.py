"""Where the operator's files go in the lab's containers, and what the lab must still
add to orchestrate (its stats listener, certificates at the paths their site names). An
operator file that overrides something the lab renders to form the cluster is said in
one line; one that would keep the cluster from forming stops the lab before Docker."""

from __future__ import annotations

import json
import re

from lab.infra.errors import ConfigError
from lab.infra.nodes import Placement
from lab.operator import parsers
from lab.operator.lint import blocking_findings
from lab.operator.project import OperatorFile
from lab.plan.resolved import Plan
from lab.roles.db.galera_config import OX_CONF_D, GaleraSettings, render_wsrep_cnf
from lab.roles.db.gtid_config import render_gtid_cnf
from lab.roles.dblb.front import NAMES_FILE, HaproxySetup, PairMember
from lab.roles.dblb.haproxy_config import (
    READ_LISTENER,
    READ_PORT,
    STATS_PORT,
    WRITE_LISTENER,
    WRITE_PORT,
)
from lab.roles.dblb.keepalived_config import (
    adapt_keepalived_conf,
    pair_settings,
    render_keepalived_conf,
)
from lab.roles.web.front_end import CERT_FILE, KEY_FILE, WebFiles

OX_ETC = "/opt/open-xchange/etc"

LAB_STATS_CFG = "/etc/haproxy/oxlab-stats.cfg"
CLUSTERCHECK_SETTINGS = "/etc/sysconfig/clustercheck"
REPLCHECK_SETTINGS = "/etc/sysconfig/replcheck"
# the lab's own stats listener, for an operator haproxy.cfg without one on STATS_PORT:
# HAProxy reads both files (-f twice), so theirs stays byte for byte as they wrote it
LAB_STATS = f"""# added by the lab: HAProxy's view of its servers, read by `lab status`
listen oxlab-stats
    mode http
    bind :{STATS_PORT}
    stats enable
    stats uri /
    timeout client 30s
    timeout server 30s
    timeout connect 5s
"""
# cluster-wide settings the lab renders; theirs win (files are read after the lab's)
CLUSTER_WIDE = (
    "wsrep_cluster_address",
    "wsrep_cluster_name",
    "wsrep_provider",
    "wsrep_sst_method",
    "wsrep_sst_auth",
    "wsrep_provider_options",
)


def cnf_target(index: int, f: OperatorFile) -> str:
    """Extra .cnf files sort after the lab's own in ox.conf.d (!includedir reads in
    name order, later files win); the server reads *.cnf only."""
    name = f.name if f.name.endswith(".cnf") else f"{f.name}.cnf"
    return f"{OX_CONF_D}/zz-operator-{index:02d}-{name}"


def database_files(plan: Plan) -> tuple[Placement, ...]:
    """The operator's database files for every database node of the plan."""
    placed = [
        Placement(f"{OX_CONF_D}/ox.cnf", f.text.encode(), str(f.path))
        for f in plan.files("db", "ox_cnf")
    ]
    placed += [
        Placement(cnf_target(i, f), f.text.encode(), str(f.path))
        for i, f in enumerate(plan.files("db", "cnf"), 1)
    ]
    for role, target in (
        ("clustercheck", CLUSTERCHECK_SETTINGS),
        ("replcheck", REPLCHECK_SETTINGS),
    ):
        placed += [Placement(target, f.text.encode(), str(f.path)) for f in plan.files(role)]
    return tuple(placed)


def haproxy_setup(plan: Plan, lab_config: str) -> HaproxySetup:
    """The operator's haproxy.cfg as it is, plus the lab's stats listener if theirs has
    none on the stats port; otherwise the lab's rendering."""
    f = plan.file("dblb", "haproxy_cfg")
    if f is None:
        return HaproxySetup(lab_config)
    names = Placement(NAMES_FILE, json.dumps(haproxy_names(plan, f.text)).encode(), "lab")
    if _binds(parsers.haproxy_sections(f.text), str(STATS_PORT)):
        return HaproxySetup(f.text, (names,))
    return HaproxySetup(
        f.text,
        (names, Placement(LAB_STATS_CFG, LAB_STATS.encode(), "lab")),
        ("haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg", "-f", LAB_STATS_CFG),
    )


def pair_members(plan: Plan, vip: str, prefix: int) -> list[PairMember]:
    """The keepalived pair's members: the lab's keepalived.conf (OX's Keepalived page),
    or the operator's (one file for both, or one per member in order), on the lab's
    network (adapt_keepalived_conf: address and interface; the rest as written)."""
    theirs = plan.files("dblb", "keepalived_conf")
    members = []
    for i, settings in enumerate(pair_settings(vip, prefix)):
        if theirs:
            text = adapt_keepalived_conf(theirs[min(i, len(theirs) - 1)].text, vip, prefix)
        else:
            text = render_keepalived_conf(settings)
        members.append(PairMember(settings.node, text))
    return members


def lab_db_settings(plan: Plan) -> dict[str, str]:
    """The cluster-wide settings the lab itself renders for the plan's databases."""
    if plan.topology.galera_members:
        text = render_wsrep_cnf(
            GaleraSettings(
                plan.flavour, plan.profile, plan.topology.galera_members, plan.sst_method
            )
        )
    else:
        text = render_gtid_cnf(plan.flavour.dialect)
    return {key: s.value for key, s in parsers.server_settings(text).items()}


def _binds(sections: list[parsers.Section], port: str) -> bool:
    return any(parsers.binds(s, port) for s in sections)


def haproxy_names(plan: Plan, text: str) -> dict[str, dict[str, str]]:
    """The operator's listener and server names -> the lab's (db-write, db-read, the
    node names), so HAProxy's stats read the same whatever the operator called them."""
    sections = parsers.haproxy_sections(text)
    hosts = plan.host_map()
    listeners, servers = {}, {}
    for port, name in ((str(WRITE_PORT), WRITE_LISTENER), (str(READ_PORT), READ_LISTENER)):
        section = parsers.servers_for_port(sections, port)
        if section:
            listeners[section.name] = name
    for section in sections:
        for _, words in section.get("server"):
            if len(words) > 2:
                node = hosts.get(words[2].rsplit(":", 1)[0])
                if node:
                    servers[words[1]] = node
    return {"listeners": listeners, "servers": servers}


# Fixed when a datadir is made: the image's seeded state, made with the lab's settings,
# cannot serve an operator's other value; nor can it start without Galera's pc.recovery.
SEED_BOUND = ("innodb_page_size", "lower_case_table_names", "innodb_data_file_path", "datadir")
NO_PC_RECOVERY = re.compile(r"pc\.recovery\s*=\s*(no|false|off|0)\b", re.IGNORECASE)


def seed_blockers(plan: Plan) -> list[str]:
    """Why the operator's files rule out the seeded state (one line each, file:line): the
    lab then takes the guide's path, fresh datadirs and SST joins."""
    blockers = []
    for f in plan.files("db"):
        for key, s in parsers.server_settings(f.text).items():
            if key in SEED_BOUND:
                blockers.append(f"{f.path}:{s.line}: {key} is fixed when a datadir is made")
            elif key == "wsrep_provider_options" and NO_PC_RECOVERY.search(s.value):
                blockers.append(f"{f.path}:{s.line}: pc.recovery is off")
    return blockers


def operator_notes(plan: Plan) -> list[str]:
    """One line per place where the operator's files take over from the lab's rendering.
    Raises ConfigError when they would keep the cluster from forming: the findings of
    lint's rules that block `lab up` (lint.BLOCKS_UP), so `lab lint` reports exactly
    what `lab up` refuses."""
    blocking = blocking_findings(plan)
    if blocking:
        raise ConfigError("; ".join(f.render() for f in blocking))
    notes: list[str] = []
    own = lab_db_settings(plan)
    for f in plan.files("db"):
        for key, s in parsers.server_settings(f.text).items():
            where = f"{f.path}:{s.line}"
            if key == "wsrep_cluster_address" and s.value != own.get(key):
                notes.append(f"{where}: your wsrep_cluster_address is used: {s.value}")
            elif key in CLUSTER_WIDE and s.value != own.get(key):
                notes.append(f"{where}: your {key} replaces the lab's: {s.value}")
    haproxy = plan.file("dblb", "haproxy_cfg")
    if haproxy and not _binds(parsers.haproxy_sections(haproxy.text), str(STATS_PORT)):
        notes.append(
            f"{haproxy.path}: used as it is; the lab adds its stats listener on "
            f":{STATS_PORT} in {LAB_STATS_CFG}"
        )
    for f in plan.files("web", "site"):
        for d in parsers.apache_directives(f.text):
            if (
                d.name in ("sslcertificatefile", "sslcertificatekeyfile")
                and d.args
                and d.args[0] not in (CERT_FILE, KEY_FILE)
            ):
                notes.append(
                    f"{f.path}:{d.line}: the lab puts its run's certificate at {d.args[0]}"
                )
    return notes


def web_files(plan: Plan) -> WebFiles:
    """The operator's proxy_ajp.conf and site, and the paths their site names for the
    certificate and key and for proxy_ajp.conf."""
    conf, site = plan.file("web", "proxy_ajp_conf"), plan.file("web", "site")
    paths: dict[str, list[str]] = {
        "sslcertificatefile": [],
        "sslcertificatekeyfile": [],
        "include": [],
    }
    for d in parsers.apache_directives(site.text) if site else []:
        name = "include" if d.name == "includeoptional" else d.name
        if name in paths and d.args and (name != "include" or d.args[0].endswith("proxy_ajp.conf")):
            paths[name].append(d.args[0])
    return WebFiles(
        proxy_ajp_conf=conf.text.encode() if conf else None,
        site=site.text.encode() if site else None,
        cert_paths=tuple(paths["sslcertificatefile"]),
        key_paths=tuple(paths["sslcertificatekeyfile"]),
        proxy_ajp_paths=tuple(paths["include"]),
    )


def groupware_files(plan: Plan) -> tuple[Placement, ...]:
    """configdb.properties and server.properties over what oxinstaller wrote."""
    return tuple(
        Placement(
            f"{OX_ETC}/{f.key.replace('_properties', '.properties')}", f.text.encode(), str(f.path)
        )
        for f in plan.files("groupware")
    )
