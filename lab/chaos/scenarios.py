"""The chaos scenarios (tests/chaos and `lab chaos run NAME --seed N`), each a bounded
run of a workload under a fault schedule with the checkers that judge it."""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import pymysql
import requests

from lab.chaos import gap_evidence
from lab.chaos.checkers.filestore import INVENTORY, Inventory, inventory_probe
from lab.chaos.checkers.floating import CHECKED_CLIENT, HOLDERS, UNCHECKED_CLIENT
from lab.chaos.checkers.health_truth import HealthTruthSampler
from lab.chaos.checkers.observability import OBSERVED
from lab.chaos.checkers.pool import REUSE
from lab.chaos.checkers.registry import RUN_DEFAULT
from lab.chaos.checkers.writers import WRITE_SERVERS
from lab.chaos.checkers.writes import READ_INSERTS
from lab.chaos.clients import clients_running
from lab.chaos.connect_loop import Target, connecting, record_attempts
from lab.chaos.groupware_load import HOME, PASSWORD, USER, GroupwareWorkload
from lab.chaos.history import History, Op, client_of, epoch_of, recovery_time
from lab.chaos.nemesis.faults import killed
from lab.chaos.nemesis.schedule import Schedule, Step, injected
from lab.chaos.runner import (
    SETTLE_TIMEOUT_S,
    ChaosRun,
    ClientChoice,
    Probe,
    bank_run,
    clients_chosen,
    list_append_run,
    longest_stall,
    measure,
    record_stock,
    run_schedule,
    stock_clients,
    stock_running,
    sysbench_chosen,
    wait_until,
    workload_client,
    worst_gap,
    write_gap,
)
from lab.chaos.workloads import (
    AGGRESSIVE,
    OX_POOL,
    BankWorkload,
    CountReads,
    InsertWorkload,
    Together,
)
from lab.infra.errors import LabError
from lab.infra.nodes import Node
from lab.infra.waiting import poll
from lab.roles.db.consistency import CHECKSUMS, node_checksums
from lab.roles.db.galera import GaleraNode
from lab.roles.db.galera_recovery import recover_cluster
from lab.roles.db.node import DbNode, NotReady
from lab.roles.db.promote import promote
from lab.roles.dblb.front import ROUND_ROBIN_NAME, DblbPair
from lab.roles.dblb.haproxy_config import READ_PORT
from lab.roles.dblb.keepalived_config import ADVERT_INT_S
from lab.roles.filestore.nfs import EXPORT_PATH
from lab.roles.groupware.client import OxSession
from lab.roles.status import render_status
from lab.roles.system import Lab
from lab.spec.operator.lint import explain


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
    workload: GroupwareWorkload | None = None,
) -> ChaosRun:
    """Browsers through Apache under faults (of the groupware nodes unless `nodes` says
    otherwise): nobody has to log in again (session migration), every file downloads as
    it was uploaded, and everyone sees their own new folders (read-your-writes)."""
    assert lab.ox and lab.web
    workload = workload or GroupwareWorkload(lab.web, clients=4, seed=schedule.seed or 0)
    run = run_schedule(lab, workload, schedule, nodes or lab.ox.nodes, name, probe)
    lab.ox.wait_ready()
    for checker in ("sessions-kept", "files-intact", "read-your-writes"):
        run.judge(checker)
    for node in lab.ox.nodes:  # what the nodes said about requests they failed
        failures = node.logs(tail=2000).split("handler failed")[1:]
        if failures:
            run.probes.append(
                {"node": node.name, "server_errors": len(failures), "first": failures[0][:800]}
            )
    return run


MOVE_TIMEOUT_S = 120.0  # the guide's BalancerMember timeout=100, plus a margin


