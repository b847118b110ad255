"""The chaos scenarios (tests/chaos and `lab chaos run NAME --seed N`), each a bounded
run of a workload under a fault schedule with the checkers that judge it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

from lab.chaos_runs import (
    SETTLE_TIMEOUT_S,
    ChaosRun,
    Probe,
    bank_run,
    list_append_run,
    measure,
    run_schedule,
    wait_until,
)
from lab.checkers import Verdict
from lab.checkers.bank import check_bank
from lab.db import NotReady
from lab.filestore import EXPORT_PATH
from lab.galera_recovery import recover_cluster
from lab.groupware_load import (
    GroupwareWorkload,
    check_files,
    check_read_your_writes,
    check_sessions,
)
from lab.health_truth import HealthTruthSampler, check_health_truth
from lab.history import History, recovery_time
from lab.lab import Lab
from lab.nemesis import Schedule, Step, heal_leftovers
from lab.nodes import Node
from lab.promote import promote
from lab.waiting import poll
from lab.workloads import BankWorkload, CountReads, InsertWorkload


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


def groupware_run(
    lab: Lab,
    schedule: Schedule,
    name: str,
    probe: Probe | None = None,
    nodes: Sequence[Node] | None = None,
) -> ChaosRun:
    """Browsers through Apache under faults (of the groupware nodes unless `nodes` says
    otherwise): nobody has to log in again (session migration), every file downloads as
    it was uploaded, and everyone sees their own new folders (read-your-writes)."""
    assert lab.ox and lab.web
    workload = GroupwareWorkload(lab.web, clients=4, seed=schedule.seed or 0)
    run = run_schedule(lab, workload, schedule, nodes or lab.ox.nodes, name, probe)
    lab.ox.wait_ready()
    run.verdicts = [
        check_sessions(workload.history),
        check_files(workload.history),
        check_read_your_writes(workload.history),
    ]
    for node in lab.ox.nodes:  # what the nodes said about requests they failed
        failures = node.logs(tail=2000).split("handler failed")[1:]
        if failures:
            run.probes.append(
                {"node": node.name, "server_errors": len(failures), "first": failures[0][:800]}
            )
    return run


def oxgw_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL oxgw01 under the groupware workload; users move to oxgw02. An upload the
    kill interrupts leaves a partial or unassigned file: reported as a
    finding (OX's listunassignedfiles/repairfilesinfilestore clean these up)."""
    before = filestore_inventory(lab)
    run = groupware_run(lab, Schedule((Step(3.0, "kill", "oxgw01", 8.0),), seed), "oxgw-kill")
    consistency = filestore_consistency(before, filestore_inventory(lab))
    run.verdicts.append(consistency)
    run.forbidden[consistency.checker] = ("orphan-metadata",)  # files first, then metadata
    return run


def rolling_restart(lab: Lab, seed: int) -> ChaosRun:
    """Restart oxgw01, wait until it serves again, then oxgw02: no session is lost."""
    assert lab.ox
    ox = lab.ox

    def back(step: Step, node: Node) -> dict[str, Any]:
        started = time.monotonic()
        ox.node(node.name).wait_serving()
        return {"serving_again_after_s": round(time.monotonic() - started, 2)}

    steps = (Step(3.0, "restart", "oxgw01", 3.0), Step(12.0, "restart", "oxgw02", 3.0))
    return groupware_run(lab, Schedule(steps, seed), "rolling-restart", back)


