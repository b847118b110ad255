"""What `lab status` says about a node that does not answer: HAProxy's verdict on it,
in the same cell, and the reason Docker gives in words."""

from __future__ import annotations

from lab.infra.nodes import docker_epoch, seconds_since
from lab.roles.dblb.front import Backend
from lab.roles.status import haproxy_verdicts, with_haproxy_verdicts


def backend(listener: str, server: str, status: str) -> Backend:
    return Backend(listener, server, status, "L4TOUT", False, 0)


def test_one_verdict_when_every_listener_agrees_else_per_listener() -> None:
    verdicts = haproxy_verdicts(
        [
            backend("db-write", "galera1", "DOWN"),
            backend("db-read", "galera1", "DOWN"),
            backend("db-write", "galera2", "UP"),
            backend("db-read", "galera2", "DOWN 1/2"),
        ]
    )
    assert verdicts["galera1"] == "HAProxy marked it DOWN"
    assert verdicts["galera2"] == "HAProxy: db-write UP, db-read DOWN 1/2"


def test_only_rows_of_nodes_that_do_not_answer_get_the_verdict() -> None:
    rows = [
        {"node": "galera1", "error": "container not running (killed 4 s ago)"},
        {"node": "galera2", "error": ""},
    ]
    out = with_haproxy_verdicts(rows, "error", {"galera1": "HAProxy marked it DOWN"})
    assert out[0]["error"] == "container not running (killed 4 s ago); HAProxy marked it DOWN"
    assert out[1]["error"] == ""


def test_docker_timestamps_are_host_time_and_zero_time_is_never() -> None:
    assert docker_epoch("2026-12-02T03:50:22.500000000Z") == 1796183422.5
    assert docker_epoch("0001-01-01T00:00:00Z") is None
    assert seconds_since("garbage") is None
