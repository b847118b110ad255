"""The Galera cluster's scenarios: a writer killed, a node frozen or cut off, a reader
killed, a crash of every node, a reconnect storm, clustercheck's truth, idle pooled
connections."""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import partial
from typing import Any

import pymysql
import requests

from lab.chaos.checkers.health_truth import HealthTruthSampler
from lab.chaos.checkers.observability import OBSERVED
from lab.chaos.checkers.pool import REUSE
from lab.chaos.checkers.registry import RUN_DEFAULT
from lab.chaos.checkers.writes import READ_INSERTS
from lab.chaos.clients.workloads import (
    AGGRESSIVE,
    OX_POOL,
    BankWorkload,
    CountReads,
    InsertWorkload,
)
from lab.chaos.history import History, Op, client_of, epoch_of
from lab.chaos.nemesis.faults import killed
from lab.chaos.nemesis.schedule import Schedule, Step
from lab.chaos.runner import (
    SETTLE_TIMEOUT_S,
    ChaosRun,
    bank_run,
    list_append_run,
    longest_stall,
    measure,
    record_stock,
    run_schedule,
    settle,
    stock_running,
    wait_until,
    warmed_up,
    workload_client,
    worst_gap,
    write_gap,
)
from lab.chaos.scenarios.place import InLab, Place, insert_workloads
from lab.infra.errors import LabError, StartupError
from lab.infra.hosts.remote import HostError
from lab.infra.nodes import Node
from lab.infra.remote import Remote
from lab.infra.waiting import poll
from lab.roles.db.galera import GaleraNode
from lab.roles.db.galera_recovery import recover_cluster
from lab.roles.db.node import NotReady
from lab.roles.status import render_status
from lab.roles.system import Lab


def galera_nemesis(lab: Lab, seed: int) -> ChaosRun:
    """List-append under a seeded random schedule of kills, pauses and partitions of
    Galera nodes, one at a time: what the guide's "single nodes can go down" promises."""
    assert lab.galera
    names = [n.name for n in lab.galera.nodes]
    schedule = Schedule.random(seed, names, ("kill", "pause", "partition"), count=3)
    return list_append_run(lab, schedule, lab.galera.nodes, "galera-nemesis")


def galera_partition(lab: Lab, seed: int) -> ChaosRun:
    """One Galera node cut off from the other two under bank transfers: it must go
    non-Primary, refuse writes and leave HAProxy's rotation while the majority serves;
    after the heal it rejoins and the bank's total is unchanged."""
    assert lab.galera and lab.dblb
    dblb = lab.dblb
    names = sorted(n.name for n in lab.galera.nodes)
    target = random.Random(seed).choice(names)
    schedule = Schedule((Step(3.0, "partition", target, 10.0),), seed)

    def minority(step: Step, node: Node) -> dict[str, Any]:
        galera = lab.galera.node(node.name) if lab.galera else None
        assert galera is not None
        cut = time.monotonic()
        poll(
            lambda: galera.wsrep_status().get("wsrep_cluster_status") != "Primary",
            timeout=step.hold_s + 30,
            what=f"{node.name} to notice it is in the minority",
            retry_on=(NotReady,),
        )
        non_primary_after = time.monotonic() - cut
        write = galera.exec(["lab-mysql", "-e", "CREATE DATABASE oxlab_minority_write"])
        poll(
            lambda: all(b.status != "UP" for b in dblb.backends() if b.server == node.name),
            timeout=30,
            what=f"HAProxy to take {node.name} out of rotation",
        )
        return {
            "non_primary_after_s": round(non_primary_after, 2),
            "minority_write_refused": write.exit_code != 0,
            "minority_write_error": write.output.strip()[:120],
            "out_of_rotation_after_s": round(time.monotonic() - cut, 2),
        }

    run = bank_run(lab, schedule, lab.galera.nodes, "partition", minority)
    # the guide's expectation: a node that was away briefly catches up by IST, not SST
    rejoin = lab.galera.node(target).logs(tail=400)
    run.probes.append({"rejoined_by_ist": "IST received" in rejoin})
    return run


