"""Health check versus truth: a differential check of clustercheck. While faults run, a
sampler asks every Galera node's clustercheck and, whenever it answers 200, writes on
that node directly; a 200 whose write does not commit within the deadline is a health
check that lies (a donor, a flow-controlled or hung node it let through).

Forbids `healthy-but-unwritable`. Reports `stalled-by-peer`: while another member is
frozen (SIGSTOP of its server, or docker pause), every write in the cluster waits until
Galera evicts that member, and clustercheck, which sees its own node only, still says
200. Only those two faults of another node excuse a stall, and only until the eviction
timeout of the run's failover profile has passed after the fault ended. Reports
`frozen-mid-write`: the node's own freeze landed between its 200 and the write (a
stopped server answers no check, so the 200 came first); the write waited through the
freeze and failed on waking, evicted. A write begun after the freeze ended has no such
excuse."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import pymysql
import requests

from lab.chaos.checkers import Verdict
from lab.chaos.clients.threads import clients_running
from lab.chaos.clients.workloads import DATABASE
from lab.chaos.history import Fault, History
from lab.infra.nodes import Node
from lab.roles.db.node import connect_as_ox
from lab.roles.dblb.haproxy_config import CLUSTERCHECK_PORT

DEADLINE_S = 5.0
PROBE = "clustercheck"  # the history's probe kind for one sample
PEER_FREEZES = ("freeze-server", "pause")  # faults of a peer that stall every write
# a not-ready answer of the rejoining peer this shortly before the write began counts
# (each node is sampled every 0.2 s plus the check's own time, up to its 2 s timeout)
REJOIN_EVIDENCE_S = 2.0


@dataclass
class Sample:
    at: float
    node: str
    status: int  # clustercheck's HTTP status; 0: no answer
    committed: bool | None  # None: not tried (the check said it is not healthy)
    latency_s: float
    error: str = ""
    status_after: int = 0  # clustercheck once a write failed: still 200 means it lies


class HealthTruthSampler:
    def __init__(self, nodes: Sequence[Node], history: History, deadline_s: float = DEADLINE_S):
        self.addresses = {node.name: node.ip for node in nodes}  # fixed while sampling
        self.history = history  # shares the chaos run's clock; samples are its probes
        self.deadline_s = deadline_s
        self._stop = threading.Event()

    def setup(self) -> None:
        any_ip = next(iter(self.addresses.values()))
        with connect_as_ox(any_ip, 3306) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {DATABASE}.health "
                "(id INT AUTO_INCREMENT PRIMARY KEY, node VARCHAR(32), at DOUBLE)"
            )

    @staticmethod
    def _status(ip: str) -> int:
        try:
            return requests.get(f"http://{ip}:{CLUSTERCHECK_PORT}/", timeout=2).status_code
        except requests.RequestException:
            return 0

    def sample(self, name: str, ip: str) -> Sample:
        at = self.history.now()
        status = self._status(ip)
        if status != 200:
            return Sample(at, name, status, None, 0.0)
        started = time.monotonic()
        try:
            with connect_as_ox(ip, 3306, timeout=self.deadline_s) as conn, conn.cursor() as cur:
                cur.execute(f"INSERT INTO {DATABASE}.health (node, at) VALUES (%s, %s)", (name, at))
            return Sample(at, name, 200, True, time.monotonic() - started)
        except (pymysql.err.MySQLError, OSError) as exc:
            latency = time.monotonic() - started
            # A check is a snapshot: a node may fail between the 200 and the write. It
            # lies only if it still says 200 once the write has failed.
            return Sample(at, name, 200, False, latency, str(exc)[:100], self._status(ip))

    def _run(self, name: str, ip: str) -> None:
        while not self._stop.is_set():
            self.history.probe(PROBE, **asdict(self.sample(name, ip)))
            self._stop.wait(0.2)

    @contextmanager
    def running(self) -> Iterator[HealthTruthSampler]:
        with clients_running(self._run, self.addresses.items(), self._stop):
            yield self


def _peer_excuse(
    sample: Sample, fault: Fault, samples: Sequence[Sample], grace_s: float
) -> str | None:
    """Why `fault` of another node stalled this sample's write, or None."""
    if fault.target == sample.node or fault.name not in PEER_FREEZES or fault.start > sample.at:
        return None
    ended = fault.end if fault.end is not None else sample.at
    if sample.at <= ended + grace_s:
        return f" during {fault.name} of {fault.target}"
    write_end = sample.at + sample.latency_s
    rejoining = [
        p
        for p in samples
        if p.node == fault.target
        and p.status != 200
        and max(ended, sample.at - REJOIN_EVIDENCE_S) <= p.at <= write_end
    ]
    if rejoining:
        return (
            f" while {fault.target} rejoined after its {fault.name} (its clustercheck "
            f"{rejoining[0].status or 'silent'} at {rejoining[0].at:.2f}s)"
        )
    return None