def dblb_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL HAProxy under bank transfers: with one dblb, every client is cut off
    until it is back (the single point of failure a redundant pair removes)."""
    assert lab.dblb
    schedule = Schedule((Step(3.0, "kill", "dblb", 5.0),), seed)
    return bank_run(lab, schedule, [lab.dblb], "dblb-kill")


def health_truth(lab: Lab, seed: int) -> ChaosRun:
    """Desync, hang (SIGSTOP of mysqld) and freeze Galera nodes under bank transfers
    while the differential sampler checks that every clustercheck 200 is writable."""
    assert lab.galera and lab.dblb
    names = sorted(n.name for n in lab.galera.nodes)
    rng = random.Random(seed)
    steps = []
    for i, fault in enumerate(("desync", "freeze-server", "pause")):
        steps.append(Step(3.0 + 12.0 * i, fault, rng.choice(names), 5.0))
    workload = BankWorkload(lab.dblb, clients=4, seed=seed)
    sampler = HealthTruthSampler(lab.galera.nodes, workload.history)
    sampler.setup()
    with sampler.running():
        run = run_schedule(
            lab, workload, Schedule(tuple(steps), seed), lab.galera.nodes, "health-truth"
        )
    run.forbidden = {"health-check-truth": ("healthy-but-unwritable",)}
    run.verdicts = [
        check_bank(workload.history, workload.accounts, workload.total),
        check_health_truth(sampler.samples, workload.history.faults),
    ]
    return run


RPO_WINDOW_S = 1.0  # async replication may lose what was acknowledged this shortly before


def gtid_master_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL the GTID master under inserts (write listener) and reads (read listener):
    reads go on from the slave, writes fail until `lab promote` makes the slave the
    master and repoints HAProxy. Acknowledged inserts must all be on the new master,
    except those acknowledged within the replication window just before the kill
    (asynchronous replication's RPO, reported as a finding)."""
    assert lab.gtid and lab.dblb
    master = lab.gtid.master
    history = History()
    writes = InsertWorkload(lab.dblb, clients=2, seed=seed, history=history)
    reads = CountReads(lab.dblb, clients=2, seed=seed, history=history)
    schedule = Schedule((Step(3.0, "kill", master.name, 5.0),), seed)
    run = ChaosRun("gtid-master-kill", lab.request.profile, schedule, history)
    run.healed_before = heal_leftovers(lab.nodes())
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
    writes.setup()
    lab.gtid.wait_caught_up()
    with writes.running(), reads.running():
        poll(lambda: writes.acked() > 20, timeout=30, what="inserts to get going")
        wait_until(history, schedule.steps[0].at_s)
        fault = history.fault("kill", master.name)
        master.kill()
        try:
            wait_until(history, fault.start + schedule.steps[0].hold_s)
            promoting = history.now()
            promotion = promote(lab)
            history.healed(fault)
            poll(
                lambda: any(
                    op.f == "insert" and op.outcome == "ok" and op.start > history.now() - 1
                    for op in history.ops
                ),
                timeout=30,
                what="inserts to succeed on the promoted master",
            )
        finally:
            master.start()  # back, but out of rotation: it is rebuilt as a slave by hand
    served = [
        op for op in history.ops if op.outcome == "ok" and fault.start + 0.5 < op.start < promoting
    ]
    run.probes.append(
        {
            "promotion": asdict(promotion),
            "reads_served_while_master_down": sum(op.f == "read" for op in served),
            "writes_served_while_master_down": sum(op.f == "insert" for op in served),
            "write_recovery_s": recovery_time(history, fault, "insert"),
        }
    )
    run.measurements = measure(history)
    run.verdicts = [check_inserts_kept(history, writes.present(), fault.start)]
    run.forbidden = {"no-acknowledged-write-lost": ("lost-write",)}
    return run


def check_inserts_kept(
    history: History, present: set[int], fault_at: float, window_s: float | None = RPO_WINDOW_S
) -> Verdict:
    """Every acknowledged insert is present; those acknowledged within `window_s` before
    the fault are told apart (asynchronous replication's window; None: no window)."""
    verdict = Verdict("no-acknowledged-write-lost")
    acked = [op for op in history.ops if op.f == "insert" and op.outcome == "ok"]
    for op in acked:
        if op.value not in present:
            in_window = window_s is not None and op.end >= fault_at - window_s
            kind = "lost-in-replication-window" if in_window else "lost-write"
            verdict.add(
                kind, f"{op.describe()} acknowledged {fault_at - op.end:.3f}s before the kill"
            )
    verdict.stats = {"acknowledged": len(acked), "present": len(present)}
    return verdict


def lagging_slave(lab: Lab, seed: int) -> ChaosRun:
    """The GTID slave stops applying for 8 s while browsers create folders and list them:
    with OX's replication monitor a user's reads go to the master until the slave has
    caught up, so nobody misses their own new folder."""
    assert lab.gtid
    slave = lab.gtid.slave
    schedule = Schedule((Step(3.0, "replication-stopped", slave.name, 8.0),), seed)
    return groupware_run(lab, schedule, "lagging-slave", nodes=[slave])


def filestore_outage(lab: Lab, seed: int) -> ChaosRun:
    """Stop the NFS filestore under the groupware workload: uploads and downloads fail
    with OX's FLS error (not an internal error) while folders keep working; afterwards
    uploads work again and the filestore holds exactly the files the metadata names."""
    assert lab.ox and lab.ox.filestore
    schedule = Schedule((Step(3.0, "stop", "filestore", 6.0),), seed)
    workload = GroupwareWorkload(lab.web, clients=4, seed=seed) if lab.web else None
    assert workload is not None
    before = filestore_inventory(lab)
    run = run_schedule(
        lab, workload, schedule, [lab.ox.filestore], "filestore-outage", recovered_f="upload"
    )
    lab.ox.wait_ready()
    history = workload.history
    fault = history.faults[0]
    run.probes.append({"upload_recovery_s": recovery_time(history, fault, "upload")})
    run.verdicts = [
        check_sessions(history),
        check_files(history),
        check_storage_errors(history, fault.start, fault.end or history.now()),
        filestore_consistency(before, filestore_inventory(lab)),
    ]
    return run


