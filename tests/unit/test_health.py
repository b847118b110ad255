"""The one health check (lab/roles/health.py) that both the lab's containers and the
operator's hosts are judged by: each of the guide's expectations at its edge, HAProxy's
statuses that are not UP, and a wait that outlasts a passing state but names a lasting one."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from lab.roles.health import Unhealthy, servers_not_up, wait_healthy, wsrep_problems

SYNCED = {
    "wsrep_local_state_comment": "Synced",
    "wsrep_local_state": "4",
    "wsrep_cluster_status": "Primary",
    "wsrep_cluster_size": "3",
    "wsrep_ready": "ON",
    "wsrep_connected": "ON",
}


def test_a_synced_primary_node_of_the_whole_cluster_has_no_problem() -> None:
    assert wsrep_problems(SYNCED, 3) == []
    assert wsrep_problems(SYNCED, 3, clusters=1) == [], "one cluster state UUID is one cluster"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("wsrep_local_state_comment", "Donor/Desynced", "Donor/Desynced, not Synced"),
        ("wsrep_local_state_comment", "synced", "synced, not Synced"),
        ("wsrep_cluster_status", "non-Primary", "non-Primary, not Primary"),
        ("wsrep_cluster_size", "2", "wsrep_cluster_size is 2, the cluster has 3 nodes"),
        ("wsrep_cluster_size", "4", "wsrep_cluster_size is 4"),
        ("wsrep_ready", "OFF", "wsrep_ready is OFF"),
        ("wsrep_connected", "OFF", "wsrep_connected is OFF"),
    ],
)
def test_each_expectation_of_the_guides_table_is_a_problem_naming_it(
    key: str, value: str, problem: str
) -> None:
    problems = wsrep_problems({**SYNCED, key: value}, 3)
    assert len(problems) == 1 and problem in problems[0], problems


@pytest.mark.parametrize(
    ("missing", "problem"),
    [
        ("wsrep_local_state_comment", "wsrep_local_state_comment is ?, not Synced"),
        ("wsrep_cluster_status", "wsrep_cluster_status is ?, not Primary"),
        ("wsrep_cluster_size", "wsrep_cluster_size is ?, the cluster has 3 nodes"),
        ("wsrep_ready", "wsrep_ready is ?"),
        ("wsrep_connected", "wsrep_connected is ?"),
    ],
)
def test_a_missing_variable_is_a_problem_not_a_pass(missing: str, problem: str) -> None:
    """A node that does not report a variable (a server without wsrep, an older provider)
    is not healthy by default: the problem says the value is unknown."""
    status = {k: v for k, v in SYNCED.items() if k != missing}
    assert wsrep_problems(status, 3) == [problem]


def test_two_cluster_state_uuids_are_a_split_cluster() -> None:
    assert wsrep_problems(SYNCED, 3, clusters=2) == [
        "the nodes report 2 different cluster state UUIDs"
    ]


def test_every_status_but_up_is_not_up() -> None:
    rows = [
        ("db-write", "galera1", "UP"),
        ("db-read", "galera2", "DOWN 1/2"),
        ("db-read", "galera3", "UP 1/3"),
        ("db-read", "galera1", "MAINT"),
        ("db-write", "galera2", "no check"),
        ("db-write", "galera3", "DOWN"),
    ]
    assert servers_not_up(rows) == [
        "db-read/galera2 DOWN 1/2",
        "db-read/galera3 UP 1/3",
        "db-read/galera1 MAINT",
        "db-write/galera2 no check",
        "db-write/galera3 DOWN",
    ]
    assert servers_not_up([("db-write", "galera1", "UP")]) == []


def test_a_passing_state_is_waited_out() -> None:
    answers = iter([["db-read/galera2 DOWN 1/2"], ["db-read/galera2 DOWN 1/2"], []])
    wait_healthy(lambda: next(answers), timeout=5, what="healthy")
    assert next(answers, "drained") == "drained", "polled until the problems were gone"


def test_every_lasting_problem_is_named_when_the_wait_ends() -> None:
    problems = ["galera2: wsrep_ready is OFF", "db-read/galera2 DOWN"]
    with pytest.raises(Unhealthy) as raised:
        wait_healthy(lambda: problems, timeout=0.5, what="the lab")
    assert str(raised.value).endswith(": galera2: wsrep_ready is OFF; db-read/galera2 DOWN")


def test_a_lasting_problem_is_named_when_the_wait_ends() -> None:
    with pytest.raises(Unhealthy, match=r"waiting for the lab: galera2: wsrep_ready is OFF$"):
        wait_healthy(lambda: ["galera2: wsrep_ready is OFF"], timeout=0.5, what="the lab")


def test_health_seen_before_not_before_does_not_count() -> None:
    """A cluster that looks healthy right after a heal, and splits once a thawed member's
    eviction window runs out, must not pass the settle: only health seen from
    not_before on counts."""
    start = time.monotonic()
    not_before = start + 0.6
    seen: list[float] = []

    def problems() -> list[str]:
        now = time.monotonic()
        seen.append(now)
        return ["galera2: wsrep_cluster_status is non-Primary"] if now > start + 0.3 else []

    with pytest.raises(Unhealthy, match="non-Primary"):
        wait_healthy(problems, timeout=1.5, what="the lab", not_before=not_before)
    assert seen[0] < not_before, "the first look was healthy, before the window ended"


def test_health_at_not_before_passes() -> None:
    not_before = time.monotonic() + 0.4
    wait_healthy(lambda: [], timeout=2, what="the lab", not_before=not_before)
    assert time.monotonic() >= not_before, "returned only once the window was over"


def test_a_window_longer_than_the_wait_says_so() -> None:
    with pytest.raises(Unhealthy) as raised:
        wait_healthy(lambda: [], timeout=0.3, what="the lab", not_before=time.monotonic() + 60)
    assert str(raised.value) == (
        "timed out after 0s waiting for the lab: "
        "healthy, but not yet past the eviction window of the heal"
    ), raised.value


def test_health_seen_at_the_very_moment_the_window_ends_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """not_before is inclusive: a clock reading exactly the window's end passes."""
    from lab.roles import health

    monkeypatch.setattr(health, "time", SimpleNamespace(monotonic=lambda: 500.0))
    wait_healthy(lambda: [], timeout=0.3, what="the lab", not_before=500.0)


def test_a_run_settles_past_the_eviction_window_of_its_last_heal() -> None:
    from lab.chaos.history import History
    from lab.chaos.runner import SETTLE_TIMEOUT_S, settle

    waits: list[dict[str, float]] = []
    lab = SimpleNamespace(
        plan=SimpleNamespace(profile=SimpleNamespace(eviction_s=6.0)),
        wait_healthy=lambda **kw: waits.append(kw),
    )
    history = History()
    settle(lab, history)  # type: ignore[arg-type]
    settle(lab)  # type: ignore[arg-type]
    assert waits == [{"timeout": SETTLE_TIMEOUT_S, "not_before": 0.0}] * 2, "no heal: no window"
    first, second = history.fault("pause", "galera1"), history.fault("kill", "galera2")
    history.healed(second)
    history.healed(first)  # the later heal is the one the window runs from
    assert history.last_heal() == history.t0 + (first.end or 0)
    settle(lab, history)  # type: ignore[arg-type]
    assert waits[-1]["not_before"] == history.t0 + (first.end or 0) + 6.0