def _own_freeze(sample: Sample, fault: Fault) -> str | None:
    """How the node's own freeze caught this write in flight, or None: the freeze was in
    force at some moment between the check's 200 and the write's end."""
    if fault.target != sample.node or fault.name not in PEER_FREEZES:
        return None
    write_end = sample.at + sample.latency_s
    ended = fault.end if fault.end is not None else write_end
    if fault.start <= write_end and sample.at <= ended:
        return f" in flight when its own {fault.name} ({fault.start:.2f}s to {ended:.2f}s) hit"
    return None


def samples_in(history: History) -> list[Sample]:
    fields = Sample.__dataclass_fields__
    return [
        Sample(**{k: v for k, v in p.items() if k in fields})
        for p in history.probes
        if p.get("kind") == PROBE
    ]


def check_health_truth_in(
    history: History, grace_s: float, deadline_s: float = DEADLINE_S
) -> Verdict:
    """The same over a recorded history (samples are its probes)."""
    return check_health_truth(samples_in(history), history.faults, deadline_s, grace_s)


def check_health_truth(
    samples: Sequence[Sample],
    faults: Sequence[Fault] = (),
    deadline_s: float = DEADLINE_S,
    grace_s: float = 0.0,
) -> Verdict:
    """A 200 must be followed by a write that commits within the deadline, unless the
    check itself turned to not-ready by then (caught: the check lagged, did not lie).

    While another member is frozen (SIGSTOP of its server, or docker pause), every write
    waits for it until the cluster evicts it, and clustercheck, which sees only its own
    node's state, still says 200. After the freeze the evicted member rejoins, and until
    it is Synced again the cluster's flow control can stall writes everywhere. Both are
    reported as `stalled-by-peer`, a limit of clustercheck worth knowing: within
    `grace_s` (the profile's eviction time) after the freeze ended, or later only while
    the recorded samples show that frozen peer's own check not ready during the write.
    Any other fault of a peer (desync, kill, partition) excuses nothing, and neither does
    a fault of the node itself: a 200 that cannot write is `healthy-but-unwritable`, a
    health check that lies."""
    verdict = Verdict("health-check-truth")
    caught = 0
    for s in samples:
        if s.status != 200 or (s.committed and s.latency_s <= deadline_s):
            continue
        if s.status_after != 200:
            caught += 1
            continue
        outcome = f"failed: {s.error}" if not s.committed else f"took {s.latency_s:.2f}s"
        kind = "frozen-mid-write"
        excuse = next((e for f in faults if (e := _own_freeze(s, f)) is not None), None)
        if excuse is None:
            excuse = next(
                (e for f in faults if (e := _peer_excuse(s, f, samples, grace_s)) is not None),
                None,
            )
            kind = "stalled-by-peer" if excuse else "healthy-but-unwritable"
        verdict.add(
            kind,
            f"{s.node} at {s.at:.2f}s{excuse or ''}: clustercheck 200 before and after a "
            f"write that {outcome}",
        )
    said_200 = [s for s in samples if s.status == 200]
    verdict.stats = {
        "samples": len(samples),
        "said_200": len(said_200),
        "said_not_ready": sum(s.status != 200 for s in samples),
        "caught_after_a_failed_write": caught,
        "max_write_ms": int(1000 * max((s.latency_s for s in said_200), default=0.0)),
    }
    return verdict