def health_truth(lab: Lab, seed: int) -> ChaosRun:
    """Desync, hang (SIGSTOP of mysqld) and freeze Galera nodes under bank transfers
    while the differential sampler checks that every clustercheck 200 is writable."""
    assert lab.galera and lab.dblb
    names = sorted(n.name for n in lab.galera.nodes)
    rng = random.Random(seed)
    steps = []
    for i, fault in enumerate(("desync", "freeze-server", "pause")):
        # "not before": each fault also waits until the lab is healthy again
        steps.append(Step(3.0 + 8.0 * i, fault, rng.choice(names), 5.0))
    return health_truth_run(lab, Schedule(tuple(steps), seed), "health-truth")


def health_lie(lab: Lab, seed: int) -> ChaosRun:
    """The differential check's own test: a backup node's clustercheck is set to pass
    Donor nodes (Percona's AVAILABLE_WHEN_DONOR=1 in /etc/sysconfig/clustercheck) while
    it holds a donor's global read lock, as an rsync donor does. Its check says 200 and
    its writes block: the checker must report the lie."""
    assert lab.galera
    target = sorted(n.name for n in lab.galera.nodes)[-1]
    schedule = Schedule((Step(3.0, "lying-donor", target, 8.0),), seed)
    return health_truth_run(lab, schedule, "health-lie")


def health_truth_run(lab: Lab, schedule: Schedule, name: str) -> ChaosRun:
    """Bank transfers under the schedule while every node's clustercheck is sampled."""
    assert lab.galera and lab.dblb
    workload = BankWorkload(
        lab.dblb, clients=4, seed=schedule.seed or 0, client=workload_client(lab)
    )
    sampler = HealthTruthSampler(lab.galera.nodes, workload.history)
    sampler.setup()
    with sampler.running():
        run = run_schedule(lab, workload, schedule, lab.galera.nodes, name)
    run.judge("bank", accounts=workload.accounts, total=workload.total)
    run.judge("health-check-truth", grace_s=lab.plan.profile.eviction_s)
    return run


def galera_crash(lab: Lab, seed: int, flush_log_at_trx_commit: int = 1) -> ChaosRun:
    """SIGKILL all three Galera nodes at once under inserts, then the lab's whole-cluster
    recovery (lab/roles/db/galera_recovery.py). With innodb_flush_log_at_trx_commit=1 nothing
    acknowledged may be lost; with 0 (what Jepsen's 2026 Galera report found losing
    acknowledged writes) the checker reports what was lost, as a finding."""
    assert lab.galera and lab.dblb
    nodes = lab.galera.nodes
    flush = flush_log_at_trx_commit
    name = "galera-crash" if flush == 1 else f"galera-crash-flush{flush}"
    history = History()
    writes = InsertWorkload(
        lab.dblb, clients=4, seed=seed, history=history, client=workload_client(lab)
    )
    targets = ",".join(n.name for n in nodes)
    schedule = Schedule((Step(3.0, "kill-all", targets, 0.0),), seed)
    run = ChaosRun(name, lab.plan.profile.name, schedule, history)
    run.prepare(lab)
    for node in nodes:
        node.sql(f"SET GLOBAL innodb_flush_log_at_trx_commit = {flush}")  # back to 1 on restart
    writes.setup()
    with writes.running():
        poll(lambda: writes.acked() > 50, timeout=30, what="inserts to get going")
        wait_until(history, schedule.steps[0].at_s)
        fault = history.fault("kill-all", targets)
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            list(pool.map(lambda n: n.kill(), nodes))
        wait_until(history, fault.start + 1.0)  # clients see the outage
        lines: list[str] = []
        recovery = recover_cluster(lab.galera, lines.append)
        history.healed(fault)
        lab.wait_writable(timeout=SETTLE_TIMEOUT_S)
        recovered_at = history.now()
        poll(
            lambda: any(op.outcome == "ok" and op.start > recovered_at for op in history.ops),
            timeout=60,
            what="inserts to succeed after the recovery",
        )
    settle(lab, history)
    run.probes.append(
        {
            "innodb_flush_log_at_trx_commit": flush,
            "positions": [asdict(p) for p in recovery.positions],
            "bootstrapped": recovery.bootstrapped,
            "recovery_s": round(recovery.seconds, 2),
            "log": lines,
        }
    )
    run.measurements = measure(history)
    history.final(READ_INSERTS, sorted(writes.present()))
    # flush=0 is report-only: losing acknowledged writes is what it demonstrates
    run.judge("no-acknowledged-write-lost", RUN_DEFAULT if flush == 1 else ())
    return run


