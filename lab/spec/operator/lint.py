"""`lab lint`: the operator's files checked against the guide, OX's documentation and
what the lab has measured, before Docker is touched. One line per finding: rule id,
severity, file:line, what is wrong, why, what to do. Errors make `lab lint` exit 1.

Rules are plain functions registered in RULES; each gets a LintContext (the operator's
files already parsed, the topology, the flavours) and yields Findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lab.oxnode.config import PoolSettings
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT
from lab.spec.failover import CheckTiming
from lab.spec.flavours import MARIADB, Flavour
from lab.spec.operator import parsers
from lab.spec.operator.parsers import Section, Setting
from lab.spec.operator.project import OperatorFile, Project
from lab.spec.plan import Plan
from lab.spec.topology import Topology

ERROR, WARNING, INFO = "error", "warning", "info"

# configdb.properties keys -> OX's pool settings (their defaults are OX's documented ones)
POOL_KEYS = {
    "maxIdleTime": "max_idle_time_ms",
    "maxLifeTime": "max_life_time_ms",
    "socketTimeout": "socket_timeout_ms",
    "connectTimeout": "connect_timeout_ms",
}
OX_UID = "1001"  # the guide: open-xchange is "typically 1001:1001", equal on every machine
GROUPWARE_ROUTES = ("OX1", "OX2")  # the routes the lab gives oxgw01/oxgw02 (--jkroute)
PROVISIONING_PATH = "/servlet/axis2/services"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    file: Path
    line: int
    what: str
    why: str
    fix: str

    def render(self, base: Path | None = None) -> str:
        path = self.file
        if base:
            try:
                path = self.file.relative_to(base.resolve())
            except ValueError:
                pass
        where = f"{path}:{self.line}"
        return f"{self.rule} {self.severity} {where}: {self.what}; why: {self.why}; do: {self.fix}"


@dataclass
class LintContext:
    """The operator's files, parsed once, and what the lab knows about the target."""

    project: Project
    topology: Topology
    flavours: tuple[Flavour, ...]
    _cache: dict[str, object] = field(default_factory=dict)

    def files(self, role: str, key: str | None = None) -> list[OperatorFile]:
        return self.project.files_of(role, key)

    def one(self, role: str, key: str) -> OperatorFile | None:
        return self.project.file(role, key)

    def db_settings(self) -> list[tuple[OperatorFile, Setting]]:
        """Every server option the operator's .cnf files set, in the order mysqld reads."""
        ordered = self.files("database", "ox_cnf") + self.files("database", "cnf")
        return [(f, s) for f in ordered for s in parsers.server_settings(f.text).values()]

    def db_setting(self, key: str) -> tuple[OperatorFile, Setting] | None:
        found = [(f, s) for f, s in self.db_settings() if s.key == key]
        return found[-1] if found else None

    def configdb(self) -> tuple[OperatorFile, dict[str, Setting]] | None:
        f = self.one("groupware", "configdb_properties")
        return (f, parsers.properties(f.text)) if f else None

    def pool_ms(self, key: str) -> tuple[int, str]:
        """A JDBC/pool setting in ms: the operator's configdb.properties, or OX's default."""
        found = self.configdb()
        if found:
            props = found[1]
            for name in (key, f"writeProperty.{key}", f"readProperty.{key}"):
                if name in props and props[name].value.isdigit():
                    return int(props[name].value), f"{found[0].name}:{props[name].line}"
            for setting in props.values():  # readProperty.N=socketTimeout=15000 form
                if setting.value.startswith(f"{key}=") and setting.value[len(key) + 1 :].isdigit():
                    return int(setting.value[len(key) + 1 :]), f"{found[0].name}:{setting.line}"
        return int(getattr(PoolSettings(), POOL_KEYS[key])), "OX's default"

    def haproxy(self) -> tuple[OperatorFile, list[Section]] | None:
        f = self.one("dblb", "haproxy_cfg")
        return (f, parsers.haproxy_sections(f.text)) if f else None

    def listener_on(self, port: str) -> Section | None:
        found = self.haproxy()
        return parsers.servers_for_port(found[1], port) if found else None

    def write_port(self) -> str:
        return self._url_port("writeUrl", str(WRITE_PORT))

    def read_port(self) -> str:
        return self._url_port("readUrl", str(READ_PORT))

    def _url_port(self, key: str, default: str) -> str:
        """The port of configdb.properties' readUrl/writeUrl (the guide's listeners)."""
        found = self.configdb()
        url = found[1].get(key) if found else None
        port = re.search(r"//[^/:]+:(\d+)", url.value) if url else None
        return port.group(1) if port else default


