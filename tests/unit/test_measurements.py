"""The figures a chaos run reports (write gap, worst gap, longest stall, time to
recovery, errors per fault) on small synthetic histories, at their boundaries: they are
measured from completion times, an operation in flight across the fault counts where it
ends, a certification conflict is a working service, and unknown is never ok."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest

from lab.chaos.clients.workloads import InsertWorkload, Workload
from lab.chaos.history import CONFLICT, FINAL, Fault, History, Op, recovery_time
from lab.chaos.runner import longest_stall, measure, warmed_up, worst_gap, write_gap
from lab.infra.errors import StartupError
from lab.infra.waiting import poll

INF = float("inf")


@dataclass(frozen=True)
class Step:
    """One operation of a synthetic history (times in seconds since t0)."""

    start: float
    end: float
    outcome: str = "ok"
    node: str = "galera2"
    process: int = 0
    f: str = "insert"
    error: str = ""


def history(*ops: Step, clients: dict[int, str] | None = None) -> History:
    made = History(t0=0.0)
    for i, o in enumerate(ops):
        made.ops.append(Op(i, o.process, o.f, i, o.start, o.end, o.outcome, o.node, o.error))
    made.clients = clients or {}
    return made


# -- write gap: fault -> first write acknowledged by another node ------------------------


def test_write_gap_is_measured_to_the_first_acknowledgement_by_a_survivor() -> None:
    h = history(
        Step(0.0, 0.1, node="galera1"),
        Step(0.2, 0.3, "info", node=""),  # unknown: not a write that happened
        Step(0.4, 2.5, node="galera2"),
        Step(2.6, 2.7, "fail", node=""),
        Step(2.8, 4.0, node="galera2"),
    )
    assert write_gap(h, 0.15, "galera1") == pytest.approx(2.35), "unknown is not ok"


def test_write_gap_ignores_the_killed_nodes_last_acknowledgement() -> None:
    h = history(Step(0.9, 1.2, node="galera1"), Step(1.5, 3.0, node="galera2"))
    assert write_gap(h, 1.0, "galera1") == pytest.approx(2.0), (
        "a write the killed node acknowledged just after the kill is not service by a survivor"
    )


def test_a_write_in_flight_across_the_fault_counts_where_it_ends() -> None:
    h = history(Step(0.5, 1.7, node="galera2"), Step(1.8, 1.9, node="galera2"))
    assert write_gap(h, 1.0, "galera1") == pytest.approx(0.7), (
        "completion time, not invoke time: begun before the fault, acknowledged 0.7 s after"
    )


def test_write_gap_boundaries_at_the_fault_instant() -> None:
    h = history(Step(0.5, 1.0, node="galera2"), Step(1.1, 2.0, node="galera2"))
    assert write_gap(h, 1.0, "galera1") == pytest.approx(1.0), (
        "a write acknowledged exactly at the fault instant is before it"
    )


def test_write_gap_ignores_final_reads_unknown_nodes_and_other_client_kinds() -> None:
    h = history(
        Step(1.1, 1.2, node=""),  # node unknown: cannot say it was a survivor
        Step(1.1, 1.3, node="galera2", process=FINAL),
        Step(1.1, 1.4, node="galera2", process=2),
        Step(1.1, 3.0, node="galera3", process=1),
        clients={1: "ox-pool", 2: "aggressive"},
    )
    assert write_gap(h, 1.0, "galera1", "ox-pool") == pytest.approx(2.0)
    assert write_gap(h, 1.0, "galera1", "aggressive") == pytest.approx(0.4)
    assert write_gap(h, 1.0, "galera1") == pytest.approx(0.4), "any kind by default"


def test_no_write_after_the_fault_is_an_infinite_gap() -> None:
    h = history(Step(0.0, 0.5, node="galera2"), Step(1.0, 5.0, "fail", node="galera2"))
    assert write_gap(h, 1.0, "galera1") == INF


# -- worst gap: the unluckiest client's wait -----------------------------------------------


def test_the_worst_read_gap_is_the_unluckiest_readers() -> None:
    """Client 1 failed at 1.0 and read again at 4.0; client 2 never failed; client 3
    (another kind) is not counted: the worst gap of kind ox-pool is 4.0 - 0.5."""
    h = history(
        Step(0.0, 0.2, process=1, f="read"),
        Step(0.6, 1.0, "fail", process=1, f="read"),
        Step(1.1, 4.0, process=1, f="read"),
        Step(0.6, 0.8, process=2, f="read"),
        Step(0.6, 9.0, "fail", process=3, f="read"),
        clients={1: "ox-pool", 2: "ox-pool", 3: "aggressive"},
    )
    assert worst_gap(h, 0.5, "ox-pool", "read") == pytest.approx(3.5)
    assert worst_gap(h, 0.5, "aggressive", "read") == INF, "never read again"


def test_worst_gap_takes_the_maximum_over_clients() -> None:
    h = history(
        Step(1.0, 1.5, "fail", process=1, f="read"),
        Step(1.6, 2.0, process=1, f="read"),
        Step(1.0, 1.5, "info", process=2, f="read"),
        Step(1.6, 6.0, process=2, f="read"),
        clients={1: "ox-pool", 2: "ox-pool"},
    )
    assert worst_gap(h, 1.0, "ox-pool", "read") == pytest.approx(5.0)


def test_worst_gap_waits_for_an_ok_begun_after_the_first_failure() -> None:
    h = history(
        Step(0.9, 3.0, process=1, f="read"),  # in flight when the failure came: not "back"
        Step(1.0, 2.0, "fail", process=1, f="read"),
        Step(2.0, 4.0, process=1, f="read"),  # begun exactly at the failure's end: back
        clients={1: "ox-pool"},
    )
    assert worst_gap(h, 1.0, "ox-pool", "read") == pytest.approx(3.0)


def test_worst_gap_counts_a_failure_ending_exactly_at_the_fault() -> None:
    h = history(
        Step(0.5, 1.0, "fail", process=1, f="read"),
        Step(1.0, 2.5, process=1, f="read"),
        clients={1: "ox-pool"},
    )
    assert worst_gap(h, 1.0, "ox-pool", "read") == pytest.approx(1.5)
    before = history(
        Step(0.5, 0.99, "fail", process=1, f="read"),
        Step(1.0, 2.5, process=1, f="read"),
        clients={1: "ox-pool"},
    )
    assert worst_gap(before, 1.0, "ox-pool", "read") == 0.0, "a failure before the fault"


def test_worst_gap_is_per_kind_of_operation_and_ignores_conflicts() -> None:
    h = history(
        Step(1.0, 1.2, "fail", process=1, f="write"),
        Step(1.0, 1.2, "fail", process=1, f="read", error=f"{CONFLICT}deadlock"),
        Step(1.3, 9.0, process=1, f="read"),
        Step(1.3, 9.0, process=1, f="write"),
        clients={1: "ox-pool"},
    )
    assert worst_gap(h, 1.0, "ox-pool", "read") == 0.0, "a certification conflict is service"
    assert worst_gap(h, 1.0, "ox-pool", "write") == pytest.approx(8.0)


# -- longest stall ----------------------------------------------------------------------


def test_longest_stall_between_acknowledgements_and_the_window_edges() -> None:
    h = history(
        Step(0.0, 0.1),
        Step(0.2, 0.3, "info"),
        Step(0.4, 2.5),
        Step(2.6, 2.7, "fail"),
        Step(2.8, 4.0),
    )
    assert longest_stall(h, 0.05, 4.5) == pytest.approx(2.4)
    assert longest_stall(h, 0.0, 10.0) == pytest.approx(6.0), "to the window's end"
    assert longest_stall(h, 0.2, 2.0) == pytest.approx(1.8), "acks outside the window do not count"


def test_longest_stall_with_no_acknowledgement_is_the_whole_window() -> None:
    h = history(Step(1.0, 2.0, "info"), Step(1.0, 2.0, "fail"))
    assert longest_stall(h, 1.0, 4.0) == pytest.approx(3.0)


def test_longest_stall_uses_completion_not_invoke_time() -> None:
    h = history(Step(2.0, 5.0), Step(5.5, 6.0))
    assert longest_stall(h, 1.0, 6.0) == pytest.approx(4.0), (
        "an operation begun at 2.0 and acknowledged at 5.0 ends the stall at 5.0"
    )


# -- recovery time ----------------------------------------------------------------------


def test_recovery_is_zero_when_no_client_noticed() -> None:
    h = history(Step(0.0, 0.5, "fail"), Step(1.0, 1.1), Step(2.0, 2.1))
    assert recovery_time(h, Fault("kill", "galera1", 1.0, 2.0)) == 0.0, (
        "a failure that ended before the fault is not the fault's"
    )


def test_recovery_is_the_end_of_the_first_ok_begun_after_the_first_failure() -> None:
    h = history(
        Step(0.8, 2.2),  # in flight when the failure was seen: not recovery
        Step(1.0, 2.0, "fail"),
        Step(2.5, 4.0),
        Step(2.0, 3.5),  # begun exactly when the failure was seen: the earliest end wins
    )
    assert recovery_time(h, Fault("kill", "galera1", 1.0, 3.0)) == pytest.approx(2.5)


def test_recovery_counts_a_failure_ending_at_the_fault_start() -> None:
    h = history(Step(0.5, 1.0, "info"), Step(1.0, 1.5))
    assert recovery_time(h, Fault("kill", "galera1", 1.0, 3.0)) == pytest.approx(0.5)


def test_certification_conflicts_are_not_outages() -> None:
    h = history(Step(1.0, 1.2, "fail", error=f"{CONFLICT}1213 deadlock"), Step(1.3, 1.4))
    assert recovery_time(h, Fault("kill", "galera1", 1.0, 3.0)) == 0.0


def test_recovery_never_came_back_is_none_and_kinds_filter() -> None:
    h = history(Step(1.0, 2.0, "fail", f="insert"), Step(2.5, 3.0, f="read"))
    fault = Fault("kill", "galera1", 1.0, 3.0)
    assert recovery_time(h, fault, "insert") is None
    assert recovery_time(h, fault, "read") == 0.0
    assert recovery_time(h, fault) == pytest.approx(2.0)


# -- per-fault rows ---------------------------------------------------------------------


def test_measure_counts_errors_and_unknowns_until_recovery_or_heal() -> None:
    h = history(
        Step(0.0, 0.9, "fail", error="before the fault"),
        Step(1.0, 1.5, "fail", error="2013 Lost connection"),
        Step(1.0, 2.0, "info", error="timeout"),
        Step(2.0, 2.5),  # recovery at 1.5 s
        Step(2.6, 2.9, "fail", error="2013 Lost connection"),  # still before the heal at 3.0
        Step(3.0, 3.0, "fail", error="at the heal"),  # the window's closed end
        Step(3.1, 3.5, "fail", error="after the heal"),
    )
    h.faults.append(Fault("kill", "galera1", 1.0, 3.0))
    [row] = measure(h)
    assert row["client"] == "client", "one kind of client: one row"
    assert row["recovery_s"] == pytest.approx(1.5)
    assert (row["errors"], row["unknown"]) == (3, 1), row
    assert row["top_errors"][0] == "2x 2013 Lost connection", row["top_errors"]
    assert row["healed_s"] == pytest.approx(3.0)


def test_measure_window_extends_to_a_recovery_after_the_heal() -> None:
    h = history(Step(1.0, 1.5, "fail"), Step(3.5, 3.6, "fail"), Step(4.0, 5.0))
    h.faults.append(Fault("kill", "galera1", 1.0, 2.0))
    [row] = measure(h)
    assert row["recovery_s"] == pytest.approx(4.0)
    assert row["errors"] == 2, "errors until service came back, past the heal"


def test_measure_gives_one_row_per_client_kind() -> None:
    h = history(
        Step(1.0, 1.5, "fail", process=1),
        Step(1.6, 2.0, process=1),
        Step(1.0, 4.0, "fail", process=2),
        Step(4.0, 4.5, process=2),
        Step(5.0, 5.1, process=FINAL),
        clients={1: "ox-pool", 2: "aggressive"},
    )
    h.faults.append(Fault("kill", "galera1", 1.0, 2.0))
    rows = {row["client"]: row for row in measure(h)}
    assert set(rows) == {"ox-pool", "aggressive"}, "the final read is nobody's client"
    assert rows["ox-pool"]["recovery_s"] == pytest.approx(1.0)
    assert rows["aggressive"]["recovery_s"] == pytest.approx(3.5)


class FakeCursor:
    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, args: Any = None) -> None:
        return None

    def fetchone(self) -> tuple[str]:
        return ("galera2",)


class FakeConnection:
    def cursor(self) -> FakeCursor:
        return FakeCursor()


class FakePool:
    def acquire(self) -> FakeConnection:
        return FakeConnection()

    def release(self, conn: object, reusable: bool) -> None:
        return None


class FakeFront:
    ip = "192.0.2.1"


# -- warm-up: enough acknowledged before any fault -----------------------------------------


def test_warm_up_passes_at_exactly_the_number_asked_for() -> None:
    warmed_up(history(Step(0, 1), Step(0, 2)), 2, timeout=0, what="inserts to get going")


def test_a_warm_up_that_never_gets_there_says_what_the_clients_saw() -> None:
    stuck = history(
        Step(0, 1),
        Step(0, 2, "fail", error="WSREP has not yet prepared node for application use"),
        Step(0, 3, "fail", error="WSREP has not yet prepared node for application use"),
        Step(0, 4, "info", error="Lost connection to MySQL server during query"),
    )
    with pytest.raises(StartupError) as raised:
        warmed_up(stuck, 2, timeout=0, what="the pools to get going")
    message = str(raised.value)
    assert "1 of 2 operations acknowledged" in message, message
    assert "3 failed" in message, "both failures and the unknown outcome are counted"
    assert message.index("2x WSREP") < message.index("1x Lost"), "most common error first"


def test_a_warm_up_that_never_gets_there_says_what_the_cluster_was_doing() -> None:
    """Before any fault either the cluster or the host let the clients down: the message
    carries the cluster's state at the moment the wait gave up, and only then."""
    asked: list[bool] = []

    def state() -> str:
        asked.append(True)
        return "the lab: galera1 wsrep_cluster_status is non-Primary"

    warmed_up(history(Step(0, 1)), 1, timeout=0, what="inserts to get going", state=state)
    assert not asked, "a warm-up that got there does not ask the cluster"
    with pytest.raises(StartupError) as raised:
        warmed_up(history(Step(0, 1)), 2, timeout=0, what="inserts to get going", state=state)
    assert str(raised.value).endswith("; the lab: galera1 wsrep_cluster_status is non-Primary")