def galera_crash_flush0(lab: Lab, seed: int) -> ChaosRun:
    return galera_crash(lab, seed, flush_log_at_trx_commit=0)


WRITER_KILL_CLIENTS = ((OX_POOL, 2), (AGGRESSIVE, 1))  # kind, clients; sysbench beside


def writer_kill(lab: Lab, seed: int, writes_after: int = 20) -> ChaosRun:
    """writer-kill in the lab's containers (see writer_kill_at)."""
    return writer_kill_at(InLab(lab), seed, writes_after)


def writer_kill_at(place: Place, seed: int, writes_after: int = 20) -> ChaosRun:
    """SIGKILL the Galera node holding HAProxy's write role while clients insert
    through the write listener: OX's pool (the operator's configdb.properties), the
    aggressive client and, in the lab, sysbench side by side, so one kill gives the
    write gap each kind of client sees. Writes move to a backup, nothing acknowledged is
    lost. The node is started again once `writes_after` inserts succeeded on the new
    writer. The same body in the lab's containers and on the operator's hosts over SSH
    (`place`: docker kill there, `systemctl kill` here)."""
    history = History()
    workloads = insert_workloads(place, WRITER_KILL_CLIENTS, seed, history)
    run = ChaosRun(
        "writer-kill", place.profile, Schedule((), seed), history, transport=place.transport
    )
    place.prepare(run)
    workloads[0].setup()
    stock = place.stock()  # the write gap is the figure here
    writer = place.writer()
    peers = [n for n in place.galera() if n.name != writer.name]

    def on_new_writer(kind: str) -> list[Op]:
        return [
            op
            for op in history.ops
            if op.f == "insert"
            and op.outcome == "ok"
            and op.node not in ("", writer.name)
            and op.start > fault.start
            and client_of(history, op) == kind
        ]

    with stock_running(stock), contextlib.ExitStack() as running:
        for workload in workloads:
            running.enter_context(workload.running())
        warmed_up(history, 20, timeout=30, what="inserts to get going", state=place.describe_health)
        run.schedule = after_warm_up(history, "kill", writer.name, seed)
        wait_until(history, run.schedule.steps[0].at_s)
        fault = history.fault("kill", writer.name)
        with place.killed(writer):
            killed_at = epoch_of(history, fault.start)
            poll(
                lambda: (
                    all(len(on_new_writer(k)) >= writes_after for k, _ in WRITER_KILL_CLIENTS)
                    and all(s.recovered_after(killed_at) for s in stock)
                ),
                timeout=SETTLE_TIMEOUT_S,
                what=f"{writes_after} inserts per client kind on a backup"
                + (", and sysbench committing again," if stock else "")
                + f" after {writer.name} was killed",
            )
        history.healed(fault)
    place.settle(history)  # rejoined and settled before the final read
    run.measurements = measure(history)
    record_stock(run, stock)
    for kind, _ in WRITER_KILL_CLIENTS:
        moved = on_new_writer(kind)
        mine = [op for op in history.ops if client_of(history, op) == kind]
        run.probes.append(
            {
                "client": place.client(kind).description,
                "killed": writer.name,
                "new_writer": moved[0].node,
                "write_gap_s": round(write_gap(history, fault.start, writer.name, kind), 3),
                "acked_on_new_writer": len(moved),
                "errors": sum(op.outcome == "fail" and op.start >= fault.start for op in mine),
                "unknown": sum(op.outcome == "info" for op in mine),
            }
        )
    gaps = [(p["client"].split(":")[0], p["write_gap_s"], "") for p in run.probes if "client" in p]
    gaps += [
        (
            row["client"],
            row["gap_s"],
            f"It was restarted {row['restarts']} time(s): sysbench's threads do not survive a "
            "lost connection (a fresh sysbench after each exit is the workaround for its "
            "reconnect loop); its figure has the 1 s resolution of --report-interval.",
        )
        for row in run.stock
    ]
    evidence, run.why = place.explain_gaps(writer.name, peers, killed_at, gaps)
    if evidence is not None:
        run.probes.append({"evidence": evidence})
    history.final(READ_INSERTS, sorted(workloads[0].present()))
    run.judge("no-acknowledged-write-lost")
    return run


