"""The GTID master/slave scenarios: the master killed and the slave promoted, a slave that
lags."""

from __future__ import annotations

from dataclasses import asdict

from lab.chaos.clients.workloads import (
    CountReads,
    InsertWorkload,
)
from lab.chaos.history import READ_INSERTS, History, recovery_time
from lab.chaos.nemesis.schedule import Schedule, Step
from lab.chaos.runner import (
    ChaosRun,
    groupware_run,
    measure,
    wait_until,
    workload_client,
)
from lab.infra.waiting import poll
from lab.roles.db.promote import promote
from lab.roles.system import Lab

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
        # the fault is recorded once the SIGKILL is delivered: the replication window
        # ends there, and no acknowledgement of the dead master's can come later
        master.kill()
        fault = history.fault("kill", master.name)
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
