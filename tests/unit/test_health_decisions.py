"""clustercheck's and replcheck's decisions against a table of states: every combination
of what the server can report, judged by a reference written from the documentation
(Percona's clustercheck: Synced, or Donor/Desynced with AVAILABLE_WHEN_DONOR=1;
wsrep_ready ON; a Primary component; wsrep_reject_queries NONE; read_only only with
AVAILABLE_WHEN_READONLY=1; the drain file; the guide's replication check: both threads
running, lag within the limit, pt-heartbeat's lag over Seconds_Behind_Master). HAProxy
acts on the status code alone, so one wrong cell is a node in rotation that must not be,
or one taken out that is fine; every failure must also be named in the body."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.budget import examples
from tests.unit.image_scripts import load_image_script

cc = load_image_script("clustercheck")
rc = load_image_script("replcheck")

MISSING = None  # the variable absent from the server's answer
STATES = ["1", "2", "3", "4", "5", "", MISSING]
READY = ["ON", "OFF", MISSING]
CLUSTER = ["Primary", "non-Primary", "Disconnected", MISSING]
REJECT = ["NONE", "ALL", "ALL_KILL", MISSING]
READ_ONLY = ["ON", "OFF", MISSING]


def agrees(verdict: object, failed: set[str]) -> bool:
    """The verdict is the reference's: available exactly when nothing failed, and its
    body names each failed condition once."""
    available: bool = verdict.available  # type: ignore[attr-defined]
    failures: list[str] = verdict.failures  # type: ignore[attr-defined]
    named = {f for f in failed if any(f in line for line in failures)}
    return available == (not failed) and named == failed and len(failures) == len(failed)


def _present(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def clustercheck_reference(
    state: str | None,
    ready: str | None,
    cluster: str | None,
    reject: str | None,
    read_only: str | None,
    donor_ok: bool,
    readonly_ok: bool,
    drained: bool,
) -> set[str]:
    """Which conditions fail, per the documentation (an empty set: available)."""
    failed = set()
    if drained:
        failed.add("drained")
    if not (state == "4" or (state == "2" and donor_ok)):
        failed.add("wsrep_local_state")
    if ready != "ON":
        failed.add("wsrep_ready")
    if cluster != "Primary":
        failed.add("wsrep_cluster_status")
    if reject not in ("NONE", MISSING):
        failed.add("wsrep_reject_queries")
    if read_only == "ON" and not readonly_ok:
        failed.add("read_only")
    return failed


@pytest.mark.parametrize(
    ("donor_ok", "readonly_ok", "drained"), list(itertools.product([False, True], repeat=3))
)
def test_clustercheck_decides_every_state_as_documented(
    donor_ok: bool, readonly_ok: bool, drained: bool
) -> None:
    opts = cc.Options(available_when_donor=donor_ok, available_when_readonly=readonly_ok)
    wrong = []
    for state, ready, cluster, reject, read_only in itertools.product(
        STATES, READY, CLUSTER, REJECT, READ_ONLY
    ):
        status = _present(wsrep_local_state=state, wsrep_ready=ready, wsrep_cluster_status=cluster)
        variables = _present(
            wsrep_reject_queries=reject, read_only=read_only, wsrep_node_name="galera2"
        )
        verdict = cc.evaluate(status, variables, opts, drained)
        failed = clustercheck_reference(
            state, ready, cluster, reject, read_only, donor_ok, readonly_ok, drained
        )
        if not agrees(verdict, failed):
            wrong.append((state, ready, cluster, reject, read_only, verdict.failures, failed))
    assert not wrong, f"{len(wrong)} states decided otherwise than documented, e.g. {wrong[:3]}"


@given(drained=st.booleans(), error=st.text(max_size=20))
def test_clustercheck_without_an_answer_is_never_available(drained: bool, error: str) -> None:
    for status, variables in (
        (None, None),
        (None, {"read_only": "OFF"}),
        ({"wsrep_local_state": "4"}, None),
    ):
        verdict = cc.evaluate(status, variables, cc.Options(node_name="g"), drained, error)
        assert not verdict.available and "cannot query mysqld" in verdict.failures[-1]
        assert ("drained" in verdict.failures[0]) == drained
        assert verdict.node == "g", "no answer: the node is named by its host name"


THREADS = ["Yes", "No", "Connecting", "Preparing", "", MISSING]
LAGS = ["0", "5", "9", "10", "11", "120", "NULL", "", MISSING]
HEARTBEATS = [None, 0.0, 9.99, 10.0, 10.01, 300.0]


def replcheck_reference(
    io: str | None, sql: str | None, lag: str | None, heartbeat: float | None, limit: float
) -> set[str]:
    failed = set()
    # an IO thread retrying a master that is gone is judged by the heartbeat's age alone
    if io != "Yes" and not (io in ("Connecting", "Preparing") and heartbeat is not None):
        failed.add("IO thread")
    if sql != "Yes":
        failed.add("SQL thread")
    if heartbeat is not None:
        if heartbeat > limit:
            failed.add("lagging")
    elif lag in ("", "NULL", MISSING):
        if io == "Yes" and sql == "Yes":
            failed.add("unknown")
    elif float(lag) > limit:
        failed.add("lagging")
    return failed


@pytest.mark.parametrize("names", ["Slave", "Replica"])
def test_replcheck_decides_every_replica_state_as_documented(names: str) -> None:
    """MariaDB and MySQL before 8.4 say Slave_*/Seconds_Behind_Master, MySQL 8.4 and
    later Replica_*/Seconds_Behind_Source: the same decisions under both."""
    opts = rc.Options(max_lag_s=10.0)
    lag_column = "Seconds_Behind_Master" if names == "Slave" else "Seconds_Behind_Source"
    wrong = []
    for io, sql, lag, heartbeat in itertools.product(THREADS, THREADS, LAGS, HEARTBEATS):
        replica = _present(
            **{f"{names}_IO_Running": io, f"{names}_SQL_Running": sql, lag_column: lag}
        )
        verdict = rc.evaluate(replica, "ON", opts, heartbeat_s=heartbeat)
        failed = replcheck_reference(io, sql, lag, heartbeat, opts.max_lag_s)
        if not agrees(verdict, failed):
            wrong.append((io, sql, lag, heartbeat, verdict.failures, failed))
    assert not wrong, f"{len(wrong)} states decided otherwise than documented, e.g. {wrong[:3]}"


@pytest.mark.parametrize(
    ("replica", "read_only", "want", "ok"),
    [
        (None, "OFF", "", True),
        (None, "0", "master", True),
        (None, "ON", "", False),  # a master that cannot take writes
        (None, "on", "", False),
        (None, "1", "master", False),
        (None, "OFF", "replica", False),  # asked for a replica, is a master
        ({"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes", "Seconds_Behind_Master": "0"},
         "ON", "master", False),
        ({"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes", "Seconds_Behind_Master": "0"},
         "ON", "replica", True),
        (None, None, "", False),  # no answer
    ],
)  # fmt: skip
def test_replcheck_roles(
    replica: dict[str, str] | None, read_only: str | None, want: str, ok: bool
) -> None:
    verdict = rc.evaluate(replica, read_only, rc.Options(max_lag_s=10.0), want)
    assert verdict.available == ok, verdict.failures


@settings(max_examples=examples(100), deadline=None)
@given(me=st.text(min_size=1, max_size=8), peers=st.lists(st.text(min_size=1, max_size=8)))
def test_exactly_one_healthy_node_is_the_writer(me: str, peers: list[str]) -> None:
    """/master: among distinct healthy nodes, the one whose name sorts first, and only it."""
    nodes = sorted({me, *peers})
    writers = [n for n in nodes if cc.is_master(n, [p for p in nodes if p != n])]
    assert writers == [nodes[0]], (nodes, writers)