def pause(lab: Lab, seed: int) -> ChaosRun:
    """pause in the lab's containers (see pause_at)."""
    return pause_at(InLab(lab), seed)


def pause_at(place: Place, seed: int) -> ChaosRun:
    """Freeze a Galera node that is not the writer while one client inserts: Galera
    waits for the silent member until its evs timeouts evict it, then the two others go
    on. The node is held frozen past the eviction time (the profile's in the lab, the
    cluster's own running options on hosts); the longest write stall and whether the
    cluster evicted it are recorded. The same body in the lab (docker pause) and on the
    operator's hosts (SIGSTOP of the server over SSH)."""
    eviction_s = place.eviction_s()
    place.settle()  # until every check rose, a backup may write
    writer = place.writer().name
    nodes = place.galera()
    target = next(n for n in sorted(nodes, key=lambda n: n.name) if n.name != writer)
    others = [n for n in nodes if n is not target]
    sizes: list[int] = []

    def watch(step: Step, node: Remote) -> dict[str, Any]:
        def held() -> bool:
            status = place.wsrep_status(others[0])
            sizes.append(int(status.get("wsrep_cluster_size", "0") or 0))
            return history.now() >= fault_start + step.hold_s - 0.5

        fault_start = history.now()
        poll(
            held,
            timeout=step.hold_s + 30,
            what=f"{node.name} frozen",
            retry_on=(NotReady, HostError),
        )
        return {"smallest_view_seen": min(sizes)}

    hold_s = round(eviction_s + 3.0, 1)
    schedule = Schedule((Step(3.0, "pause", target.name, hold_s),), seed)
    writes = InsertWorkload(
        place.front, clients=1, seed=seed, client=place.client(), login=place.login
    )
    history = writes.history
    run = run_schedule(place, writes, schedule, nodes, "pause", watch)
    fault = history.faults[0]
    run.probes.append(
        {
            "paused": target.name,
            "eviction_s": eviction_s,
            "evicted": min(sizes) < len(nodes),
            "longest_stall_s": round(
                longest_stall(history, fault.start, fault.end or history.now()), 3
            ),
        }
    )
    history.final(READ_INSERTS, sorted(writes.present()))
    run.judge("no-acknowledged-write-lost")
    return run


READ_CLIENTS = ((OX_POOL, 4), (AGGRESSIVE, 2))  # kind, readers through the read listener


WARM_UP_S = 3.0  # steady load before the fault: every client's figures have a baseline


def after_warm_up(history: History, fault: str, target: str, seed: int) -> Schedule:
    """One fault WARM_UP_S after now (the clients are running): a schedule is data, so
    the report says when the fault came."""
    return Schedule((Step(round(history.now() + WARM_UP_S, 1), fault, target, 0.0),), seed)


