"""The database load balancer's scenarios: HAProxy killed (one, a keepalived pair, one per
groupware node), VRRP cut, and the rotations without a health check (DNS, JDBC)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

import requests

from lab.chaos.checkers.floating import CHECKED_CLIENT, HOLDERS, UNCHECKED_CLIENT
from lab.chaos.checkers.writers import WRITE_SERVERS
from lab.chaos.checkers.writes import READ_INSERTS
from lab.chaos.clients.connect_loop import Target, connecting, record_attempts
from lab.chaos.clients.threads import clients_running
from lab.chaos.clients.workloads import (
    BankWorkload,
    InsertWorkload,
    Together,
)
from lab.chaos.history import History, epoch_of
from lab.chaos.nemesis.schedule import Schedule, Step, injected
from lab.chaos.runner import (
    SETTLE_TIMEOUT_S,
    ChaosRun,
    bank_run,
    groupware_run,
    measure,
    run_schedule,
    settle,
    wait_until,
    workload_client,
)
from lab.infra.errors import LabError
from lab.infra.nodes import Node
from lab.infra.waiting import poll
from lab.roles.dblb.front import ROUND_ROBIN_NAME, DblbPair
from lab.roles.dblb.haproxy_config import READ_PORT
from lab.roles.dblb.keepalived_config import ADVERT_INT_S
from lab.roles.dblb.role import haproxies
from lab.roles.system import Lab


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
    instances = haproxies(lab)
    if lab.request.dblb != "local" or not lab.galera or len(instances) < 2:
        raise LabError("dblb-local-writer needs guide-galera with `--dblb local`")
    history = History()
    numbers = itertools.count(1)
    inserts = [
        InsertWorkload(h, 2, seed, history, client=workload_client(lab), numbers=numbers)
        for h in instances
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
                    for h in instances
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
    settle(lab, history)
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
        log = client.logs()
        if not record_attempts(log, history, time.time(), processes):
            # seen once at -n 2 (seed 3771902914): no attempt at all; say what the client did
            tail = " | ".join(log.strip().splitlines()[-5:]) or "(no output)"
            raise LabError(
                f"the stock client's connect loop recorded no attempt (its container "
                f"{client.status}): {tail[-600:]}"
            )
    history.ops.sort(key=lambda op: op.start)
    settle(lab, history)
    run.measurements = measure(history)
    run.judge("unchecked-rotation", slow_s=CONNECT_TIMEOUT_S)
    return run
