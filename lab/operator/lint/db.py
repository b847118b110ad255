"""Lint rules for the databases (Galera, GTID master/slave): durability, sync_wait,
the provider path, Galera's requirements, node-local settings, gcache against an outage,
evs.suspect_timeout against a stall."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lab.operator.lint.engine import ERROR, WARNING, Finding, LintContext, register
from lab.operator.parsers import Setting
from lab.operator.project import OperatorFile
from lab.plan.failover import provider_options, suspect_timeout_of
from lab.plan.flavours import MARIADB
from lab.roles.db.galera_config import NODE_LOCAL


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


register("DB001", "innodb_flush_log_at_trx_commit other than 1", flush_log)


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


register(
    "DB002", "wsrep_sync_wait 0 with reads on several nodes and no replication monitor", sync_wait
)


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


register("DB003", "a wsrep_provider path the flavour does not have", provider_path)


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


register(
    "DB004",
    "binlog_format not ROW or innodb_autoinc_lock_mode not 2 on Galera",
    galera_requirements,
)


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


register("DB005", "GTID replication settings that break the guide's master/slave", gtid_settings)


def shared_node_settings(context: LintContext) -> Iterator[Finding]:
    for f, s in context.db_settings():
        if s.key in NODE_LOCAL:
            yield Finding(
                "DB006",
                ERROR,
                f.path,
                s.line,
                f"{s.key} = {s.value} would be the same on every database node",
                'the guide: "Use a unique server-id for each server"; equal ids make '
                "replication skip the other's events, equal node names or addresses keep "
                "Galera from forming",
                "leave it to the lab (host.cnf, one per node); remove it",
            )


register(
    "DB006",
    "a node-local setting (server_id, wsrep_node_name, ...) in a shared file",
    shared_node_settings,
    blocks_up=True,
)


def wsrep_off(context: LintContext) -> Iterator[Finding]:
    if context.topology.family != "galera":
        return
    found = context.db_setting("wsrep_on")  # the value mysqld runs with: the last one
    if found and found[1].value.strip().lower() in ("0", "off", "false"):
        f, s = found
        yield Finding(
            "DB007",
            ERROR,
            f.path,
            s.line,
            f"wsrep_on = {s.value}: the Galera cluster cannot form",
            "each node then runs alone; nothing replicates",
            "remove wsrep_on (the lab turns it on)",
        )


register("DB007", "wsrep_on off on a Galera topology", wsrep_off, blocks_up=True)


def cluster_address_hosts(context: LintContext) -> Iterator[Finding]:
    hosts = context.hosts()
    found = context.db_setting("wsrep_cluster_address")  # the last one: what mysqld reads
    if not found:
        return
    f, s = found
    members = re.sub(r"^gcomm://", "", s.value).split("?")[0].split(",")
    unknown = [m for m in members if m and m.split(":")[0].lower() not in hosts]
    if unknown:
        yield Finding(
            "DB008",
            ERROR,
            f.path,
            s.line,
            f"wsrep_cluster_address names {', '.join(unknown)}, not lab nodes",
            "a joiner that cannot reach its peers never joins; `lab up` refuses it",
            "map them in oxlab.toml's [hosts]",
        )


register(
    "DB008",
    "wsrep_cluster_address naming hosts the lab cannot map",
    cluster_address_hosts,
    blocks_up=True,
)


SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
GCACHE_DEFAULT = "128M"  # Galera's default gcache.size
REDO_DEFAULT = "96M"  # MariaDB's default innodb_log_file_size (10.5 and later)


def size_bytes(value: str) -> int | None:
    """A MySQL/Galera size (512K, 32M, 1G, plain bytes) in bytes; None if not one."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*", value, re.IGNORECASE)
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()]) if match else None


def _mb(size: int) -> str:
    return f"{size / (1 << 20):g} MB"


def _provider_option_finding(
    context: LintContext,
    found: tuple[OperatorFile, Setting] | None,
    rule_id: str,
    what: str,
    why: str,
    fix: str,
) -> Iterator[Finding]:
    """A warning about a provider option, at the wsrep_provider_options line that sets it
    (`found`), or, when Galera's default applies, at the first database file's line 1."""
    files = context.files("db")
    if found:
        f, line = found[0], found[1].line
    elif files:
        f, line = files[0], 1
    else:
        return
    yield Finding(rule_id, WARNING, f.path, line, what, why, fix)


def gcache_size(context: LintContext) -> Iterator[Finding]:
    if context.topology.family != "galera":
        return
    options = context.db_setting("wsrep_provider_options")
    given = re.search(r"gcache\.size\s*=\s*([^;\s]+)", options[1].value) if options else None
    gcache = size_bytes(given.group(1) if given else GCACHE_DEFAULT)
    redo_setting = context.db_setting("innodb_log_file_size")
    redo = size_bytes(redo_setting[1].value if redo_setting else REDO_DEFAULT)
    if gcache is None or redo is None:
        return
    limits = context.project.lint
    ist_bytes = int(limits.ist_outage_s * limits.write_mb_per_s * (1 << 20))
    needs = []
    if gcache < limits.gcache_redo_multiple * redo:
        needs.append(f"{limits.gcache_redo_multiple:g} x the redo log ({_mb(redo)})")
    if gcache < ist_bytes:
        needs.append(
            f"the write-sets of a {limits.ist_outage_s:g} s outage at "
            f"{limits.write_mb_per_s:g} MB/s ({_mb(ist_bytes)})"
        )
    if not needs:
        return
    yield from _provider_option_finding(
        context,
        options if given else None,
        "DB009",
        f"gcache.size {_mb(gcache)}{'' if given else ' (Galera default)'} is smaller than "
        + " and ".join(needs),
        "a node that was down for a short while rejoins by IST only while the donor's "
        "gcache still holds every write-set it missed; otherwise it takes a full SST "
        "(the whole datadir copied, the donor desynced)",
        "raise gcache.size in wsrep_provider_options (the thresholds: oxlab.toml [lint])",
    )


register("DB009", "a gcache too small for IST after a short outage", gcache_size)


def suspect_timeout(context: LintContext) -> Iterator[Finding]:
    if context.topology.family != "galera":
        return
    found = context.db_setting("wsrep_provider_options")
    options = provider_options(found[1].value) if found else {}
    try:
        suspect = suspect_timeout_of(options)
    except ValueError:
        return  # not a duration of seconds: Galera's own start says so (lab up's diagnosis)
    budget = context.project.lint.stall_budget_s
    if suspect >= budget:
        return
    given = "evs.suspect_timeout" in options
    yield from _provider_option_finding(
        context,
        found if given else None,
        "DB010",
        f"evs.suspect_timeout {suspect:g} s{'' if given else ' (Galera default)'} is shorter "
        f"than the stall budget {budget:g} s",
        "a survivor that stalls longer than it (CPU starved, IO, a paused VM) while another "
        "node dies is suspected with the dead one: the cluster goes non-Primary and stays "
        "so until the dead node is back (measured: a 1.5 s freeze at PT1S)",
        f"set evs.suspect_timeout=PT{budget:g}S or more (inactive_timeout above it), or "
        "lower [lint] stall_budget_s to what your hosts are known to stall",
    )


register("DB010", "an evs.suspect_timeout shorter than the hosts' stall budget", suspect_timeout)