def reader_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL a Galera node that serves reads but not writes while OX's pool and the
    aggressive client read through the read listener (round robin) and one client
    inserts: a reader whose pooled connection or new connection lands on the dead
    node waits for its own timeout or HAProxy's mark-down. The read gap per client
    kind is the worst any reader of that kind saw."""
    assert lab.galera and lab.dblb
    history = History()
    writes = InsertWorkload(lab.dblb, 1, seed, history, client=workload_client(lab))
    readers = []
    for (kind, clients), first in zip(READ_CLIENTS, (100, 150), strict=True):
        reads = CountReads(lab.dblb, clients, seed, history, client=workload_client(lab, kind))
        reads.first_process = first
        readers.append(reads)
    run = ChaosRun("reader-kill", lab.plan.profile.name, Schedule((), seed), history)
    run.prepare(lab)  # healthy first: until every check has risen, a backup may write
    writes.setup()
    writer_name = lab.wait_writable()
    target = next(
        n for n in sorted(lab.galera.nodes, key=lambda n: n.name) if n.name != writer_name
    )
    with contextlib.ExitStack() as running:
        for workload in (writes, *readers):
            running.enter_context(workload.running())
        poll(lambda: history.acked("read") > 20, timeout=30, what="reads to get going")
        run.schedule = after_warm_up(history, "kill", target.name, seed)
        wait_until(history, run.schedule.steps[0].at_s)
        fault = history.fault("kill", target.name)
        with killed(target):
            poll(
                lambda: all(
                    any(op.f == "read" and op.outcome == "ok" and op.start > fault.start + 0.5
                        for op in history.ops if op.process == p)
                    for r in readers for p in range(r.first_process, r.first_process + r.clients)
                ),
                timeout=SETTLE_TIMEOUT_S,
                what=f"every reader to read again after {target.name} was killed",
            )  # fmt: skip
        history.healed(fault)
    settle(lab, history)
    run.measurements = measure(history)
    for kind, _ in READ_CLIENTS:
        run.probes.append(
            {
                "client": workload_client(lab, kind).description,
                "killed": target.name,
                "worst_read_gap_s": round(worst_gap(history, fault.start, kind, "read"), 3),
                "failed_reads": sum(
                    op.f == "read" and op.outcome != "ok" and client_of(history, op) == kind
                    for op in history.ops
                ),
            }
        )
    history.final(READ_INSERTS, sorted(writes.present()))
    run.judge("no-acknowledged-write-lost")
    return run


STORM_NODES = 4  # OX nodes, each with its own pool, as a cluster of groupware nodes holds


STORM_CONNECTIONS = 25  # busy pooled connections per node


# A pooled connection of an OX node serves requests, not a tight loop: each storm client
# writes at most every STORM_PACE_S. Flat out, 100 clients on a 2-core CI host once
# left galera1 alone and non-primary before any fault (the fast profile suspects a
# peer after 1 s without a message), and the run never got past its warm-up; at 0.5 s
# (200 commits/s) it happened again in CI with the session's other labs idling beside
# it (galera1's own timer ran 2.6 s late). At 1 s the storm is still 100 connections
# failing at once, which is what it measures; the steady load is 100 commits/s.
STORM_PACE_S = 1.0


OBSERVE_DEADLINE_S = 5.0  # an instrument slower than this is no use during an outage


def reconnect_storm(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL the Galera writer while several OX nodes' pools hold many busy
    connections on it: every one fails at once and each pool opens new ones through
    HAProxy. Measured: aborted connects and connection headroom on the survivors,
    sessions HAProxy queues on the dead server, the write gap; required: nothing
    acknowledged is lost and `lab status`, HAProxy's stats and the survivors'
    clustercheck keep answering within 5 s while the storm lasts."""
    assert lab.galera and lab.dblb
    dblb = lab.dblb
    history = History()
    numbers = itertools.count(1)
    pools = []
    for node in range(STORM_NODES):
        pool = InsertWorkload(
            dblb, STORM_CONNECTIONS, seed, history, client=workload_client(lab), numbers=numbers
        )
        pool.pace_s = STORM_PACE_S
        pool.first_process = 100 * node
        pools.append(pool)
    run = ChaosRun("reconnect-storm", lab.plan.profile.name, Schedule((), seed), history)
    run.prepare(lab)
    pools[0].setup()
    writer = lab.galera.node(lab.wait_writable())
    survivors = [n for n in lab.galera.nodes if n is not writer]
    before = {n.name: connection_counters(n) for n in survivors}
    processes: list[int] = []  # the pools' clients, once they run
    peaks = {
        "queued_on_dead": 0,
        "sessions_on_dead": 0,
        "min_headroom": 10**9,
        "max_threads_connected": 0,
    }

    def all_moved() -> bool:
        moved = {
            op.process
            for op in history.ops
            if op.outcome == "ok" and op.start > fault.start and op.node not in ("", writer.name)
        }
        return moved >= set(processes)

    def observe() -> bool:
        sample_instruments(lab, survivors, history)
        try:
            dead = [b for b in dblb.backends() if b.server == writer.name]
            peaks["queued_on_dead"] = max(peaks["queued_on_dead"], sum(b.queued for b in dead))
            peaks["sessions_on_dead"] = max(
                peaks["sessions_on_dead"], sum(b.sessions for b in dead)
            )
        except requests.RequestException:
            pass  # already recorded as an unanswered instrument
        for node in survivors:
            counters = connection_counters(node)
            headroom = counters["max_connections"] - counters["Threads_connected"]
            peaks["min_headroom"] = min(peaks["min_headroom"], headroom)
            peaks["max_threads_connected"] = max(
                peaks["max_threads_connected"], counters["Threads_connected"]
            )
        return all_moved()

    with contextlib.ExitStack() as running:
        for pool in pools:
            running.enter_context(pool.running())
        processes += sorted(history.clients)
        warmed_up(
            history, 100, timeout=60, what="the pools to get going", state=lab.describe_health
        )
        run.schedule = after_warm_up(history, "kill", writer.name, seed)
        wait_until(history, run.schedule.steps[0].at_s)
        fault = history.fault("kill", writer.name)
        with killed(writer):
            try:
                poll(
                    observe,
                    timeout=SETTLE_TIMEOUT_S,
                    what=f"every pooled client writing on a survivor after {writer.name} "
                    "was killed",
                    retry_on=(NotReady,),
                )
            except StartupError as exc:  # say whether the survivors kept a Primary view
                raise StartupError(f"{exc}; the cluster: {cluster_state(lab)}") from None
        history.healed(fault)
    settle(lab, history)
    after = {n.name: connection_counters(n) for n in survivors}
    run.measurements = measure(history)
    run.probes.append(
        {
            "pooled_connections": len(processes),
            "killed": writer.name,
            "write_gap_s": round(write_gap(history, fault.start, writer.name), 3),
            "aborted_connects": {
                name: after[name]["Aborted_connects"] - before[name]["Aborted_connects"]
                for name in after
            },
            "max_sessions_queued_on_dead_server": peaks["queued_on_dead"],
            "max_sessions_on_dead_server": peaks["sessions_on_dead"],
            "max_threads_connected_on_a_survivor": peaks["max_threads_connected"],
            "min_connection_headroom": peaks["min_headroom"],
        }
    )
    history.final(READ_INSERTS, sorted(pools[0].present()))
    run.judge("no-acknowledged-write-lost")
    run.judge("observable-under-load", deadline_s=OBSERVE_DEADLINE_S)
    return run


