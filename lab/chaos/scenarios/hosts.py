"""Chaos scenarios on the operator's hosts, the control-node way Jepsen runs them: the
clients run here and connect to the cluster's own ports with the operator's OX database
user; the faults are commands over SSH (lab/chaos/nemesis/hosts.py); the history, checkers
and report are the container scenarios' own. Only scenarios whose faults an SSH host
supports run here; a refusal, not a guess, when the cluster is unhealthy before."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from lab.chaos.clients.workloads import InsertWorkload
from lab.chaos.history import READ_INSERTS, History
from lab.chaos.nemesis.hosts import (
    FaultJournal,
    heal_pending,
    partitioned,
)
from lab.chaos.nemesis.schedule import Schedule
from lab.chaos.runner import HOSTS_PROFILE, SSH, ChaosRun, measure, warmed_up
from lab.chaos.scenarios.galera import WRITER_KILL_CLIENTS, pause_at, writer_kill_at
from lab.chaos.scenarios.groupware import filestore_outage_at
from lab.chaos.scenarios.place import OnHosts, health_problems, insert_workloads
from lab.infra.errors import LabError
from lab.infra.waiting import poll
from lab.roles.health import SETTLE_BEFORE_FAULT_S, Unhealthy, wait_healthy
from lab.verify.target import Target

HOLD_S = 8.0  # how long a partition lasts


class Refused(LabError):
    """The cluster is not healthy before the fault: no fault is injected."""


def require_healthy(target: Target, settle_s: float = SETTLE_BEFORE_FAULT_S) -> None:
    """Healthy before the fault, or Refused naming every problem: a state that passes
    (a server rising after an earlier run) is waited out for `settle_s`."""
    try:
        wait_healthy(
            lambda: health_problems(target),
            timeout=settle_s,
            what="a healthy cluster before the fault",
        )
    except Unhealthy as exc:
        raise Refused(f"refusing to inject faults into an unhealthy cluster: {exc}") from None


@contextlib.contextmanager
def inserting(place: OnHosts, seed: int, history: History) -> Iterator[list[InsertWorkload]]:
    """OX's pool and the aggressive client inserting through the write listener."""
    workloads = insert_workloads(place, WRITER_KILL_CLIENTS, seed, history)
    workloads[0].setup()
    with contextlib.ExitStack() as running:
        for workload in workloads:
            running.enter_context(workload.running())
        warmed_up(
            history,
            20,
            timeout=30,
            what="inserts to get going",
            state=place.describe_health,
        )
        yield workloads


def writer_kill(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    """writer-kill on the operator's hosts: the lab's own scenario body (galera.py's
    writer_kill_at), its fault `systemctl kill` of the writer's database over SSH."""
    return writer_kill_at(OnHosts(target, journal), seed)


def freeze(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    """pause on the operator's hosts: the lab's own scenario body (galera.py's
    pause_at), the server SIGSTOPped over SSH past the cluster's own eviction time."""
    return pause_at(OnHosts(target, journal), seed)


def partition(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    """A non-writer Galera host cut off from its peers (iptables over SSH) for HOLD_S
    while OX's pool and the aggressive client insert: the others go on, it comes back,
    nothing acknowledged is lost."""
    place = OnHosts(target, journal)
    history = History()
    run = ChaosRun("partition", HOSTS_PROFILE, Schedule((), seed), history, transport=SSH)
    writer = place.writer()
    victim = next(h for h in target.role("galera") if h.name != writer.name)
    peers = [h for h in target.role("galera") if h is not victim]
    with inserting(place, seed, history) as workloads:
        event = history.fault("partition", victim.name)
        with partitioned(victim, peers, journal):
            at = history.now()
            poll(lambda: history.now() - at >= HOLD_S, timeout=HOLD_S + 5, what="the hold")
        history.healed(event)
    place.settle(history)
    run.measurements = measure(history)
    history.final(READ_INSERTS, sorted(workloads[0].present()))
    run.judge("no-acknowledged-write-lost")
    return run


def filestore_outage(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    """filestore-outage on the operator's hosts: the lab's own scenario body
    (groupware.py's filestore_outage_at) through their front end as their test user; the
    browsers' files and folders stay in its personal folder (chaos-*), as a user's would."""
    return filestore_outage_at(OnHosts(target, journal), seed)


def prepared(
    target: Target,
    journal: FaultJournal,
    say: Callable[[str], None],
    settle_s: float = SETTLE_BEFORE_FAULT_S,
) -> None:
    """Before any fault on hosts: every host answers, what an earlier run left is healed
    (saying so), and the cluster is healthy within `settle_s` (a refusal, not a guess,
    otherwise)."""
    target.preflight()
    for line in heal_pending(target.hosts, journal):
        say(line)
    require_healthy(target, settle_s)