def test_a_paced_client_waits_out_its_pace_after_each_acknowledgement() -> None:
    """The reconnect storm's clients write at most every pace_s: 100 connections flat out
    starve a 2-core host's Galera of CPU before any fault."""
    workload = InsertWorkload(FakeFront(), clients=1)
    workload.pace_s = 0.2
    workload.execute = lambda cur, f, value: value  # type: ignore[method-assign]
    with mock.patch.object(Workload, "pool", lambda self: FakePool()):
        with workload.running():
            poll(lambda: workload.acked() >= 3, timeout=5, what="three paced inserts")
    starts = [op.start for op in workload.history.ops if op.outcome == "ok"]
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(starts)), (
        f"operations began {starts}: closer than the 0.2 s pace"
    )


def test_a_measurement_row_exactly_as_the_report_prints_it() -> None:
    """Every field of a row: names, times to the millisecond, the error window closed at
    the fault's start too, the three most common errors cut at 60 characters."""
    long = "E" * 70
    h = history(
        Step(0.0, 1.0001, "fail", error="at the start"),  # ends exactly at the fault
        Step(1.1, 1.2, "fail", error=long),
        Step(1.2, 1.3, "fail", error=long),
        Step(1.3, 1.4, "fail", error="b"),
        Step(1.4, 1.5, "fail", error="c"),
        Step(1.5, 1.6, "info", error="c"),
        Step(2.0, 2.34567),
    )
    h.faults.append(Fault("pause", "galera3", 1.0001, 2.00049))
    [row] = measure(h)
    assert row == {
        "client": "client",
        "fault": "pause",
        "target": "galera3",
        "start_s": 1.0,
        "healed_s": 2.0,
        "recovery_s": 1.346,
        "errors": 5,
        "unknown": 1,
        "top_errors": [f"2x {'E' * 60}", "2x c", "1x at the start"],
    }, row


