"""sysbench's per-second reports read back into a gap: the parser and the estimate
operators compare with the lab's own clients."""

from __future__ import annotations

import pytest

from lab.chaos.clients.sysbench import parse

STEADY = "thds: 4 tps: 400.00 qps: 2400.00 (r/w/o: 0.00/1600.00/800.00) lat (ms,95%): 12.00"


def line(at: float, tps: float, err: float = 0.0) -> str:
    body = STEADY.replace("tps: 400.00", f"tps: {tps:.2f}")
    return f"{at:.6f} [ 1s ] {body} err/s: {err:.2f} reconn/s: 0.00"


def test_reports_exits_and_fatal_errors_are_read() -> None:
    log = "\n".join(
        [
            line(100.0, 400),
            "101.2 FATAL: mysql_stmt_execute() returned error 2013 (Lost connection)",
            "101.3 oxlab: sysbench exited 1",
            line(103.0, 400, err=2),
        ]
    )
    run = parse(log, "oltp_write_only", "write listener :3306", 4)
    assert [s.at for s in run.seconds] == [100.0, 103.0]
    assert run.exits == [(101.3, 1)] and run.fatal[0].startswith("FATAL: mysql_stmt_execute")
    assert run.seconds[1].errors == 2.0


def test_gap_runs_from_the_fault_to_when_it_committed_again() -> None:
    """Killed at 101.0; restarted at 101.3; the second ending 104.0 ran at half the
    steady rate: committing from 103.5 on, a gap of 2.5 s."""
    log = "\n".join(
        [
            line(99.0, 400),
            line(100.0, 400),
            "101.3 oxlab: sysbench exited 1",
            line(103.0, 0),
            line(104.0, 200),
            line(105.0, 400),
        ]
    )
    run = parse(log, "oltp_write_only", "write", 4)
    assert run.gap_after(101.0) == pytest.approx(2.5)
    summary = run.summary(101.0)
    assert summary["restarts"] == 1 and summary["threads_survived"] is False


def test_no_stall_is_no_gap_and_no_recovery_is_none() -> None:
    steady = parse("\n".join(line(100.0 + i, 400) for i in range(5)), "t", "w", 4)
    assert steady.gap_after(101.5) == 0.0, "a client that never stopped saw no gap"
    dead = parse("\n".join([line(100.0, 400), line(101.0, 0), line(102.0, 0)]), "t", "w", 4)
    assert dead.gap_after(100.5) is None, "never committed again: no figure, not 0"


def test_client_choice_reads_the_cli_and_names_unknown_clients() -> None:
    from lab.chaos.runner import ClientChoice
    from lab.infra.errors import LabError

    assert ClientChoice.of([]) == ClientChoice("ox-pool", False), "OX's pool by default"
    assert ClientChoice.of(["aggressive", "sysbench"]) == ClientChoice("aggressive", True)
    with pytest.raises(LabError, match="unknown client 'jdbc'"):
        ClientChoice.of(["jdbc"])


def test_a_restart_is_an_outage_even_without_an_idle_second() -> None:
    """sysbench died at 101.3 and the fresh one reported 300 tps for its first second
    (ending 102.5): no report said 0 tps, yet it stopped; committing from 101.75 on."""
    log = "\n".join([line(99.0, 400), line(100.0, 400), "101.3 oxlab: sysbench exited 1"])
    run = parse(log + "\n" + line(102.5, 300), "oltp_write_only", "write", 4)
    assert run.gap_after(101.0) == pytest.approx(0.75)
