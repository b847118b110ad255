"""First pieces of the chaos runs: a recorded write workload, the "no acknowledged write
lost" checker, and the writer-kill scenario with its measured write gap. Every operation
ends ok, fail (the statement never ran) or info (sent, no answer: it may have committed),
as Jepsen's clients do, so the checker is sound."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pymysql

from lab.db import NotReady
from lab.dblb import Dblb
from lab.lab import Lab
from lab.waiting import poll

TABLE = "oxlab_chaos.acked"


@dataclass
class Op:
    value: int
    start: float
    end: float
    outcome: str  # ok, fail, info
    node: str = ""
    error: str = ""


class WriteWorkload:
    """One client inserting 1, 2, 3, ... through HAProxy's write listener, a fresh
    connection after every error (as OX's pool would), recording every operation."""

    def __init__(self, dblb: Dblb) -> None:
        self.dblb = dblb
        self.history: list[Op] = []
        self._stop = threading.Event()

    def setup(self) -> None:
        with self.dblb.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS oxlab_chaos")
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cur.execute(f"CREATE TABLE {TABLE} (v INT PRIMARY KEY)")

    def _run(self) -> None:
        value, conn = 0, None
        while not self._stop.is_set():
            value += 1
            start = time.monotonic()
            sent = False
            try:
                if conn is None:
                    conn = self.dblb.connect(timeout=2)
                with conn.cursor() as cur:
                    sent = True
                    cur.execute(f"INSERT INTO {TABLE} VALUES (%s)", (value,))
                    cur.execute("SELECT @@hostname")
                    node = str(cur.fetchone()[0])
                self.history.append(Op(value, start, time.monotonic(), "ok", node))
            except (pymysql.err.MySQLError, OSError) as exc:
                outcome = "info" if sent else "fail"
                self.history.append(
                    Op(value, start, time.monotonic(), outcome, error=str(exc)[:80])
                )
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.02)  # back-off before reconnecting, not a wait for a condition

    @contextmanager
    def running(self) -> Iterator[WriteWorkload]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def acked(self) -> list[Op]:
        return [op for op in self.history if op.outcome == "ok"]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(asdict(op)) + "\n" for op in self.history))


def committed_values(lab: Lab) -> set[int]:
    """What the database holds once the cluster is healthy again (read through HAProxy)."""
    assert lab.dblb
    with lab.dblb.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT v FROM {TABLE}")
        return {int(row[0]) for row in cur.fetchall()}


def lost_writes(history: list[Op], present: set[int]) -> list[Op]:
    """Acknowledged writes missing from the database: RPO must be 0."""
    return [op for op in history if op.outcome == "ok" and op.value not in present]


def write_gap(history: list[Op], fault_at: float, failed_node: str) -> float:
    """Seconds from the fault to the first write acknowledged by another node (a write
    in flight on the killed node may still be acknowledged just after the kill)."""
    after = [
        op.end
        for op in history
        if op.outcome == "ok" and op.end > fault_at and op.node != failed_node
    ]
    return (min(after) - fault_at) if after else float("inf")


@dataclass
class KillResult:
    profile: str
    killed: str
    gap_s: float
    acked: int
    unknown: int
    lost: list[Op]
    new_writer: str


def kill_writer(lab: Lab, writes_after: int = 20) -> KillResult:
    """SIGKILL the Galera node holding HAProxy's write role under the workload; measure
    the write gap and check that nothing acknowledged is lost. The killed node is
    started again and rejoined before returning (the fault is healed)."""
    assert lab.galera and lab.dblb
    workload = WriteWorkload(lab.dblb)
    workload.setup()
    writer = lab.galera.node(lab.wait_writable())
    with workload.running():
        poll(lambda: len(workload.acked()) > 20, timeout=10, what="the workload to get going")
        fault_at = time.monotonic()
        writer.kill()
        try:
            poll(
                lambda: any(
                    op.end > fault_at and op.node != writer.name for op in workload.acked()
                ),
                timeout=120,
                what="writes to resume on a backup",
            )
            resumed = time.monotonic()
            poll(
                lambda: sum(op.end > resumed for op in workload.acked()) >= writes_after,
                timeout=30,
                what="writes to continue after the failover",
            )
        finally:
            writer.start()
    lab.wait_healthy(timeout=180)  # rejoined and settled before the check reads
    present = committed_values(lab)
    history = workload.history
    new_writer = next((op.node for op in reversed(history) if op.outcome == "ok"), "?")
    return KillResult(
        profile=lab.request.profile,
        killed=writer.name,
        gap_s=write_gap(history, fault_at, writer.name),
        acked=len(workload.acked()),
        unknown=sum(op.outcome == "info" for op in history),
        lost=lost_writes(history, present),
        new_writer=new_writer,
    )


@dataclass
class PauseResult:
    profile: str
    paused: str
    longest_stall_s: float
    acked: int
    unknown: int
    lost: list[Op]
    evicted: bool  # the cluster dropped the frozen node from its view


def longest_stall(history: list[Op], start: float, end: float) -> float:
    """The longest time without an acknowledged write within [start, end]."""
    acked = sorted(op.end for op in history if op.outcome == "ok" and start <= op.end <= end)
    return max(b - a for a, b in itertools.pairwise([start, *acked, end]))


def pause_node(lab: Lab, hold_s: float = 6.0) -> PauseResult:
    """Freeze (docker pause) a Galera node that is not the writer while writes go on:
    flow control may stall the cluster until the evs timeouts evict the frozen node.
    Measure the longest write stall; unpause and wait for the lab to be healthy."""
    assert lab.galera and lab.dblb
    workload = WriteWorkload(lab.dblb)
    workload.setup()
    writer = lab.wait_writable()
    frozen = next(n for n in lab.galera.nodes if n.name != writer)
    others = [n for n in lab.galera.nodes if n is not frozen]
    size_seen = {"min": len(lab.galera.nodes)}
    with workload.running():
        poll(lambda: len(workload.acked()) > 20, timeout=10, what="the workload to get going")
        start = time.monotonic()
        frozen.pause()
        try:

            def held() -> bool:
                size = int(others[0].wsrep_status().get("wsrep_cluster_size", "0") or 0)
                size_seen["min"] = min(size_seen["min"], size)
                return time.monotonic() - start >= hold_s

            poll(
                held,
                timeout=hold_s + 30,
                what=f"{frozen.name} to stay frozen {hold_s:g} s",
                retry_on=(NotReady,),
            )
        finally:
            frozen.unpause()
        end = time.monotonic()
    lab.wait_healthy(timeout=180)  # rejoined and settled before the check reads
    present = committed_values(lab)
    history = workload.history
    return PauseResult(
        profile=lab.request.profile,
        paused=frozen.name,
        longest_stall_s=longest_stall(history, start, end),
        acked=len(workload.acked()),
        unknown=sum(op.outcome == "info" for op in history),
        lost=lost_writes(history, present),
        evicted=size_seen["min"] < len(lab.galera.nodes),
    )


def write_report(name: str, result: object, directory: Path) -> Path:
    """The run's JSON report (lab-reports/chaos-NAME-TIMESTAMP.json)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"chaos-{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(
        json.dumps(
            {"scenario": name, "result": asdict(result)},  # type: ignore[call-overload]
            indent=2,
            default=str,
        )
    )
    return path


SCENARIOS = {"writer-kill": kill_writer, "pause": pause_node}