def test_a_fault_never_healed_and_never_recovered_has_no_times() -> None:
    h = history(Step(1.0, 1.5, "fail", error="x"))
    h.faults.append(Fault("kill", "galera1", 1.0))
    [row] = measure(h)
    assert (row["healed_s"], row["recovery_s"]) == (None, None), row


def test_per_kind_rows_keep_the_faults_of_the_whole_run() -> None:
    h = history(
        Step(1.0, 1.5, "fail", process=1, error="x"),
        Step(2.0, 2.5, process=1),
        Step(0.0, 0.5, process=2),
        clients={1: "ox-pool", 2: "aggressive"},
    )
    h.faults += [Fault("kill", "galera1", 1.0, 2.0), Fault("kill", "galera2", 3.0, 4.0)]
    rows = measure(h)
    assert [(r["client"], r["target"]) for r in rows] == [
        ("aggressive", "galera1"),
        ("ox-pool", "galera1"),
        ("aggressive", "galera2"),
        ("ox-pool", "galera2"),
    ], rows
    assert rows[1]["recovery_s"] == pytest.approx(1.5) and rows[0]["recovery_s"] == 0.0


def test_worst_gap_looks_at_every_client_not_only_the_first_that_noticed_nothing() -> None:
    """Client 0 saw no failure; client 1 behind it in the scan did."""
    h = history(
        Step(1.0, 1.2, process=0, f="read"),
        Step(1.0, 2.0, "fail", process=1, f="read"),
        Step(2.0, 3.5, process=1, f="read"),
        clients={0: "ox-pool", 1: "ox-pool"},
    )
    assert worst_gap(h, 1.0, "ox-pool", "read") == pytest.approx(2.5)


def test_a_final_read_is_nobodys_recovery() -> None:
    """The final read is made once the lab has healed: a client that never got service
    back has no recovery time, even when the final read succeeded (one kind of client
    or several)."""
    for clients in ({0: "ox-pool"}, {0: "ox-pool", 1: "aggressive"}, {}):
        h = history(
            Step(1.0, 1.5, "fail", process=0, error="x"),
            Step(0.0, 0.2, process=1),
            Step(9.0, 9.1, process=FINAL),
            clients=clients,
        )
        h.faults.append(Fault("kill", "galera1", 1.0, 2.0))
        rows = {row["client"]: row for row in measure(h)}
        mine = rows["ox-pool" if clients else "client"]
        assert mine["recovery_s"] is None, (clients, mine)