def cluster_state(lab: Lab) -> str:
    """`lab status`'s table in one line (GaleraCluster.status_table): whether a stalled
    run met a cluster that lost its Primary view (lint DB010's stall) or a slow client."""
    assert lab.galera
    return ", ".join(
        f"{row['node']} {row['error']}"
        if "error" in row
        else f"{row['node']} {row['wsrep_cluster_status']} size {row['wsrep_cluster_size']} "
        f"{row['wsrep_local_state_comment']}"
        for row in lab.galera.status_table()
    )


def connection_counters(node: GaleraNode) -> dict[str, int]:
    """The server's connection figures: Aborted_connects, Threads_connected and the
    max_connections limit (what a reconnect storm eats into). Read without a causal wait:
    under wsrep_sync_wait=1 a SELECT on a node that is not Primary fails ("Lock wait
    timeout exceeded"), and these counters are the node's own."""
    rows = node.sql(
        "SET SESSION wsrep_sync_wait = 0; "
        "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME IN ('ABORTED_CONNECTS', 'THREADS_CONNECTED') "
        "UNION SELECT 'MAX_CONNECTIONS', @@max_connections"
    )
    values = dict(line.split("\t") for line in rows.splitlines() if "\t" in line)
    wanted = {"ABORTED_CONNECTS", "THREADS_CONNECTED", "MAX_CONNECTIONS"}
    if not wanted <= set(values):  # a half answer is no figure (poll asks again)
        raise NotReady(f"{node.name}: connection counters incomplete: {sorted(values)}")
    return {
        "Aborted_connects": int(values["ABORTED_CONNECTS"]),
        "Threads_connected": int(values["THREADS_CONNECTED"]),
        "max_connections": int(values["MAX_CONNECTIONS"]),
    }