def oxgw_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL oxgw01 under the groupware workload; users move to oxgw02. An upload the
    kill interrupts leaves a partial or unassigned file: reported as a
    finding (OX's listunassignedfiles/repairfilesinfilestore clean these up)."""
    assert lab.web
    before = filestore_inventory(lab)
    workload = GroupwareWorkload(lab.web, clients=4, seed=seed)
    history = workload.history

    def moved(step: Step, node: Node) -> dict[str, Any]:
        """The kill holds until oxgw02 serves users: a killed container's address gives
        no RST, so Apache's connect to it (the guide's timeout=100) can hang until the
        web server's ARP entry for it fails, longer than a fixed hold."""
        since = history.now()
        poll(
            lambda: any(
                op.outcome == "ok" and op.node == "OX2" and op.start > since for op in history.ops
            ),
            timeout=MOVE_TIMEOUT_S,
            what="oxgw02 to serve users after oxgw01 was killed",
        )
        return {"served_by_oxgw02_after_s": round(history.now() - since, 2)}

    schedule = Schedule((Step(3.0, "kill", "oxgw01", 8.0),), seed)
    run = groupware_run(lab, schedule, "oxgw-kill", moved, workload=workload)
    record_inventories(run.history, before, filestore_inventory(lab))
    run.judge("filestore-consistent", ("orphan-metadata",))  # files first, then metadata
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
    return bank_run(lab, schedule, lab.dblb.nodes, "dblb-kill")


def _pair(lab: Lab) -> DblbPair:
    if not isinstance(lab.dblb, DblbPair):
        raise LabError("this scenario needs the dblb pair (`--dblb keepalived`)")
    return lab.dblb


def dblb_pair_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL of the active HAProxy of the keepalived pair under bank transfers through
    the floating address: keepalived's check fails, the member gives the address up and
    its peer takes it; clients reconnect to the same address. The write gap per client
    and keepalived's own takeover time are measured; the total never changes."""
    pair = _pair(lab)
    active = pair.active()
    schedule = Schedule((Step(3.0, "kill-haproxy", active.name, 5.0),), seed)
    run = bank_run(lab, schedule, pair.members, "dblb-pair-kill")
    killed_at = epoch_of(run.history, run.history.faults[0].start)
    took = pair.took_over(killed_at)
    run.probes.append(
        {
            "killed": active.name,
            "taken_over_by": took[0] if took else None,
            "takeover_s": took[1] if took else None,
            "advert_int_s": ADVERT_INT_S,
        }
    )
    return run


def dblb_vrrp_cut(lab: Lab, seed: int) -> ChaosRun:
    """VRRP between the pair cut (iptables on the standby) under bank transfers: the
    standby hears no advertisement, becomes MASTER too and both hold the address. The
    lab samples who holds it; one-address-holder reports the split brain."""
    pair = _pair(lab)
    standby = next(m for m in pair.members if m is not pair.active())
    workload = BankWorkload(pair, clients=4, seed=seed, client=workload_client(lab))
    history = workload.history

    def sample_holders(step: Step, node: Node) -> dict[str, Any]:
        deadline = time.monotonic() + step.hold_s - 1.0
        while time.monotonic() < deadline:
            history.probe(HOLDERS, holders=[m.name for m in pair.holders()], address=pair.vip)
        return {"standby": standby.name}

    schedule = Schedule((Step(3.0, "vrrp-cut", standby.name, 10.0),), seed)
    run = run_schedule(lab, workload, schedule, pair.members, "dblb-vrrp-cut", sample_holders)
    history.probe(HOLDERS, holders=[m.name for m in pair.holders()], address=pair.vip)
    run.judge("bank", accounts=workload.accounts, total=workload.total)
    run.judge("one-address-holder")
    return run


def dblb_local_writer(lab: Lab, seed: int) -> ChaosRun:
    """Inserts through both groupware nodes' own HAProxies (`--dblb local`) while the
    writer, galera1, is killed and comes back: the instances follow clustercheck's one
    writer to galera2 and back to galera1, never writing to two nodes at once. Every
    instance's write servers are sampled throughout."""
    haproxies = lab.haproxies()
    if lab.request.dblb != "local" or not lab.galera or len(haproxies) < 2:
        raise LabError("dblb-local-writer needs guide-galera with `--dblb local`")
    history = History()
    numbers = itertools.count(1)
    inserts = [
        InsertWorkload(h, 2, seed, history, client=workload_client(lab), numbers=numbers)
        for h in haproxies
    ]
    stop = threading.Event()

    def sample(_: int) -> None:
        while not stop.wait(0.2):
            try:
                up = {
                    h.name: [
                        b.server
                        for b in h.backends(1.0)
                        if b.listener == h.WRITE and b.status == "UP"
                    ]
                    for h in haproxies
                }
            except requests.RequestException:
                continue  # a stats page that does not answer is no evidence either way
            history.probe(WRITE_SERVERS, instances=up)

    writer = sorted(n.name for n in lab.galera.nodes)[0]  # clustercheck's /master choice
    step = Step(3.0, "kill", writer, 8.0)
    run = ChaosRun("dblb-local-writer", lab.plan.profile.name, Schedule((step,), seed), history)
    run.prepare(lab)
    workload = Together(inserts)
    workload.setup()
    with workload.running(), clients_running(sample, [(0,)], stop):
        poll(lambda: workload.acked() > 5, timeout=30, what="the inserts to get going")
        wait_until(history, step.at_s)
        with injected(step, lab.galera.nodes, history):
            wait_until(history, history.now() + step.hold_s)
        back = history.now()
        # the writer returns: clustercheck names it the writer again once it is Synced
        poll(
            lambda: any(op.node == writer and op.start > back for op in history.ops),
            timeout=SETTLE_TIMEOUT_S,
            what=f"writes to move back to {writer} once it returned",
        )
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
    run.measurements = measure(history)
    history.final(READ_INSERTS, sorted(inserts[0].present()))
    run.judge("no-acknowledged-write-lost")
    run.judge("one-writer")
    return run


CONNECT_TIMEOUT_S = 2  # the stock client's --connect-timeout


def dblb_local_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL of oxgw01's own HAProxy (`--dblb local`) under browsers through Apache:
    oxgw01 answers 503 (OX's DBP-0001: no database) and Apache's balancer, which the lab
    renders with failonstatus=503 for this option, puts OX1 into error and moves its
    users to oxgw02 (their sessions live in configdb). oxgw02's users see nothing."""
    assert lab.ox
    if lab.request.dblb != "local":
        raise LabError("dblb-local-kill needs `--dblb local`")
    node = lab.ox.nodes[0]
    schedule = Schedule((Step(3.0, "kill-haproxy", node.name, 8.0),), seed)
    run = groupware_run(lab, schedule, "dblb-local-kill")
    run.judge("failures-confined", route=node.route)
    assert lab.web
    lab.web.reset_balancer()  # OX1 is healthy again; do not wait out retry=60
    return run


def dns_round_robin(lab: Lab, seed: int) -> ChaosRun:
    """Why the guide rules DNS round robin out: a stock client connects in a loop through
    a name that resolves to both HAProxies (Docker's DNS for an alias both carry) and
    through the floating address, while the holder freezes (docker pause: a dead machine
    whose address stays in the zone, as in any static DNS). The address serves again
    after keepalived's takeover; the name keeps handing out the dead address."""
    pair = _pair(lab)
    step = Step(3.0, "pause", pair.active().name, 10.0)
    targets = {UNCHECKED_CLIENT: Target((ROUND_ROBIN_NAME,)), CHECKED_CLIENT: Target((pair.vip,))}
    return unchecked_rotation_run(
        lab, "dns-round-robin", Schedule((step,), seed), pair.members, targets
    )


def jdbc_round_robin(lab: Lab, seed: int) -> ChaosRun:
    """Why the guide does not recommend the JDBC driver's own round robin: a client that
    takes the Galera nodes in turn, one per connect, with no health check (as a driver's
    host list does), beside the same client through HAProxy's read listener, while one
    node is cut off from the others (it goes non-Primary and refuses queries, but still
    accepts connections). HAProxy's clustercheck takes the node out; the rotation keeps
    sending every third connect to it."""
    assert lab.galera and lab.dblb
    names = tuple(sorted(n.name for n in lab.galera.nodes))
    step = Step(3.0, "partition", names[-1], 10.0)
    targets = {UNCHECKED_CLIENT: Target(names), CHECKED_CLIENT: Target((lab.dblb.ip,), READ_PORT)}
    schedule = Schedule((step,), seed)
    return unchecked_rotation_run(lab, "jdbc-round-robin", schedule, lab.galera.nodes, targets)


def unchecked_rotation_run(
    lab: Lab,
    name: str,
    schedule: Schedule,
    nodes: Sequence[Node],
    targets: dict[str, Target],
) -> ChaosRun:
    """The stock client's connect loops (the unchecked rotation beside the checked
    path) through the schedule's one fault, and a few connect timeouts after it; judged
    by unchecked-rotation."""
    assert lab.run
    history = History()
    [step] = schedule.steps
    run = ChaosRun(name, lab.plan.profile.name, schedule, history)
    run.prepare(lab)
    with connecting(lab.run, nodes[0].network, targets, CONNECT_TIMEOUT_S) as client:
        wait_until(history, step.at_s)
        with injected(step, nodes, history):
            wait_until(history, history.now() + step.hold_s)
        wait_until(history, history.now() + 2 * CONNECT_TIMEOUT_S)
        processes = {f: i for i, f in enumerate(targets)}
        record_attempts(client.logs(), history, time.time(), processes)
    history.ops.sort(key=lambda op: op.start)
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
    run.measurements = measure(history)
    run.judge("unchecked-rotation", slow_s=CONNECT_TIMEOUT_S)
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
    client = workload_client(lab)
    writes = InsertWorkload(lab.dblb, clients=2, seed=seed, history=history, client=client)
    reads = CountReads(lab.dblb, clients=2, seed=seed, history=history, client=client)
    schedule = Schedule((Step(3.0, "kill", master.name, 5.0),), seed)
    run = ChaosRun("gtid-master-kill", lab.plan.profile.name, schedule, history)
    run.prepare(lab)
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
    history.final(READ_INSERTS, sorted(writes.present()))
    run.judge("no-acknowledged-write-lost", window_s=RPO_WINDOW_S)
    return run


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
    for node in lab.ox.nodes:
        # a node removes the partial files an interrupted upload left on the server at
        # its next upload: one on each node before the filestore is inventoried
        session = OxSession.login(node.url, USER, PASSWORD)
        session.upload(session.folder_id(HOME), f"after-outage-{node.name}.bin", b"after")
    history = workload.history
    fault = history.faults[0]
    run.probes.append({"upload_recovery_s": recovery_time(history, fault, "upload")})
    record_inventories(history, before, filestore_inventory(lab))
    for checker in ("sessions-kept", "files-intact", "clear-storage-errors"):
        run.judge(checker)
    run.judge("filestore-consistent")
    return run


def record_inventories(history: History, before: Inventory, after: Inventory) -> None:
    history.probe(INVENTORY, **inventory_probe(before, "before"))
    history.probe(INVENTORY, **inventory_probe(after, "after"))


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
    history.final(READ_INSERTS, sorted(writes.present()))
    # flush=0 is report-only: losing acknowledged writes is what it demonstrates
    run.judge("no-acknowledged-write-lost", RUN_DEFAULT if flush == 1 else ())
    return run


def galera_crash_flush0(lab: Lab, seed: int) -> ChaosRun:
    return galera_crash(lab, seed, flush_log_at_trx_commit=0)


WRITER_KILL_CLIENTS = ((OX_POOL, 2), (AGGRESSIVE, 1))  # kind, clients; sysbench beside


def writer_kill(lab: Lab, seed: int, writes_after: int = 20) -> ChaosRun:
    """SIGKILL the Galera node holding HAProxy's write role while clients insert
    through the write listener: OX's pool (the operator's configdb.properties), the
    aggressive client and sysbench side by side, so one kill gives the write gap each
    kind of client sees. Writes move to a backup, nothing acknowledged is lost. The
    node is started again once `writes_after` inserts succeeded on the new writer."""
    assert lab.galera and lab.dblb
    history = History()
    numbers = itertools.count(1)  # one sequence: the inserts checker sees one table
    workloads = []
    for (kind, clients), first in zip(WRITER_KILL_CLIENTS, (0, 50), strict=True):
        workload = InsertWorkload(
            lab.dblb, clients, seed, history, client=workload_client(lab, kind), numbers=numbers
        )
        workload.first_process = first
        workloads.append(workload)
    run = ChaosRun("writer-kill", lab.plan.profile.name, Schedule((), seed), history)
    run.prepare(lab)
    workloads[0].setup()
    stock = stock_clients(lab, reads=False)  # the write gap is the figure here
    writer = lab.galera.node(lab.wait_writable())
    peers = [n for n in lab.galera.nodes if n is not writer]

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
        poll(lambda: history.acked() > 20, timeout=30, what="inserts to get going")
        run.schedule = after_warm_up(history, "kill", writer.name, seed)
        wait_until(history, run.schedule.steps[0].at_s)
        fault = history.fault("kill", writer.name)
        with killed(writer):
            killed_at = epoch_of(history, fault.start)
            poll(
                lambda: (
                    all(len(on_new_writer(k)) >= writes_after for k, _ in WRITER_KILL_CLIENTS)
                    and all(s.recovered_after(killed_at) for s in stock)
                ),
                timeout=SETTLE_TIMEOUT_S,
                what=f"{writes_after} inserts per client kind on a backup, and sysbench "
                f"committing again, after {writer.name} was killed",
            )
        history.healed(fault)
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)  # rejoined and settled before the final read
    run.measurements = measure(history)
    record_stock(run, stock)
    for kind, _ in WRITER_KILL_CLIENTS:
        moved = on_new_writer(kind)
        mine = [op for op in history.ops if client_of(history, op) == kind]
        run.probes.append(
            {
                "client": workload_client(lab, kind).description,
                "killed": writer.name,
                "new_writer": moved[0].node,
                "write_gap_s": round(write_gap(history, fault.start, writer.name, kind), 3),
                "acked_on_new_writer": len(moved),
                "errors": sum(op.outcome == "fail" and op.start >= fault.start for op in mine),
                "unknown": sum(op.outcome == "info" for op in mine),
            }
        )
    evidence = gap_evidence.collect(lab.dblb.serving(), peers, writer.name, killed_at)
    run.probes.append({"evidence": asdict(evidence)})
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
    run.why = gap_evidence.explain(evidence, lab.plan.profile, gaps)
    history.final(READ_INSERTS, sorted(workloads[0].present()))
    run.judge("no-acknowledged-write-lost")
    return run


def pause(lab: Lab, seed: int) -> ChaosRun:
    """Freeze (docker pause) a Galera node that is not the writer while one client
    inserts: Galera waits for the silent member until its evs timeouts evict it, then
    the two others go on. The node is held frozen past the profile's eviction time; the
    longest write stall and whether the cluster evicted it are recorded."""
    assert lab.galera and lab.dblb
    galera = lab.galera
    eviction_s = lab.plan.profile.eviction_s
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)  # until every check rose, a backup may write
    writer = lab.wait_writable()
    target = next(n for n in sorted(galera.nodes, key=lambda n: n.name) if n.name != writer)
    others = [n for n in galera.nodes if n is not target]
    sizes: list[int] = []

    def watch(step: Step, node: Node) -> dict[str, Any]:
        def held() -> bool:
            sizes.append(int(others[0].wsrep_status().get("wsrep_cluster_size", "0") or 0))
            return history.now() >= fault_start + step.hold_s - 0.5

        fault_start = history.now()
        poll(held, timeout=step.hold_s + 30, what=f"{node.name} frozen", retry_on=(NotReady,))
        return {"smallest_view_seen": min(sizes)}

    hold_s = round(eviction_s + 3.0, 1)
    schedule = Schedule((Step(3.0, "pause", target.name, hold_s),), seed)
    writes = InsertWorkload(lab.dblb, clients=1, seed=seed, client=workload_client(lab))
    history = writes.history
    run = run_schedule(lab, writes, schedule, galera.nodes, "pause", watch)
    fault = history.faults[0]
    run.probes.append(
        {
            "paused": target.name,
            "eviction_s": eviction_s,
            "evicted": min(sizes) < len(galera.nodes),
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
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
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
        poll(lambda: history.acked() > 100, timeout=60, what="the pools to get going")
        run.schedule = after_warm_up(history, "kill", writer.name, seed)
        wait_until(history, run.schedule.steps[0].at_s)
        fault = history.fault("kill", writer.name)
        with killed(writer):
            poll(
                observe,
                timeout=SETTLE_TIMEOUT_S,
                what=f"every pooled client writing on a survivor after {writer.name} was killed",
                retry_on=(NotReady,),
            )
        history.healed(fault)
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
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


def connection_counters(node: GaleraNode) -> dict[str, int]:
    """The server's connection figures: Aborted_connects, Threads_connected and the
    max_connections limit (what a reconnect storm eats into)."""
    rows = node.sql(
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


@dataclass(frozen=True)
class Scenario:
    """One chaos scenario: the CLI's choices, `lab chaos list`, the chaos tests and the
    README's scenario table all come from (or are checked against) this registry."""

    name: str
    topology: str
    fault: str
    proves: str
    run: Callable[[Lab, int], ChaosRun]
    dblb: str = "single"  # the load balancer option its lab runs with (`--dblb`)
    # lint rules whose findings name the operator's settings behind this scenario's figure
    explained_by: tuple[str, ...] = ()
    runs_sysbench: bool = False  # it runs sysbench itself, whatever --client says

    @property
    def lab(self) -> str:
        """Its lab as a person types it: the topology, and the --dblb option if not single."""
        return self.topology + ("" if self.dblb == "single" else f" --dblb {self.dblb}")


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "writer-kill",
            "galera",
            "SIGKILL of the Galera node holding HAProxy's write role",
            "writes move to a backup, nothing acknowledged is lost; the write gap per "
            "failover profile",
            writer_kill,
            explained_by=("HA004", "HA005"),
            runs_sysbench=True,
        ),
        Scenario(
            "pause",
            "galera",
            "docker pause (freeze) of a non-writer Galera node past the eviction timeout",
            "the frozen node is evicted; writes stall at most until then and resume; "
            "nothing acknowledged is lost",
            pause,
            explained_by=("HA005",),
        ),
        Scenario(
            "pool-idle",
            "galera",
            "none: OX's pooled connections sit idle for maxIdleTime less 5 s",
            "every pooled connection still answers: the balancer keeps idle connections "
            "as long as OX's pool does",
            pool_idle,
            explained_by=("HA001",),
        ),
        Scenario(
            "reader-kill",
            "galera",
            "SIGKILL of a Galera node that serves reads, not writes",
            "every reader reads again; the worst read gap per client kind (OX's pool, the "
            "aggressive client) through the read listener",
            reader_kill,
            explained_by=("HA004", "HA005"),
        ),
        Scenario(
            "reconnect-storm",
            "galera",
            f"SIGKILL of the Galera writer under {STORM_NODES} OX pools of "
            f"{STORM_CONNECTIONS} busy connections each",
            "every pooled client writes again on a survivor, nothing acknowledged is lost; "
            "lab status, HAProxy's stats and clustercheck answer within 5 s throughout; "
            "aborted connects, queued sessions and connection headroom measured",
            reconnect_storm,
            explained_by=("HA004", "HA005"),
        ),
        Scenario(
            "galera-nemesis",
            "galera",
            "seeded random kills, pauses and partitions of Galera nodes, one at a time",
            "list-append: no G0/G1a/G1b/G1c, garbage or internally inconsistent read, "
            "nothing acknowledged lost; G-single, G2-item, lost updates, stale reads "
            "reported as findings",
            galera_nemesis,
        ),
        Scenario(
            "partition",
            "galera",
            "one Galera node cut off from the other two (iptables)",
            "the minority goes non-Primary, refuses writes, leaves HAProxy's rotation and "
            "rejoins by IST; the bank's total never changes",
            galera_partition,
        ),
        Scenario(
            "health-truth",
            "galera",
            "desync, SIGSTOP of mysqld, docker pause",
            "every clustercheck 200 can write; a stall caused by a frozen peer (until it "
            "is evicted, and while it is seen rejoining) is reported as stalled-by-peer",
            health_truth,
            explained_by=("HA003",),
        ),
        Scenario(
            "dblb-kill",
            "galera",
            "SIGKILL of HAProxy",
            "measured as the single point of failure it is: nothing is served until it "
            "is back; the bank's total never changes",
            dblb_kill,
        ),
        Scenario(
            "dblb-pair-kill",
            "galera",
            "SIGKILL of the active HAProxy of the keepalived pair",
            "keepalived moves the floating address to the other HAProxy; the write gap "
            "per client and the takeover time are measured; the bank's total never changes",
            dblb_pair_kill,
            dblb="keepalived",
        ),
        Scenario(
            "dblb-vrrp-cut",
            "galera",
            "VRRP between the pair cut (iptables drops protocol 112 on the standby)",
            "report-only: both HAProxies hold the floating address and the lab reports "
            "the split brain (one-address-holder fails); one holder again after the heal",
            dblb_vrrp_cut,
            dblb="keepalived",
        ),
        Scenario(
            "dns-round-robin",
            "galera",
            "the HAProxy holding the floating address frozen (docker pause); a stock "
            "client connects through a DNS name with both HAProxies' addresses",
            "report-only: the floating address serves again after keepalived's takeover "
            "while the name keeps handing out the dead address (why the guide rules DNS "
            "round robin out)",
            dns_round_robin,
            dblb="keepalived",
        ),
        Scenario(
            "jdbc-round-robin",
            "galera",
            "one Galera node cut off from the others (iptables); a stock client takes the "
            "nodes in turn, one per connect, as a JDBC driver's host list does",
            "report-only: HAProxy's read listener serves on while the rotation keeps "
            "reaching the non-Primary node (why the guide advises against the driver's "
            "round robin: no health checks)",
            jdbc_round_robin,
        ),
        Scenario(
            "dblb-local-writer",
            "guide-galera",
            "SIGKILL of the Galera writer, then its return, under inserts through both "
            "groupware nodes' own HAProxies",
            "both instances follow clustercheck's one writer away and back; never two "
            "writers at once (one-writer), nothing acknowledged is lost",
            dblb_local_writer,
            dblb="local",
        ),
        Scenario(
            "dblb-local-kill",
            "guide-galera",
            "SIGKILL of oxgw01's own HAProxy under browsers through Apache",
            "only oxgw01's users see errors (OX's DBP-0001, HTTP 503) and Apache's balancer "
            "(failonstatus=503) moves them to oxgw02; no session lost, files intact",
            dblb_local_kill,
            dblb="local",
        ),
        Scenario(
            "galera-crash",
            "galera",
            "SIGKILL of all three Galera nodes at once",
            "recovery bootstraps from the highest seqno; with "
            "innodb_flush_log_at_trx_commit=1 nothing acknowledged is lost",
            galera_crash,
            explained_by=("DB001",),
        ),
        Scenario(
            "galera-crash-flush0",
            "galera",
            "the same with innodb_flush_log_at_trx_commit=0",
            "report-only: nodes recover to different seqnos and the lost acknowledged "
            "writes are listed",
            galera_crash_flush0,
        ),
        Scenario(
            "gtid-master-kill",
            "gtid",
            "SIGKILL of the GTID master, then `lab promote`",
            "reads go on from the slave; writes resume on the promoted slave; nothing "
            "acknowledged is lost outside the replication window",
            gtid_master_kill,
        ),
        Scenario(
            "oxgw-kill",
            "guide",
            "SIGKILL of oxgw01 under browsers through Apache",
            "users move to oxgw02 and stay logged in; files download byte-identical; no "
            "metadata without its file",
            oxgw_kill,
        ),
        Scenario(
            "rolling-restart",
            "guide",
            "oxgw01 restarted, then oxgw02 once oxgw01 serves",
            "no session lost, files intact, read-your-writes",
            rolling_restart,
        ),
        Scenario(
            "lagging-slave",
            "guide",
            "the GTID slave stops applying for 8 s under browsers",
            "read-your-writes: OX's replication monitor sends a user's reads to the "
            "master while the slave lags",
            lagging_slave,
            explained_by=("OX001",),
        ),
        Scenario(
            "filestore-outage",
            "guide",
            "the NFS server stopped",
            "file operations fail with OX's FLS error, folders keep working, uploads "
            "work again after the heal; no partial or orphan file",
            filestore_outage,
        ),
    )
}


