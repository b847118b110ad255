"""Lint rules for the database load balancer (HAProxy): timeouts against OX's pool, one
writer, health checks, the failover time the check settings imply, hosts and listeners."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lab.operator import parsers
from lab.operator.lint.engine import ERROR, INFO, WARNING, Finding, LintContext, register
from lab.operator.parsers import Section
from lab.operator.project import OperatorFile
from lab.plan.failover import CheckTiming
from lab.roles.dblb.haproxy_config import READ_PORT, STATS_PORT, WRITE_PORT


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


register(
    "HA001", "HAProxy timeouts shorter than the time OX keeps a pooled connection", haproxy_timeouts
)


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


register(
    "HA002", "a write listener that can send writes to two servers at once", haproxy_two_writers
)


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


register("HA003", "health checks on the TCP level only", haproxy_tcp_checks)


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


register(
    "HA004", "a write listener without on-marked-down shutdown-sessions", haproxy_shutdown_sessions
)


# Measured (docs/configuration.md, "Failover profiles"): a killed writer behind OX's
# inter 6000 fall 2 with no `timeout check` was marked DOWN 19.8-23.6 s after the kill.
MEASURED_NO_TIMEOUT_CHECK = "19.8-23.6 s with OX's inter 6000 fall 2 and no timeout check"


@dataclass(frozen=True)
class MarkDown:
    """How long HAProxy takes to mark a dead server DOWN: `fall` failed checks, each of
    which waits `check_ms` for a dead address (no RST), `inter` apart, after up to one
    `inter` until the first check begins."""

    timing: CheckTiming
    check_ms: int  # one check of a dead server
    timeout_check: bool  # False: the check waits the whole inter

    @property
    def best_ms(self) -> int:
        return self.timing.fall * self.check_ms + (self.timing.fall - 1) * self.timing.inter_ms

    @property
    def worst_ms(self) -> int:
        return self.timing.inter_ms + self.best_ms


def mark_down(sections: list[Section], section: Section) -> MarkDown:
    """HAProxy's rule: without `timeout check` a check may take the whole `inter`; with
    it, the connect of a check is bounded by min(`timeout connect`, `inter`)."""
    timing = check_timing(sections, section)
    check = _effective(sections, section, "timeout", "check")
    connect = _effective(sections, section, "timeout", "connect")
    connect_ms = haproxy_ms(connect[1][2]) if connect and len(connect[1]) > 2 else None
    if check is None:
        return MarkDown(timing, timing.inter_ms, False)
    return MarkDown(timing, min(connect_ms or timing.inter_ms, timing.inter_ms), True)


def haproxy_failover_time(context: LintContext) -> Iterator[Finding]:
    for f, sections, section, label in _db_listeners(context):
        down = mark_down(sections, section)
        timing = down.timing
        connect = _effective(sections, section, "timeout", "connect")
        connect_value = connect[1][2] if connect and len(connect[1]) > 2 else "unset"
        wait = (
            f"each check of a dead server waits {down.check_ms} ms (min of timeout connect "
            "and inter: timeout check is set)"
            if down.timeout_check
            else f"no `timeout check`: each check of a dead server waits the whole inter "
            f"({timing.inter_ms} ms); measured {MEASURED_NO_TIMEOUT_CHECK}"
        )
        yield Finding(
            "HA005",
            INFO,
            f.path,
            section.line,
            f"{label} listener {section.name}: a dead server is taken out after "
            f"{down.best_ms / 1000:g} s to up to {down.worst_ms / 1000:g} s (inter "
            f"{timing.inter_ms} ms, fall {timing.fall}; {wait}), a recovered one back after "
            f"{timing.inter_ms * timing.rise / 1000:g} s (rise {timing.rise}); "
            f"timeout connect {connect_value}",
            "the write gap OX sees when a writer dies is at least this detection time",
            "compare with `lab chaos run writer-kill --config` on these files",
        )


register("HA005", "the failover time the check settings imply", haproxy_failover_time)


def _server_host(words: list[str]) -> str:
    """The host of an HAProxy `server NAME ADDRESS[:PORT] ...` line ('' without one)."""
    return words[2].rsplit(":", 1)[0] if len(words) > 2 else ""


def haproxy_unknown_hosts(context: LintContext) -> Iterator[Finding]:
    found = context.haproxy()
    if not found:
        return
    f, sections = found
    hosts = context.hosts()
    for section in sections:
        for line, words in section.get("server"):
            host = _server_host(words)
            if host and host.lower() not in hosts:
                yield Finding(
                    "HA006",
                    ERROR,
                    f.path,
                    line,
                    f"server {words[1]} at {host} is not a lab node",
                    "the lab runs your haproxy.cfg as written; a server it cannot resolve "
                    "to one of its nodes is never UP, so `lab up` refuses the file",
                    "name it in oxlab.toml's [hosts] (your name = the lab node)",
                )


register(
    "HA006",
    "an HAProxy server on a host the lab cannot map to a node",
    haproxy_unknown_hosts,
    blocks_up=True,
)


def haproxy_write_listener(context: LintContext) -> Iterator[Finding]:
    found = context.haproxy()
    if not found or any(parsers.binds(s, str(WRITE_PORT)) for s in found[1]):
        return
    others = {context.read_port(), str(READ_PORT), str(STATS_PORT)}
    binds = [
        line
        for section in found[1]
        for line, words in section.get("bind")
        if len(words) > 1 and words[1].rsplit(":", 1)[-1] not in others
    ]
    yield Finding(
        "HA007",
        ERROR,
        found[0].path,
        binds[0] if binds else 1,
        f"no listener binds :{WRITE_PORT}",
        f"OX's writeUrl (the guide's) and the lab's clients send writes to :{WRITE_PORT}; "
        "`lab up` refuses a haproxy.cfg without it",
        f"bind the write listener to :{WRITE_PORT}",
    )


register(
    "HA007",
    "no HAProxy listener on :3306, where OX and the lab write",
    haproxy_write_listener,
    blocks_up=True,
)


def haproxy_connect_timeout(context: LintContext) -> Iterator[Finding]:
    socket_ms, where = context.pool_ms("socketTimeout")
    if socket_ms == 0:
        return  # no socket timeout at all: OX002's business
    reported = set()
    for f, sections, section, label in _db_listeners(context):
        connect = _effective(sections, section, "timeout", "connect")
        ms = haproxy_ms(connect[1][2]) if connect and len(connect[1]) > 2 else None
        if connect is None or ms is None or ms < socket_ms or connect[0] in reported:
            continue
        reported.add(connect[0])
        yield Finding(
            "HA008",
            WARNING,
            f.path,
            connect[0],
            f"timeout connect {connect[1][2]} ({label} listener {section.name}) is not "
            f"shorter than OX's socketTimeout {socket_ms} ms ({where})",
            "a dead server's address gives no RST: HAProxy waits the whole timeout connect "
            "before it tries another server, and OX's JDBC gives up first; the lab measured "
            "write gaps of 19.8-24.2 s with OX's timeout connect 60s",
            "set timeout connect well below socketTimeout (the lab's fast profile: 1s; "
            "ox-2s-timeouts: 2s)",
        )


register("HA008", "timeout connect at or above OX's socketTimeout", haproxy_connect_timeout)
