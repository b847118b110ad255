"""`lab init`: a starter oxlab.toml and the lab's current reference files for every role
of a topology, each setting with a one-line comment on what the guide or OX's
documentation says about it. An operator starts from working files (`lab init` then
`lab up` works unchanged) and replaces them with theirs, one by one."""

from __future__ import annotations

from pathlib import Path

from lab.infra.errors import ConfigError
from lab.oxnode.config import ConfigDb, render_properties
from lab.plan.resolved import Plan
from lab.roles.db.galera_config import GaleraSettings, render_wsrep_cnf
from lab.roles.db.gtid_config import render_gtid_cnf
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT, haproxy_config_for
from lab.roles.filestore.nfs import EXPORT_PATH
from lab.roles.groupware.cluster import OX_NODES
from lab.roles.web.front_end import Member, render_proxy_ajp_conf, render_site_conf

OX_CNF = Path(__file__).resolve().parents[1] / "images" / "db" / "ox.cnf"
# the admin networks balancer-manager answers (the lab's Docker networks are private)
ADMIN_NETWORKS = ("127.0.0.1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

# setting (as a line starts) -> the one-line comment written above it
NOTES: dict[str, dict[str, str]] = {
    "cnf": {
        "innodb_flush_log_at_trx_commit": "1: a commit is on disk before it is acknowledged "
        "(0 or 2 lose acknowledged writes when nodes crash together)",
        "innodb_buffer_pool_size": "OX's MySQL article: size to the data; tiny in a lab",
        "max_connections": "OX pools up to maxActive per node and database: keep headroom",
        "character-set-server": "OX stores utf8mb4",
        "wsrep_provider ": "the Galera library of this flavour's packages",
        "wsrep_provider_options": "evs timeouts decide how long a silent node stalls writes",
        "wsrep_cluster_address": "every member, by name (the guide's gcomm:// list)",
        "wsrep_sst_method": "how a joiner gets a full copy (rsync blocks the donor)",
        "wsrep_sync_wait": "1: causal reads, no stale read on the round-robin listener",
        "binlog_format": "Galera requires ROW",
        "innodb_autoinc_lock_mode": "Galera requires 2 (interleaved)",
        "log_slave_updates": "a slave logs what it applies, so it can be promoted",
        "gtid_mode": "Oracle MySQL: replicate by GTID (the guide's GTID setup)",
        "sync_binlog": "1: the binlog is on disk with each commit (crash-safe replication)",
        "relay_log_recovery": "a crashed slave refetches its relay log instead of trusting it",
    },
    "haproxy": {
        "timeout connect": "a dead server's address gives no RST: this bounds each attempt",
        "timeout client": "longer than OX's maxIdleTime, or HAProxy kills pooled connections",
        "timeout server": "the same for the server side (the guide: not HAProxy's defaults)",
        "timeout check": "a clustercheck answer slower than this counts as failed",
        "option httpchk": "check clustercheck/replcheck over HTTP, not just the TCP port",
        "default-server": "inter x fall = how long a dead server keeps receiving connections",
        "balance roundrobin": "reads spread over every synced node",
        "listen db-write": "writes: one active server, the others backup (no two writers)",
        "listen db-read": "reads: round-robin over every healthy node",
    },
    "properties": {
        "readUrl": "where OX reads (the read listener or the slave)",
        "writeUrl": "where OX writes (the write listener or the master)",
        "readProperty.5": "OX: autoReconnect=false; a broken connection is discarded",
        "readProperty.9": "OX's default connectTimeout 15 s",
        "readProperty.10": "OX's default socketTimeout 15 s: the longest a query waits",
        "maxIdleTime": "OX closes a pooled connection idle this long (ms)",
        "maxLifeTime": "OX closes a pooled connection this old (ms)",
        "maxActive": "at most this many connections per pool",
        "maxWait": "a thread waits this long for a free connection (ms)",
        "com.openexchange.database.replicationMonitor": "read the master after a write "
        'until the slave has it (the guide\'s "Read requests")',
    },
    "apache": {
        "<LocationMatch": "the SOAP provisioning API: only from the admin hosts",
        "<Proxy balancer": "the guide's balancer://oxcluster",
        "BalancerMember": "route= must equal the node's --jkroute (OX1, OX2)",
        "ProxySet stickysession": "a session stays on the node that holds it",
        "Redirect permanent": "plain HTTP only redirects to HTTPS",
        "<Location /balancer-manager>": "the balancer's admin page: admin networks only",
    },
    "exports": {
        EXPORT_PATH: "both groupware nodes only, read-write; open-xchange is 1001:1001 on "
        "every machine (the guide)",
    },
    "sysconfig": {
        "AVAILABLE_WHEN_DONOR": "0: a Donor (blocked by its state transfer) fails the check",
        "AVAILABLE_WHEN_READONLY": "1: a read_only node still passes (Percona's default)",
    },
}


def annotate(text: str, notes: dict[str, str]) -> str:
    """The text with `# note` above the first line that starts with each setting."""
    pending = dict(notes)
    out = []
    for line in text.splitlines():
        stripped = line.lstrip()
        for key in list(pending):
            if stripped.startswith(key):
                indent = line[: len(line) - len(stripped)]
                out.append(f"{indent}# {pending.pop(key)}")
        out.append(line)
    return "\n".join(out) + "\n"


def reference_files(plan: Plan) -> dict[str, tuple[str, str, str]]:
    """relative path -> (role, key, content) for every role of the plan's topology."""
    topology, flavour = plan.topology, plan.flavour
    files: dict[str, tuple[str, str, str]] = {
        "db/ox.cnf": ("db", "ox_cnf", annotate(OX_CNF.read_text(), NOTES["cnf"])),
    }
    if topology.galera_members:
        wsrep = render_wsrep_cnf(
            GaleraSettings(flavour, plan.profile, topology.galera_members, plan.sst_method)
        )
        files["db/wsrep.cnf"] = ("db", "cnf", annotate(wsrep, NOTES["cnf"]))
        check = "AVAILABLE_WHEN_DONOR=0\nAVAILABLE_WHEN_READONLY=1\n"
        files["clustercheck/clustercheck"] = (
            "clustercheck",
            "settings",
            annotate(
                "# /etc/sysconfig/clustercheck (Percona's settings)\n" + check, NOTES["sysconfig"]
            ),
        )
        read_host, write_host = f"dblb:{READ_PORT}", f"dblb:{WRITE_PORT}"
    else:
        files["db/gtid.cnf"] = (
            "db",
            "cnf",
            annotate(render_gtid_cnf(flavour.dialect), NOTES["cnf"]),
        )
        files["replcheck/replcheck"] = (
            "replcheck",
            "settings",
            "# /etc/sysconfig/replcheck: a slave lagging more (seconds) leaves the read pool\n"
            "REPLCHECK_MAX_LAG=10\n",
        )
        master, slave = topology.gtid_pair or ("dbmaster", "dbslave")
        read_host, write_host = slave, master
    if topology.dblb:
        files["dblb/haproxy.cfg"] = (
            "dblb",
            "haproxy_cfg",
            annotate(haproxy_config_for(plan), NOTES["haproxy"]),
        )
    if topology.groupware:
        members = [Member(name, route) for name, route in OX_NODES]
        files["web/proxy_ajp.conf"] = (
            "web",
            "proxy_ajp_conf",
            annotate(render_proxy_ajp_conf(members, ["127.0.0.1"]), NOTES["apache"]),
        )
        files["web/oxlab.conf"] = (
            "web",
            "site",
            annotate(render_site_conf("web", ADMIN_NETWORKS), NOTES["apache"]),
        )
        configdb = ConfigDb(
            f"jdbc:mysql://{read_host}/configdb",
            f"jdbc:mysql://{write_host}/configdb",
            OX_DB_USER,
            OX_DB_PASSWORD,
        )
        files["groupware/configdb.properties"] = (
            "groupware",
            "configdb_properties",
            annotate(
                render_properties(configdb.properties(), "configdb.properties (OX's names)"),
                NOTES["properties"],
            ),
        )
        line = " ".join(f"{name}(rw,sync,no_subtree_check,no_root_squash)" for name, _ in OX_NODES)
        files["filestore/exports"] = (
            "filestore",
            "exports",
            annotate(f"# /etc/exports on the NFS server\n{EXPORT_PATH} {line}\n", NOTES["exports"]),
        )
    return files


def render_project(plan: Plan, files: dict[str, tuple[str, str, str]]) -> str:
    """The starter oxlab.toml naming every reference file."""
    lines = [
        "# oxlab.toml: what `lab up`, `lab lint`, pytest and `lab chaos run` test.",
        "# Replace the reference files below with your own, one by one.",
        "[lab]",
        f'topology = "{plan.topology.name}"',
        f'flavours = ["{plan.flavour.name}"]  # more than one: the nightly matrix',
        f'profile = "{plan.profile.name}"',
        "",
        "[hosts]  # the host names your files use -> lab nodes, e.g.",
        '# "db1.prod.example.net" = "galera1"',
    ]
    by_role: dict[str, dict[str, list[str]]] = {}
    for path, (role, key, _) in files.items():
        by_role.setdefault(role, {}).setdefault(key, []).append(path)
    for role, keys in by_role.items():
        lines += ["", f"[{role}]"]
        for key, paths in keys.items():
            if key == "cnf":
                lines.append(
                    f"{key} = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in paths)}]"
                )
            else:
                lines.append(f'{key} = "{paths[0]}"')
    return "\n".join(lines) + "\n"


def init_project(directory: Path, plan: Plan, force: bool = False) -> list[Path]:
    """Write oxlab.toml and the reference files; refuses to overwrite without force."""
    files = reference_files(plan)
    targets = [directory / "oxlab.toml", *(directory / p for p in files)]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise ConfigError(f"{existing[0]} exists; `lab init --force` overwrites it")
    for relative, (_, _, content) in files.items():
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_text(content, encoding="utf-8")
    (directory / "oxlab.toml").write_text(render_project(plan, files), encoding="utf-8")
    return targets
