"""HAProxy's own rules as the lint reads them, on small haproxy.cfg files: time units,
the check settings a server gets (its line, its listener's default-server, the defaults
section in force), how long a dead server takes to be marked down, and a server's host.
These decide HA001, HA004, HA005, HA006 and OX002; the mutation run found each edge
untested (tools/mutants.py survivors). HAProxy's configuration manual, 2.6: "2.5. Time
format", "5.2 server and default-server options" (inter 2000, rise 2, fall 3), "4.2
timeout check"."""

from __future__ import annotations

import pytest

from lab.operator.lint.dblb import (
    MarkDown,
    _server_host,
    check_timing,
    haproxy_ms,
    mark_down,
)
from lab.operator.parsers import Section, haproxy_sections
from lab.plan.failover import CheckTiming


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("3", 3),  # no unit: milliseconds
        ("3ms", 3),
        ("1500us", 1),
        ("999us", 0),
        ("2s", 2000),
        ("20m", 1_200_000),
        ("2h", 7_200_000),
        ("1d", 86_400_000),
        ("1.5s", None),  # HAProxy takes integers only
        ("5S", None),  # units are lower case
        ("s", None),
        ("", None),
    ],
)
def test_haproxy_time_format(value: str, ms: int | None) -> None:
    assert haproxy_ms(value) == ms, value


def _listener(cfg: str, name: str = "db") -> tuple[list[Section], Section]:
    sections = haproxy_sections(cfg)
    return sections, next(s for s in sections if s.name == name)


def _timing(cfg: str) -> CheckTiming:
    return check_timing(*_listener(cfg))


def test_a_server_without_check_options_has_haproxys_defaults() -> None:
    cfg = "listen db\n    bind :3306\n    server g1 g1:3306 check\n"
    assert _timing(cfg) == CheckTiming(inter_ms=2000, rise=2, fall=3)


def test_a_listener_without_servers_has_haproxys_defaults() -> None:
    assert _timing("listen db\n    bind :3306\n") == CheckTiming(inter_ms=2000, rise=2, fall=3)


@pytest.mark.parametrize(
    ("cfg", "timing"),
    [
        (  # on the server line, the last option at the line's end
            "listen db\n    server g1 g1:3306 check rise 4 fall 5 inter 500\n",
            CheckTiming(inter_ms=500, rise=4, fall=5),
        ),
        (  # the listener's default-server
            "listen db\n    default-server inter 1s rise 3 fall 2\n    server g1 g1:3306 check\n",
            CheckTiming(inter_ms=1000, rise=3, fall=2),
        ),
        (  # the defaults section's default-server
            "defaults\n    default-server inter 6000 rise 3 fall 2\n"
            "listen db\n    server g1 g1:3306 check\n",
            CheckTiming(inter_ms=6000, rise=3, fall=2),
        ),
        (  # the server's own line wins over every default-server
            "defaults\n    default-server inter 6000\n"
            "listen db\n    default-server inter 3000\n    server g1 g1:3306 check inter 500\n",
            CheckTiming(inter_ms=500, rise=2, fall=3),
        ),
        (  # the listener's default-server wins over the defaults section's
            "defaults\n    default-server fall 4\n"
            "listen db\n    default-server fall 2\n    server g1 g1:3306 check\n",
            CheckTiming(inter_ms=2000, rise=2, fall=2),
        ),
        (  # the last defaults section before the listener is in force, not a later one
            "defaults\n    default-server inter 100\ndefaults\n    default-server inter 200\n"
            "listen db\n    server g1 g1:3306 check\n"
            "defaults\n    default-server inter 300\n",
            CheckTiming(inter_ms=200, rise=2, fall=3),
        ),
        (  # an option without a value, or with one HAProxy would refuse: the default
            "listen db\n    server g1 g1:3306 check rise x inter\n",
            CheckTiming(inter_ms=2000, rise=2, fall=3),
        ),
    ],
    ids=["server-line", "listener", "defaults", "server-wins", "listener-wins", "last-defaults",
         "no-value"],
)  # fmt: skip
def test_a_servers_check_timing_comes_from_where_haproxy_takes_it(
    cfg: str, timing: CheckTiming
) -> None:
    assert _timing(cfg) == timing


@pytest.mark.parametrize(
    ("cfg", "down"),
    [
        (  # no timeout check: a check of a dead server may take the whole inter
            "listen db\n    timeout connect 1s\n    server g1 g1:3306 check inter 2000\n",
            MarkDown(CheckTiming(2000, 2, 3), 2000, False),
        ),
        (  # timeout check set: the connect is bounded by min(timeout connect, inter)
            "defaults\n    timeout connect 1s\n    timeout check 400ms\n"
            "listen db\n    server g1 g1:3306 check inter 2000\n",
            MarkDown(CheckTiming(2000, 2, 3), 1000, True),
        ),
        (  # a connect timeout longer than inter: inter bounds it
            "defaults\n    timeout connect 60s\n    timeout check 1s\n"
            "listen db\n    server g1 g1:3306 check inter 6000 fall 2\n",
            MarkDown(CheckTiming(6000, 2, 2), 6000, True),
        ),
        (  # timeout check but no connect value: inter
            "listen db\n    timeout check 1s\n    timeout connect\n"
            "    server g1 g1:3306 check inter 500\n",
            MarkDown(CheckTiming(500, 2, 3), 500, True),
        ),
    ],
    ids=["no-timeout-check", "connect-bounds", "inter-bounds", "connect-without-value"],
)
def test_how_long_a_dead_server_takes_to_be_marked_down(cfg: str, down: MarkDown) -> None:
    assert mark_down(*_listener(cfg)) == down


def test_mark_down_from_best_to_worst_case() -> None:
    """fall checks inter apart, each waiting check_ms; the first may start up to one inter
    after the death: OX's inter 6000 fall 2 without timeout check is 18-24 s."""
    down = MarkDown(CheckTiming(6000, 3, 2), 6000, False)
    assert (down.best_ms, down.worst_ms) == (18000, 24000)


@pytest.mark.parametrize(
    ("line", "host"),
    [
        ("server g1 g1:3306 check", "g1"),
        ("server g1 db1.example.net", "db1.example.net"),
        ("server g1 [2001:db8::1]:3306 check", "[2001:db8::1]"),
        ("server g1 g1:3306", "g1"),
        ("server g1", ""),  # no address: nothing to map
    ],
)
def test_a_servers_host_is_its_address_without_the_port(line: str, host: str) -> None:
    assert _server_host(line.split()) == host, line
