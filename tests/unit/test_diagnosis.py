"""A Galera start that fails is told in one line with the log lines that show why: the
excerpt is what an operator reads first, so its size and form are part of the answer."""

from __future__ import annotations

import pytest

from lab.roles.db.diagnosis import FATAL, diagnose

PROVIDER = "0 [ERROR] WSREP: wsrep_load(): dlopen(): /usr/lib/galera/nope{}.so: cannot open"


def test_the_excerpt_of_a_known_failure_is_its_last_four_lines_each_named_by_node() -> None:
    """Five matching lines: the first is dropped (the newest tell the story), each line
    stripped and prefixed with its node, one per line."""
    log = "\n".join(f"  {PROVIDER.format(i)}  " for i in range(5))
    reason, excerpt = diagnose({"galera2": log})
    assert "wrong wsrep_provider path" in reason
    assert excerpt == "\n".join(f"galera2: {PROVIDER.format(i)}" for i in range(1, 5)), excerpt


def test_four_matching_lines_are_all_kept() -> None:
    log = "\n".join(PROVIDER.format(i) for i in range(4))
    _, excerpt = diagnose({"galera1": log})
    assert excerpt.count("galera1: ") == 4 and "nope0.so" in excerpt, excerpt


def test_the_first_node_with_a_known_failure_is_quoted_alone() -> None:
    """The failing node's own log comes first; a second node with the same failure does
    not crowd it out."""
    _, excerpt = diagnose({"galera1": PROVIDER.format(1), "galera2": PROVIDER.format(2)})
    assert excerpt == f"galera1: {PROVIDER.format(1)}", excerpt


def test_an_unknown_failure_quotes_the_last_six_error_lines_of_every_node() -> None:
    logs = {
        "galera1": "\n".join(f"[ERROR] first node {i}" for i in range(4)) + "\nquiet line",
        "galera2": "\n".join(f" [ERROR] second node {i} " for i in range(4)),
    }
    reason, excerpt = diagnose(logs)
    assert reason == "the server stopped during startup"
    assert excerpt.splitlines() == [
        "galera1: [ERROR] first node 2",
        "galera1: [ERROR] first node 3",
        *(f"galera2: [ERROR] second node {i}" for i in range(4)),
    ], "the newest six error lines, stripped, in log order; lines without an error left out"


def test_without_any_error_line_the_excerpt_is_empty_not_a_guess() -> None:
    assert diagnose({"galera1": "starting\nready"}) == ("the server stopped during startup", "")


@pytest.mark.parametrize(
    ("line", "fatal"),
    [
        ("WSREP: gcs/src/gcs.cpp: unrecoverable condition", True),
        ("WSREP: ReplicatorSMM::abort() called", True),
        ("2026 0 [ERROR] Aborting", True),
        ("2026 0 [error] aborting", True),  # any case
        ("WSREP: Failed to initialize backend", True),
        ("[Warning] Aborted connection 17 to db", False),  # a client went away: not fatal
        ("[ERROR] WSREP: failed to open gcomm backend", False),  # retried, then diagnosed
    ],
)
def test_a_server_that_logged_a_fatal_line_is_not_waited_for(line: str, fatal: bool) -> None:
    assert bool(FATAL.search(line)) == fatal, line