def check_storage_errors(history: History, start: float, end: float) -> Verdict:
    """While the filestore is down, file operations fail with OX's FLS error."""
    verdict = Verdict("clear-storage-errors")
    failed = [
        op
        for op in history.ops
        if op.f in ("upload", "download") and op.outcome != "ok" and start <= op.start <= end
    ]
    for op in failed:
        if not op.error.startswith("FLS-"):
            verdict.add("unclear-error", f"{op.describe()}: {op.error}")
    verdict.stats = {"file_operations_failed": len(failed)}
    return verdict


Inventory = tuple[set[str], set[str]]  # files on the export, locations the metadata names


def filestore_inventory(lab: Lab) -> Inventory:
    assert lab.ox and lab.ox.filestore
    listing = lab.ox.filestore.exec(["sh", "-c", f"cd {EXPORT_PATH} && find . -type f"])
    files = {line.removeprefix("./") for line in listing.output.split()}
    db = lab.gtid.master if lab.gtid else (lab.galera.nodes[0] if lab.galera else None)
    assert db is not None
    schemas = db.sql(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'infostore'"
    ).split()
    named = {
        location
        for schema in schemas
        for location in db.sql(f"SELECT file_store_location FROM {schema}.infostore").split()
    }
    return files, named


def filestore_consistency(before: Inventory, after: Inventory) -> Verdict:
    """No partial file, no file without metadata, no metadata without its file: among
    what appeared during the run (what an earlier scenario left is not this one's)."""
    verdict = Verdict("filestore-consistent")
    files, named = after
    old_files, old_named = before
    for path in sorted(files - old_files):
        if path.rsplit("/", 1)[-1].endswith(".part"):
            verdict.add("partial-file", path)
        elif path not in named:
            verdict.add("orphan-file", f"{path} (OX: listunassignedfiles, repairfilesinfilestore)")
    for location in sorted((named - old_named) - files):
        verdict.add("orphan-metadata", location)
    verdict.stats = {"files": len(files), "documents": len(named)}
    return verdict


def galera_crash(lab: Lab, seed: int, flush_log_at_trx_commit: int = 1) -> ChaosRun:
    """SIGKILL all three Galera nodes at once under inserts, then the lab's whole-cluster
    recovery (lab/galera_recovery.py). With innodb_flush_log_at_trx_commit=1 nothing
    acknowledged may be lost; with 0 (what Jepsen's 2026 Galera report found losing
    acknowledged writes) the checker reports what was lost, as a finding."""
    assert lab.galera and lab.dblb
    nodes = lab.galera.nodes
    flush = flush_log_at_trx_commit
    name = "galera-crash" if flush == 1 else f"galera-crash-flush{flush}"
    history = History()
    writes = InsertWorkload(lab.dblb, clients=4, seed=seed, history=history)
    targets = ",".join(n.name for n in nodes)
    schedule = Schedule((Step(3.0, "kill-all", targets, 0.0),), seed)
    run = ChaosRun(name, lab.request.profile, schedule, history)
    run.healed_before = heal_leftovers(lab.nodes())
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
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
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
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
    kept = check_inserts_kept(history, writes.present(), fault.start, window_s=None)
    run.verdicts = [kept]
    run.forbidden = {kept.checker: ("lost-write",) if flush == 1 else ()}
    return run


def galera_crash_flush0(lab: Lab, seed: int) -> ChaosRun:
    return galera_crash(lab, seed, flush_log_at_trx_commit=0)


SCENARIOS: dict[str, Callable[[Lab, int], ChaosRun]] = {
    "lagging-slave": lagging_slave,
    "galera-crash": galera_crash,
    "galera-crash-flush0": galera_crash_flush0,
    "filestore-outage": filestore_outage,
    "gtid-master-kill": gtid_master_kill,
    "dblb-kill": dblb_kill,
    "health-truth": health_truth,
    "galera-nemesis": galera_nemesis,
    "partition": galera_partition,
    "oxgw-kill": oxgw_kill,
    "rolling-restart": rolling_restart,
}
# The topology each scenario runs on.
SCENARIO_TOPOLOGY = {
    "lagging-slave": "guide",
    "filestore-outage": "guide",
    "oxgw-kill": "guide",
    "rolling-restart": "guide",
    "gtid-master-kill": "gtid",
}
