"""The groupware tier's scenarios: a node killed under sessions, a rolling restart, the NFS
filestore down."""

from __future__ import annotations

import time
from typing import Any

from lab.chaos.checkers.filestore import INVENTORY, Inventory, inventory_probe
from lab.chaos.clients.groupware import GroupwareFront, GroupwareWorkload
from lab.chaos.history import History, recovery_time
from lab.chaos.nemesis.schedule import Schedule, Step
from lab.chaos.runner import (
    ChaosRun,
    groupware_run,
    run_schedule,
)
from lab.chaos.scenarios.place import InLab, Place
from lab.infra.nodes import Node
from lab.infra.waiting import poll
from lab.roles.filestore.nfs import EXPORT_PATH
from lab.roles.system import Lab

MOVE_TIMEOUT_S = 120.0  # the guide's BalancerMember timeout=100, plus a margin


def oxgw_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL oxgw01 under the groupware workload; users move to oxgw02. An upload the
    kill interrupts leaves a partial or unassigned file: reported as a
    finding (OX's listunassignedfiles/repairfilesinfilestore clean these up)."""
    assert lab.web
    before = filestore_inventory(lab)
    workload = GroupwareWorkload(GroupwareFront.of(lab.web), clients=4, seed=seed)
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


def filestore_outage(lab: Lab, seed: int) -> ChaosRun:
    """filestore-outage in the lab (see filestore_outage_at), and then what only the
    lab's containers show: the filestore holds exactly the files the metadata names."""
    assert lab.ox and lab.ox.filestore
    before = filestore_inventory(lab)
    run = filestore_outage_at(InLab(lab), seed)
    lab.ox.wait_ready()
    # an upload the outage caught may fail after the workload has stopped, and its
    # partial file is removed once the server answers: inventory when nothing is left
    lab.ox.wait_filestore_settled()
    record_inventories(run.history, before, filestore_inventory(lab))
    run.judge("filestore-consistent")
    return run


def filestore_outage_at(place: Place, seed: int) -> ChaosRun:
    """Stop the NFS filestore under browsers working through the front end: uploads and
    downloads fail with OX's FLS error (not an internal error) while folders keep
    working, nobody is logged out, and afterwards uploads work again and every file
    downloads as it was uploaded. The same body in the lab (the container stopped) and
    on the operator's hosts (`systemctl stop` of the NFS server over SSH)."""
    filestore = place.filestore()
    schedule = Schedule((Step(3.0, "stop", filestore.name, 6.0),), seed)
    workload = GroupwareWorkload(place.groupware_front(), clients=4, seed=seed)
    run = run_schedule(
        place, workload, schedule, [filestore], "filestore-outage", recovered_f="upload"
    )
    history = workload.history
    fault = history.faults[0]
    run.probes.append(
        {"stopped": filestore.name, "upload_recovery_s": recovery_time(history, fault, "upload")}
    )
    for checker in ("sessions-kept", "files-intact", "clear-storage-errors"):
        run.judge(checker)
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