def run_registered(name: str, lab: Lab, seed: int, clients: ClientChoice | None = None) -> ChaosRun:
    """Run scenario `name` on `lab` with the chosen clients (None: those chosen around
    the call, e.g. by pytest's --chaos-client; the CLI and the chaos tests alike); on
    the operator's files, the run names their settings that lint relates to it."""
    scenario = SCENARIOS[name]
    with contextlib.ExitStack() as chosen:
        if clients is not None:
            chosen.enter_context(clients_chosen(clients))
        # sysbench beside the scenario's own clients, when chosen (writer-kill always
        # runs it itself, as one of the clients whose gap it compares)
        stock = stock_clients(lab) if sysbench_chosen() and not scenario.runs_sysbench else []
        with stock_running(stock):
            run = scenario.run(lab, seed)
        record_stock(run, stock)
    if lab.galera or lab.gtid:
        checksum_nodes(lab, run.history)
        run.judge("nodes-consistent")
    run.explanations = explain(lab.plan, scenario.explained_by)
    return run


def checksum_nodes(lab: Lab, history: History) -> None:
    """After the scenario, the chunk checksums of every database node that should hold
    the same data: all Galera nodes; the GTID master and its slave once caught up (a
    slave the scenario detached, e.g. by promotion, is not compared)."""
    nodes: list[DbNode] = []
    if lab.galera:
        lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
        nodes = list(lab.galera.nodes)
    elif lab.gtid:
        try:
            replicating = lab.gtid.slave.replica_status() is not None
        except NotReady:
            replicating = False
        if replicating:
            lab.gtid.wait_caught_up()
            nodes = [lab.gtid.master, lab.gtid.slave]
        else:  # promoted: the old master is out of rotation until rebuilt by hand
            nodes = [lab.gtid.slave]
    sums = {n.name: node_checksums(n, galera=lab.galera is not None) for n in nodes}
    history.probe(CHECKSUMS, nodes=sums)


def markdown_table() -> str:
    """The README's scenario table (a unit test keeps the README equal to it)."""
    rows = ["| scenario | topology | fault | what it proves |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.lab} | {s.fault} | {s.proves} |" for s in SCENARIOS.values()]
    return "\n".join(rows)