def sample_instruments(lab: Lab, survivors: Sequence[Node], history: History) -> None:
    """Ask each instrument once and record whether (and how fast) it answered."""

    def timed(what: str, ask: Callable[[], object]) -> None:
        started = time.monotonic()
        try:
            ask()
            ok, error = True, ""
        except (requests.RequestException, NotReady, LabError) as exc:
            ok, error = False, str(exc).splitlines()[0][:160]
        seconds = round(time.monotonic() - started, 2)
        history.probe(OBSERVED, what=what, ok=ok, seconds=seconds, error=error)

    def status() -> None:
        text = render_status(lab)
        if "not answering" in text:
            raise LabError(next(line for line in text.splitlines() if "not answering" in line))

    assert lab.dblb
    timed("lab status", status)
    timed(
        "HAProxy stats", lambda: lab.dblb.backends(timeout=OBSERVE_DEADLINE_S) if lab.dblb else None
    )
    for node in survivors:
        timed(f"clustercheck {node.name}", partial(clustercheck_answers, node))


def clustercheck_answers(node: Node) -> None:
    requests.get(f"http://{node.ip}:9200/", timeout=OBSERVE_DEADLINE_S).raise_for_status()


IDLE_MARGIN_S = 5.0  # the pool takes an idle connection this long before maxIdleTime


def pool_idle(lab: Lab, seed: int) -> ChaosRun:
    """OX's pool keeps a connection idle up to maxIdleTime (the operator's
    configdb.properties, else OX's 60 s) and then hands it out again. Connections are
    opened through the write and read listeners as the pool opens them, left idle for
    maxIdleTime less a margin, then used: a balancer that closes idle connections
    sooner (HAProxy's default timeouts, the guide warns) fails OX's first query after a
    quiet spell with "Lost connection"."""
    assert lab.dblb
    idle_s = max(1.0, lab.plan.pool_settings().max_idle_time_ms / 1000 - IDLE_MARGIN_S)
    history = History()
    run = ChaosRun("pool-idle", lab.plan.profile.name, Schedule((), seed), history)
    run.prepare(lab)
    pooled = []
    for process, write in enumerate((True, True, False, False)):
        start = history.now()
        conn = lab.dblb.connect(write=write, timeout=5.0)
        history.record(process, "open", "write" if write else "read", start, "ok")
        pooled.append((process, conn))
    fault = history.fault("idle", f"{len(pooled)} pooled connections")
    wait_until(history, fault.start + idle_s)  # the idle time is the scenario itself
    history.healed(fault)
    for process, conn in pooled:
        start = history.now()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@hostname")
                node = str(cur.fetchone()[0])
            history.record(process, REUSE, round(idle_s, 1), start, "ok", node)
        except pymysql.err.MySQLError as exc:
            history.record(process, REUSE, round(idle_s, 1), start, "fail", error=str(exc))
        finally:
            conn.close()
    run.probes.append({"idle_s": idle_s, "pooled": len(pooled)})
    run.judge("pooled-connections-usable")
    return run