Rule = Callable[[LintContext], Iterator[Finding]]
RULES: dict[str, tuple[str, Rule]] = {}  # id -> (one-line summary, rule)


def rule(rule_id: str, summary: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[rule_id] = (summary, fn)
        return fn

    return register


def explain(plan: Plan, rules: Sequence[str]) -> list[str]:
    """The operator's settings behind a chaos figure: lint's findings of `rules` on the
    plan's files, rendered (empty on the lab's own files)."""
    if plan.project is None or not rules:
        return []
    base = plan.project.path.parent
    found = lint(plan.project, plan.topology, (plan.flavour,))
    return [f.render(base) for f in found if f.rule in rules]


def lint(project: Project, topology: Topology, flavours: tuple[Flavour, ...]) -> list[Finding]:
    """Every rule over the operator's files; findings sorted by file and line."""
    context = LintContext(project, topology, flavours)
    findings = [f for _, fn in RULES.values() for f in fn(context)]
    return sorted(findings, key=lambda f: (str(f.file), f.line, f.rule))


# -- HAProxy ------------------------------------------------------------------------------


def haproxy_ms(value: str) -> int | None:
    """An HAProxy time (default unit ms; us, ms, s, m, h, d) in milliseconds."""
    match = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)?", value)
    if not match:
        return None
    scale = {"us": 0.001, "ms": 1, None: 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    return int(int(match.group(1)) * scale[match.group(2)])


def _defaults(sections: list[Section], section: Section) -> Section | None:
    """The defaults section in force for `section` (the last one before it)."""
    found = None
    for other in sections:
        if other is section or other.line > section.line:
            break
        if other.kind == "defaults":
            found = other
    return found


def _effective(
    sections: list[Section], section: Section, *keyword: str
) -> tuple[int, list[str]] | None:
    own = section.first(*keyword)
    if own:
        return own
    defaults = _defaults(sections, section)
    return defaults.first(*keyword) if defaults else None


def _servers(section: Section) -> list[tuple[int, list[str]]]:
    return section.get("server")


def _server_option(
    section: Section, defaults: Section | None, words: list[str], name: str
) -> str | None:
    """A server's `name VALUE` from its line, its listener's or the defaults' default-server."""
    for source in (
        words,
        *(w for _, w in section.get("default-server")),
        *(w for _, w in (defaults.get("default-server") if defaults else [])),
    ):
        if name in source:
            index = source.index(name)
            return source[index + 1] if index + 1 < len(source) else ""
    return None


def check_timing(sections: list[Section], section: Section) -> CheckTiming:
    """inter/rise/fall of the listener's first server (HAProxy's defaults 2000/2/3)."""
    defaults = _defaults(sections, section)
    servers = _servers(section)
    words = servers[0][1] if servers else []

    def value(name: str, default: int) -> int:
        raw = _server_option(section, defaults, words, name)
        parsed = haproxy_ms(raw) if raw else None
        return parsed if parsed is not None else default

    return CheckTiming(inter_ms=value("inter", 2000), rise=value("rise", 2), fall=value("fall", 3))


def _db_listeners(
    context: LintContext,
) -> Iterator[tuple[OperatorFile, list[Section], Section, str]]:
    found = context.haproxy()
    if not found:
        return
    f, sections = found
    seen = set()
    for port, label in ((context.write_port(), "write"), (context.read_port(), "read")):
        section = context.listener_on(port)
        if section and id(section) not in seen:
            seen.add(id(section))
            yield f, sections, section, label


@rule("HA001", "HAProxy timeouts shorter than the time OX keeps a pooled connection")
def haproxy_timeouts(context: LintContext) -> Iterator[Finding]:
    idle_ms, idle_source = context.pool_ms("maxIdleTime")
    short: dict[tuple[Path, int, str, str], list[str]] = {}  # one finding per line
    for f, sections, section, label in _db_listeners(context):
        for side in ("client", "server"):
            found = _effective(sections, section, "timeout", side)
            ms = haproxy_ms(found[1][2]) if found and len(found[1]) > 2 else None
            if found and ms is not None and ms < idle_ms:
                key = (f.path, found[0], side, found[1][2])
                short.setdefault(key, []).append(f"{label} listener {section.name}")
    for (path, line, side, value), listeners in short.items():
        yield Finding(
            "HA001",
            ERROR,
            path,
            line,
            f"timeout {side} {value} ({' and '.join(listeners)}) is shorter than OX's "
            f"maxIdleTime {idle_ms} ms ({idle_source})",
            "the guide: with HAProxy's default timeouts HAProxy kills active DB "
            "connections, and OX's pool hands out a connection HAProxy has already closed",
            "set timeout client and timeout server above maxIdleTime (the lab uses 20m)",
        )


@rule("HA002", "a write listener that can send writes to two servers at once")
def haproxy_two_writers(context: LintContext) -> Iterator[Finding]:
    for f, _sections, section, label in _db_listeners(context):
        if label != "write":
            continue
        active = [(no, w) for no, w in _servers(section) if "backup" not in w]
        if len(active) > 1:
            balance = section.first("balance")
            yield Finding(
                "HA002",
                ERROR,
                f.path,
                active[1][0],
                f"the write listener {section.name} has {len(active)} active servers"
                + (f" balanced {balance[1][1]}" if balance and len(balance[1]) > 1 else ""),
                "OX's Galera guidance: one writer at a time (active/passive); writes on two "
                "nodes at once end in certification conflicts and deadlock errors for OX",
                "keep one active server and mark the others `backup`",
            )


@rule("HA003", "health checks on the TCP level only")
def haproxy_tcp_checks(context: LintContext) -> Iterator[Finding]:
    for f, sections, section, label in _db_listeners(context):
        check = _effective(sections, section, "option", "httpchk")
        if check:
            continue
        yield Finding(
            "HA003",
            ERROR,
            f.path,
            section.line,
            f"the {label} listener {section.name} checks its servers without "
            "`option httpchk` against clustercheck/replcheck",
            "the guide: a TCP (or mysql-check) check passes a node that is non-Primary, "
            "a Donor or a lagging slave; split brain is then undetectable",
            "add `option httpchk` and `default-server port 9200` (clustercheck)",
        )


@rule("HA004", "a write listener without on-marked-down shutdown-sessions")
def haproxy_shutdown_sessions(context: LintContext) -> Iterator[Finding]:
    for f, sections, section, label in _db_listeners(context):
        if label != "write":
            continue
        defaults = _defaults(sections, section)
        servers = _servers(section)
        if servers and _server_option(section, defaults, servers[0][1], "on-marked-down") is None:
            yield Finding(
                "HA004",
                WARNING,
                f.path,
                servers[0][0],
                f"the write listener {section.name} keeps sessions to a server marked down",
                "clients keep talking to a dead writer until their own socket timeout "
                "(OX: socketTimeout, 15 s by default) instead of reconnecting at once",
                "add `on-marked-down shutdown-sessions` to the servers (default-server)",
            )


@rule("HA005", "the failover time the check settings imply")
def haproxy_failover_time(context: LintContext) -> Iterator[Finding]:
    for f, sections, section, label in _db_listeners(context):
        timing = check_timing(sections, section)
        connect = _effective(sections, section, "timeout", "connect")
        connect_value = connect[1][2] if connect and len(connect[1]) > 2 else "unset"
        yield Finding(
            "HA005",
            INFO,
            f.path,
            section.line,
            f"{label} listener {section.name}: a dead server is taken out after up to "
            f"{timing.detection_ms / 1000:g} s (inter {timing.inter_ms} ms x fall {timing.fall}), "
            f"a recovered one back after {timing.inter_ms * timing.rise / 1000:g} s (rise "
            f"{timing.rise}); timeout connect {connect_value}",
            "the write gap OX sees when a writer dies is at least this detection time",
            "compare with `lab chaos run writer-kill --config` on these files",
        )


# -- Galera / MySQL -----------------------------------------------------------------------


def _db_finding(
    context: LintContext,
    key: str,
    bad: Callable[[str], bool],
    rule_id: str,
    severity: str,
    what: str,
    why: str,
    fix: str,
) -> Iterator[Finding]:
    found = context.db_setting(key)
    if found and bad(found[1].value.strip().lower()):
        f, s = found
        yield Finding(rule_id, severity, f.path, s.line, what.format(value=s.value), why, fix)


@rule("DB001", "innodb_flush_log_at_trx_commit other than 1")
def flush_log(context: LintContext) -> Iterator[Finding]:
    yield from _db_finding(
        context,
        "innodb_flush_log_at_trx_commit",
        lambda v: v != "1",
        "DB001",
        ERROR,
        "innodb_flush_log_at_trx_commit = {value}",
        "acknowledged writes are lost when nodes crash together (Jepsen's 2026 MariaDB "
        "Galera report; the lab's galera-crash-flush0 scenario shows it)",
        "set innodb_flush_log_at_trx_commit = 1",
    )


@rule("DB002", "wsrep_sync_wait 0 with reads on several nodes and no replication monitor")
def sync_wait(context: LintContext) -> Iterator[Finding]:
    if context.topology.family != "galera":
        return
    found = context.configdb()
    monitor = found[1].get("com.openexchange.database.replicationMonitor") if found else None
    if monitor is None or monitor.value.lower() != "false":
        return
    yield from _db_finding(
        context,
        "wsrep_sync_wait",
        lambda v: v == "0",
        "DB002",
        ERROR,
        "wsrep_sync_wait = {value} while OX's replicationMonitor is false",
        'the guide\'s "Read requests": reads through the round-robin listener may hit a '
        "node that has not applied the last write yet (stale reads)",
        "set wsrep_sync_wait = 1, or keep com.openexchange.database.replicationMonitor=true",
    )


@rule("DB003", "a wsrep_provider path the flavour does not have")
def provider_path(context: LintContext) -> Iterator[Finding]:
    found = context.db_setting("wsrep_provider")
    if not found or context.topology.family != "galera":
        return
    f, s = found
    for flavour in context.flavours:
        if flavour.galera_provider and s.value != flavour.galera_provider:
            yield Finding(
                "DB003",
                ERROR,
                f.path,
                s.line,
                f"wsrep_provider = {s.value}, but {flavour.name} installs "
                f"{flavour.galera_provider}",
                "mysqld then starts without Galera (or not at all) and never joins",
                f"use {flavour.galera_provider}, or leave wsrep_provider to the lab",
            )


@rule("DB004", "binlog_format not ROW or innodb_autoinc_lock_mode not 2 on Galera")
def galera_requirements(context: LintContext) -> Iterator[Finding]:
    if context.topology.family != "galera":
        return
    yield from _db_finding(
        context,
        "binlog_format",
        lambda v: v != "row",
        "DB004",
        ERROR,
        "binlog_format = {value}",
        "Galera replicates row events only (its documented requirement)",
        "set binlog_format = ROW",
    )
    yield from _db_finding(
        context,
        "innodb_autoinc_lock_mode",
        lambda v: v != "2",
        "DB004",
        ERROR,
        "innodb_autoinc_lock_mode = {value}",
        "Galera needs interleaved auto-increment locks, other modes deadlock certification",
        "set innodb_autoinc_lock_mode = 2",
    )


@rule("DB005", "GTID replication settings that break the guide's master/slave")
def gtid_settings(context: LintContext) -> Iterator[Finding]:
    if context.topology.family != "gtid":
        return
    off = ("0", "off", "false")
    yield from _db_finding(
        context,
        "log_slave_updates",
        lambda v: v in off,
        "DB005",
        ERROR,
        "log_slave_updates = {value}",
        "a slave without its own binlog of replicated "
        "transactions cannot be promoted and serve the old master (the guide's GTID setup)",
        "set log_slave_updates = ON",
    )
    if any(f.dialect.family != MARIADB for f in context.flavours):
        for key in ("gtid_mode", "enforce_gtid_consistency"):
            yield from _db_finding(
                context,
                key,
                lambda v: v in off,
                "DB005",
                ERROR,
                f"{key} = {{value}}",
                "Oracle MySQL replicates by GTID only with gtid_mode and "
                "enforce_gtid_consistency ON (MASTER_AUTO_POSITION)",
                f"set {key} = ON",
            )


@rule("DB006", "server_id set in a file every database node reads")
def shared_server_id(context: LintContext) -> Iterator[Finding]:
    yield from _db_finding(
        context,
        "server_id",
        lambda v: True,
        "DB006",
        ERROR,
        "server_id = {value} in a file placed on every database node",
        'the guide: "Use a unique server-id for each server"; equal ids make replication '
        "skip the other's events",
        "leave server_id to the lab (host.cnf, one per node)",
    )


# -- Apache -------------------------------------------------------------------------------


def _apache(context: LintContext) -> list[tuple[OperatorFile, parsers.Directive]]:
    return [(f, d) for f in context.files("web") for d in parsers.apache_directives(f.text)]


@rule("AP001", "BalancerMember routes that do not match the groupware nodes' jkroute")
def balancer_routes(context: LintContext) -> Iterator[Finding]:
    for f, d in _apache(context):
        if d.name != "balancermember":
            continue
        routes = [a.split("=", 1)[1] for a in d.args if a.lower().startswith("route=")]
        if not routes or routes[0] not in GROUPWARE_ROUTES:
            yield Finding(
                "AP001",
                ERROR,
                f.path,
                d.line,
                f"BalancerMember {d.args[0] if d.args else ''} has "
                + (f"route={routes[0]}" if routes else "no route"),
                "the guide: --jkroute must equal the route of the web server's "
                "BalancerMember, or sticky sessions never find their node",
                f"use the nodes' routes ({', '.join(GROUPWARE_ROUTES)})",
            )


@rule("AP002", "stickysession missing or not on JSESSIONID")
def sticky(context: LintContext) -> Iterator[Finding]:
    members = [(f, d) for f, d in _apache(context) if d.name == "balancermember"]
    if not members:
        return
    sticky_args = [
        a
        for _, d in _apache(context)
        if d.name in ("proxyset", "proxypass")
        for a in d.args
        if a.lower().startswith("stickysession=")
    ]
    if not any(a.split("=", 1)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):
        f, d = members[0]
        yield Finding(
            "AP002",
            ERROR,
            f.path,
            d.line,
            "the balancer has no stickysession=JSESSIONID",
            "the guide: OX's session lives on one node; without stickiness every request "
            "may land on the other node and the session is lost",
            "add `ProxySet stickysession=JSESSIONID` in <Proxy balancer://...>",
        )


def _denies(d: parsers.Directive) -> bool:
    args = " ".join(d.args).lower()
    return (d.name == "require" and ("all denied" in args or args.startswith(("ip", "host")))) or (
        d.name == "deny" and "all" in args
    )


@rule("AP003", "the SOAP provisioning path not denied")
def soap_lockdown(context: LintContext) -> Iterator[Finding]:
    directives = _apache(context)
    if not any(d.name == "proxypass" for _, d in directives):
        return
    locked = any(
        _denies(d) and any(PROVISIONING_PATH.split("/")[2] in b.lower() for b in d.blocks)
        for _, d in directives
    )
    if not locked:
        f, d = next((f, d) for f, d in directives if d.name == "proxypass")
        yield Finding(
            "AP003",
            ERROR,
            f.path,
            d.line,
            f"{PROVISIONING_PATH} (OX's SOAP provisioning API) is proxied to everyone",
            "the guide restricts it: anyone who reaches it can create contexts and users",
            f"add <LocationMatch> for {PROVISIONING_PATH} with `Require ip` of your admins",
        )


@rule("AP004", "balancer-manager reachable from everywhere")
def balancer_manager(context: LintContext) -> Iterator[Finding]:
    directives = _apache(context)
    for f, d in directives:
        if d.name == "sethandler" and d.args and d.args[0].lower() == "balancer-manager":
            restricted = any(_denies(o) and o.blocks == d.blocks for _, o in directives)
            if not restricted:
                yield Finding(
                    "AP004",
                    ERROR,
                    f.path,
                    d.line,
                    "balancer-manager has no Require ip/host restriction",
                    "anyone who reaches it can disable members or change routes "
                    "(mod_proxy_balancer's documentation)",
                    "add `Require ip` with your admin network in the same <Location>",
                )


@rule("AP005", "plain HTTP not redirected to HTTPS")
def https_redirect(context: LintContext) -> Iterator[Finding]:
    for f in context.files("web", "site"):
        directives = parsers.apache_directives(f.text)
        for d in directives:
            if d.name == "virtualhost" and any(a.endswith(":80") for a in d.args):
                inside = [
                    o
                    for o in directives
                    if o.blocks
                    and o.blocks[-1].lower().startswith("<virtualhost")
                    and o.line > d.line
                    and ":80" in o.blocks[-1]
                ]
                if not any(
                    o.name in ("redirect", "redirectmatch", "rewriterule")
                    and "https" in " ".join(o.args)
                    for o in inside
                ):
                    yield Finding(
                        "AP005",
                        WARNING,
                        f.path,
                        d.line,
                        "the port 80 virtual host does not redirect to HTTPS",
                        "OX sends passwords and session cookies; over plain HTTP they can be "
                        "read on the way",
                        "add `Redirect permanent / https://your.host/`",
                    )


# -- OX -----------------------------------------------------------------------------------


@rule("OX001", "readUrl and writeUrl differ on asynchronous replication without monitor")
def ox_replication_monitor(context: LintContext) -> Iterator[Finding]:
    found = context.configdb()
    if not found or context.topology.family != "gtid":
        return
    f, props = found
    read, write = props.get("readUrl"), props.get("writeUrl")
    monitor = props.get("com.openexchange.database.replicationMonitor")
    if (
        read
        and write
        and read.value != write.value
        and monitor
        and monitor.value.lower() == "false"
    ):
        yield Finding(
            "OX001",
            ERROR,
            f.path,
            monitor.line,
            "readUrl and writeUrl differ while replicationMonitor=false",
            'the guide\'s "Read requests": OX then reads from the slave without checking '
            "that it has the write it just made (stale reads after every write)",
            "set com.openexchange.database.replicationMonitor=true",
        )


@rule("OX002", "JDBC socketTimeout against HAProxy's failover time")
def ox_socket_timeout(context: LintContext) -> Iterator[Finding]:
    found = context.configdb()
    haproxy = context.haproxy()
    if not found or not haproxy:
        return
    f, _ = found
    socket_ms, where = context.pool_ms("socketTimeout")
    write = context.listener_on(context.write_port())
    if write is None:
        return
    detection = check_timing(haproxy[1], write).detection_ms
    line = int(where.rsplit(":", 1)[1]) if ":" in where else 1
    if socket_ms == 0:
        yield Finding(
            "OX002",
            WARNING,
            f.path,
            line,
            "socketTimeout=0: OX waits for a dead writer without limit",
            "a query on a connection to a killed server waits until TCP gives up "
            "(minutes) unless HAProxy shuts the session",
            "keep OX's socketTimeout=15000",
        )
    elif socket_ms < detection:
        yield Finding(
            "OX002",
            WARNING,
            f.path,
            line,
            f"socketTimeout {socket_ms} ms is shorter than HAProxy's detection ({detection} ms)",
            "queries fail before HAProxy has moved the writer; OX "
            "reports errors instead of waiting out the failover",
            "raise socketTimeout above inter x fall, or check faster",
        )


# -- NFS ----------------------------------------------------------------------------------


@rule("NF001", "an export open to more than the groupware nodes")
def export_clients(context: LintContext) -> Iterator[Finding]:
    hosts = dict(context.project.hosts)
    allowed = {"oxgw01", "oxgw02"}
    for f in context.files("filestore", "exports"):
        for export in parsers.exports(f.text):
            for client in export.clients:
                if hosts.get(client.host, client.host) not in allowed:
                    yield Finding(
                        "NF001",
                        ERROR,
                        f.path,
                        export.line,
                        f"{export.path} is exported to {client.host}",
                        "the guide exports the filestore to both groupware nodes only; "
                        "anyone else can read and change every context's files",
                        "list the groupware nodes by name (map them in [hosts])",
                    )


@rule("NF002", "a uid/gid mapping that does not give open-xchange its files")
def export_ids(context: LintContext) -> Iterator[Finding]:
    for f in context.files("filestore", "exports"):
        for export in parsers.exports(f.text):
            for client in export.clients:
                squash_all = client.option("all_squash") is not None
                uid, gid = client.option("anonuid"), client.option("anongid")
                wrong = (squash_all and (uid, gid) != (OX_UID, OX_UID)) or (
                    client.option("ro") is not None
                )
                if wrong:
                    yield Finding(
                        "NF002",
                        ERROR,
                        f.path,
                        export.line,
                        f"{client.host}({','.join(client.options)}) does not let "
                        "open-xchange write its files",
                        "the guide: open-xchange (1001:1001) owns the export and must "
                        "read and write it from both nodes",
                        f"use rw and, if squashing, anonuid={OX_UID},anongid={OX_UID}",
                    )


# -- host names ---------------------------------------------------------------------------


@rule("HO001", "IP addresses in the operator's files")
def ip_addresses(context: LintContext) -> Iterator[Finding]:
    for f in context.project.files:
        for line, address in parsers.ip_addresses(f.text):
            yield Finding(
                "HO001",
                WARNING,
                f.path,
                line,
                f"{address} is an address, not a name",
                "the lab (and a rebuilt machine) gives nodes other addresses; names map to "
                "lab nodes through oxlab.toml's [hosts]",
                "use the host name and map it in [hosts]",
            )
