"""Which haproxy.cfg section takes a port's connections, as HAProxy decides it: a listen
that binds it, or a frontend that binds it and hands it to its default_backend. The
lab's names for the listeners and lint's rules both read servers from there, so a wrong
section is a whole haproxy.cfg judged by the wrong servers."""

from __future__ import annotations

import pytest

from lab.operator.parsers import Section, binds, haproxy_sections, servers_for_port

SPLIT = """\
frontend fe_write
    bind :3306
    default_backend be_write
backend be_other
    server x galera9:3306
backend be_write
    option httpchk
    server g1 galera1:3306 check
listen reads
    bind :3307
    server g2 galera2:3306
frontend fe_plain
    bind :3308
"""


def test_a_frontend_hands_its_port_to_its_default_backend() -> None:
    """The backend's servers, with the frontend's lines in front of its own (a frontend
    setting applies to what it sends there)."""
    found = servers_for_port(haproxy_sections(SPLIT), "3306")
    assert found == Section(
        "backend",
        "be_write",
        6,
        [
            (2, ["bind", ":3306"]),
            (3, ["default_backend", "be_write"]),
            (7, ["option", "httpchk"]),
            (8, ["server", "g1", "galera1:3306", "check"]),
        ],
    )


def test_a_listen_takes_its_own_port_and_a_frontend_without_backend_is_itself() -> None:
    sections = haproxy_sections(SPLIT)
    assert servers_for_port(sections, "3307") is sections[3]
    assert servers_for_port(sections, "3308") is sections[4]
    assert servers_for_port(sections, "3309") is None


def test_a_backend_that_binds_is_not_a_listener() -> None:
    """Only listen and frontend sections accept connections; `bind` in a backend is an
    error HAProxy refuses, not a listener."""
    sections = haproxy_sections("backend b\n    bind :3306\n    server a galera1:3306\n")
    assert servers_for_port(sections, "3306") is None


def _section(*binds_: str) -> Section:
    return Section("listen", "x", 1, [(i + 2, b.split()) for i, b in enumerate(binds_)])


@pytest.mark.parametrize(
    ("lines", "listens"),
    [
        (["bind :3306"], True),
        (["bind 10.0.0.1:3306"], True),
        (["bind :::3306"], True),  # IPv6 any: the port after the last colon
        (["bind :3300-3310"], True),  # a range
        (["bind :3307-3310"], False),
        (["bind :3305,:3306"], True),  # a comma list
        (["bind unix@/run/x.sock", "bind :3306"], True),  # a socket beside the port
        (["bind unix@/run/x.sock"], False),
        (["bind"], False),  # no address at all
        (["bind :abc"], False),
        (["bind :abc-3306"], False),  # not a range HAProxy takes
        (["bind :3306-abc"], False),
    ],
)
def test_bind_lines_as_haproxy_reads_them(lines: list[str], listens: bool) -> None:
    assert binds(_section(*lines), "3306") is listens, lines


def test_comments_end_a_line_at_the_first_hash_and_a_section_may_be_nameless() -> None:
    [defaults] = haproxy_sections("defaults # the lab's\n    timeout connect 5s # was 10s # 2024\n")
    assert (defaults.kind, defaults.name, defaults.line) == ("defaults", "", 1)
    assert defaults.lines == [(2, ["timeout", "connect", "5s"])]


def test_apache_continuation_lines_join_and_a_last_backslash_does_not_reach_past_the_end() -> None:
    from lab.operator.parsers import apache_directives

    [joined] = apache_directives("ServerAlias a \\\n    b\n")
    assert (joined.name, joined.args, joined.line) == ("serveralias", ("a", "b"), 1)
    [last] = apache_directives("ServerAlias a \\")
    assert last.name == "serveralias" and last.args[0] == "a"


def test_a_listen_with_a_default_backend_hands_its_port_there_too() -> None:
    """default_backend is valid in a listen section as in a frontend (HAProxy's manual,
    "default_backend": sections frontend, listen)."""
    text = "listen w\n    bind :3306\n    default_backend b\nbackend b\n    server a galera1:3306\n"
    found = servers_for_port(haproxy_sections(text), "3306")
    assert found is not None and (found.kind, found.name) == ("backend", "b")


def test_apache_comments_and_unbalanced_quotes() -> None:
    from lab.operator.parsers import apache_directives

    found = apache_directives('# ServerName commented\nServerAlias a\\\n  b\n<Location "/x>\n')
    assert [(d.name, d.args) for d in found] == [
        ("serveralias", ("a", "b")),
        ("location", ('"/x',)),
    ]
