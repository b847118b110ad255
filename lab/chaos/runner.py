"""Chaos runs: a recorded workload, a fault schedule, the checkers, and the measurements
per fault (time to recovery, client errors, operations in unknown state), written as a
JSON report and an HTML page with a timeline (operations over time, faults shaded)."""

from __future__ import annotations

import contextlib
import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from lab.chaos.checkers import Verdict
from lab.chaos.checkers.registry import RUN_DEFAULT, Check, Forbidden
from lab.chaos.clients.groupware import GroupwareFront, GroupwareWorkload
from lab.chaos.clients.sysbench import Sysbench
from lab.chaos.clients.workloads import (
    AGGRESSIVE,
    OX_POOL,
    BankWorkload,
    ClientKind,
    ListAppendWorkload,
    as_final_read,
    client_kind,
)
from lab.chaos.history import (
    FINAL,
    TXN,
    Fault,
    History,
    client_of,
    epoch_of,
    outage,
    recovery_time,
)
from lab.chaos.nemesis.leftovers import Healing, heal_lab
from lab.chaos.nemesis.schedule import Schedule, Step
from lab.infra.errors import LabError, StartupError
from lab.infra.nodes import Node
from lab.infra.waiting import poll
from lab.roles.db.storage import require_real_fsync
from lab.roles.system import Lab

SETTLE_TIMEOUT_S = 180.0


def settle(lab: Lab, history: History | None = None) -> None:
    """Healthy again after a run's faults: every node Primary and Synced, every HAProxy
    server UP, seen once the profile's eviction window since the last heal is over (a
    member thawed after evs.suspect_timeout can still split the view seconds after a
    first look saw it healthy). Otherwise the run fails naming each node's state: a
    scenario that leaves the cluster down never passes."""
    healed = history.last_heal() if history else None
    since = healed + lab.plan.profile.eviction_s if healed is not None else 0.0
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S, not_before=since)


SYSBENCH = "sysbench"
CLIENT_CHOICES = (OX_POOL, AGGRESSIVE, SYSBENCH)


@dataclass(frozen=True)
class ClientChoice:
    """Which clients a chaos run uses (`lab chaos run --client`, pytest --client):
    the recorded workload's pool (OX's, or the aggressive client), and whether sysbench
    runs beside it through the write and read listeners."""

    workload: str = OX_POOL
    sysbench: bool = False

    @classmethod
    def of(cls, names: Sequence[str]) -> ClientChoice:
        unknown = [n for n in names if n not in CLIENT_CHOICES]
        if unknown:
            raise LabError(
                f"unknown client {unknown[0]!r}; choose from {', '.join(CLIENT_CHOICES)}"
            )
        pools = [n for n in names if n != SYSBENCH]
        return cls(pools[-1] if pools else OX_POOL, SYSBENCH in names)


_CHOICE: ContextVar[ClientChoice] = ContextVar(
    "oxlab_clients",
    default=ClientChoice(),  # noqa: B039 - frozen, never mutated
)


@contextlib.contextmanager
def clients_chosen(choice: ClientChoice) -> Iterator[None]:
    """The clients every workload of the runs in this block uses."""
    token = _CHOICE.set(choice)
    try:
        yield
    finally:
        _CHOICE.reset(token)


def workload_client(lab: Lab, name: str | None = None) -> ClientKind:
    """The chosen client kind (or `name`) with the operator's configdb.properties."""
    return client_kind(name or _CHOICE.get().workload, lab.plan.pool_settings())


CONTAINERS, SSH = "containers", "SSH hosts"  # the transports a scenario's faults travel by
HOSTS_PROFILE = "the hosts' own"  # on SSH hosts the timing is the operator's, not a profile's


@dataclass
class ChaosRun:
    scenario: str
    profile: str
    schedule: Schedule
    history: History
    verdicts: list[Verdict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    healing: Healing = field(default_factory=Healing)  # leftovers of earlier runs
    probes: list[dict[str, Any]] = field(default_factory=list)  # checks made during faults
    files: list[dict[str, str]] = field(default_factory=list)  # the operator's, path and hash
    # stock clients (sysbench) beside the lab's: per fault, what they saw
    stock: list[dict[str, Any]] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # what explains each client's figure
    explanations: list[str] = field(default_factory=list)  # their settings behind the figures
    transport: str = CONTAINERS  # how the faults reached the nodes: containers or SSH hosts

    def prepare(self, lab: Lab) -> None:
        """First step of every run: heal what an earlier run left (saying so, and saying
        what could not be healed, before anything starts), then wait for a healthy lab.
        Records which of the operator's files the lab runs on."""
        require_real_fsync(lab.plan.storage, f"chaos scenario {self.scenario}")
        self.files = lab.plan.records()
        self.healing = heal_lab(lab, say=_say)
        lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
        if lab.web and lab.ox:
            # a groupware node an earlier test stopped or restarted stays in Apache's Err
            # state for the guide's retry=60 s; browsers start once both nodes serve
            lab.balance_front_end(timeout=SETTLE_TIMEOUT_S)

    def judge(
        self, checker: str, forbidden: Forbidden | str = RUN_DEFAULT, **params: Any
    ) -> Verdict:
        """Run a checker (lab/chaos/checkers/registry.py) on this run's history and keep the
        check, so `lab check` can replay it on the saved history with the same settings."""
        check = Check.of(checker, forbidden, **params)
        verdict = check.judge(self.history)
        self.checks.append(check)
        self.verdicts.append(verdict)
        return verdict

    def verdict(self, checker: str) -> Verdict:
        return next(v for v in self.verdicts if v.checker == checker)

    def violations(self) -> list[str]:
        """Verdicts that break what the scenario promises (allowed anomalies are findings)."""
        return [
            v.summary() for c, v in zip(self.checks, self.verdicts, strict=True) if c.violated(v)
        ]

    def meta(self) -> dict[str, Any]:
        """The history file's meta line: enough for `lab check` to judge it again."""
        return {
            "scenario": self.scenario,
            "profile": self.profile,
            "seed": self.schedule.seed,
            "files": self.files,
            "checks": [asdict(c) for c in self.checks],
        }


Probe = Callable[[Step, Any], dict[str, Any]]  # the step, its target (a Node or an SSH Host)


class RecordedWorkload(Protocol):
    """What a chaos run needs of a workload (database or groupware)."""

    history: History

    def setup(self) -> None: ...

    def running(self) -> contextlib.AbstractContextManager[Any]: ...

    def acked(self, f: str | None = None) -> int: ...


class Where(Protocol):
    """Where run_schedule runs: the lab's containers or the operator's SSH hosts (the
    Places of chaos/scenarios/place.py); how a scheduled fault is made there."""

    profile: str  # the failover profile's name, or HOSTS_PROFILE on the operator's hosts
    transport: str  # CONTAINERS or SSH: the report says how the faults travelled

    def prepare(self, run: ChaosRun) -> None:
        """Before any client starts: leftovers healed, the cluster healthy."""
        ...

    def settle(self, history: History | None = None) -> None:
        """Healthy (again): before a fault, and after it before the final read; with the
        run's history, seen only past the eviction window of its last heal."""
        ...

    def injected(
        self, step: Step, nodes: Sequence[Any], history: History
    ) -> contextlib.AbstractContextManager[None]:
        """One scheduled fault on its target, recorded in the history, healed on exit."""
        ...


def run_schedule(
    where: Lab | Where,
    workload: RecordedWorkload,
    schedule: Schedule,
    nodes: Sequence[Any],
    name: str,
    probe: Probe | None = None,
    recovered_f: str | None = None,
) -> ChaosRun:
    """Heal what an earlier run left, run the workload through the schedule's faults
    (each healed on exit; `probe` checks the faulty state while it holds), wait until
    operations (of kind `recovered_f`) succeed again and the cluster is healthy, then
    measure. `where` is a lab (its containers) or a Place (the operator's hosts too)."""
    place = in_lab(where) if isinstance(where, Lab) else where
    run = ChaosRun(name, place.profile, schedule, workload.history, transport=place.transport)
    place.prepare(run)
    workload.setup()
    history = workload.history
    with workload.running():
        wait_started(workload)
        for step in schedule.steps:
            # one fault at a time: the next starts once the lab has healed from the last
            # (a Galera joiner whose donor is killed mid-transfer aborts: a double fault)
            place.settle(history)
            wait_until(history, step.at_s)
            until = history.now() + step.hold_s
            with place.injected(step, nodes, history):
                if probe:
                    target = next(n for n in nodes if n.name == step.target)
                    run.probes.append({"step": asdict(step), **probe(step, target)})
                wait_until(history, until)
        healed_at = history.now()
        poll(
            lambda: any(
                op.outcome == "ok" and op.start > healed_at and op.f == (recovered_f or op.f)
                for op in history.ops
            ),
            timeout=SETTLE_TIMEOUT_S,
            what=f"{recovered_f or 'the workload'} to succeed again after the last fault",
        )
    place.settle(history)
    run.measurements = measure(history)
    return run


START_TIMEOUT_S = 30.0
STARTED_ACKS = 5  # operations acknowledged before the schedule's clock matters


def wait_started(workload: RecordedWorkload, timeout: float = START_TIMEOUT_S) -> None:
    """Wait until the workload has more than STARTED_ACKS operations acknowledged; if it
    does not, the error names its last failures, which say what the clients ran into."""
    try:
        poll(
            lambda: workload.acked() > STARTED_ACKS,
            timeout=timeout,
            what="the workload to get going",
        )
    except StartupError as exc:
        failed = [op for op in workload.history.ops if op.outcome != "ok"][-3:]
        said = "; ".join(f"{op.describe(60)} on {op.node or '?'}: {op.error}" for op in failed)
        raise StartupError(f"{exc}: {said or 'no operation completed'}") from exc


def in_lab(lab: Lab) -> Where:
    """The lab's containers as a place (chaos/scenarios/place.py builds on this module)."""
    from lab.chaos.scenarios.place import InLab

    return InLab(lab)


def sysbench_chosen() -> bool:
    return _CHOICE.get().sysbench


def stock_clients(lab: Lab, reads: bool = True) -> list[Sysbench]:
    """sysbench's oltp_write_only through the write listener (its table prepared) and,
    with `reads`, oltp_read_only through the read listener."""
    if not lab.dblb or not lab.run:
        return []
    writes = Sysbench(lab.run, lab.dblb)
    writes.prepare()
    if not reads:
        return [writes]
    return [writes, Sysbench(lab.run, lab.dblb, "oltp_read_only", threads=2, write=False)]


@contextlib.contextmanager
def stock_running(stock: Sequence[Sysbench]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for client in stock:
            stack.enter_context(client.running())
        yield


def record_stock(run: ChaosRun, stock: Sequence[Sysbench]) -> None:
    """Per fault, what each stock client saw; its per-second figures go into the
    history as probes, for the report's throughput plot."""
    history = run.history
    for client in stock:
        result = client.result()
        for second in result.seconds:
            at = second.at - epoch_of(history, 0.0)
            history.probe(
                SYSBENCH,
                client=result.test,
                second=round(at, 3),
                tps=second.tps,
                p95_ms=second.p95_ms,
                errors=second.errors,
                reconnects=second.reconnects,
            )
        for fault in history.faults:
            row = result.summary(epoch_of(history, fault.start))
            run.stock.append({"fault": fault.name, "target": fault.target, **row})


def _say(line: str) -> None:
    print(f"chaos: {line}", file=sys.stderr, flush=True)


def wait_until(history: History, at_s: float) -> None:
    """Scheduled time, not a condition: the schedule is what makes a run reproducible."""
    delay = at_s - history.now()
    if delay > 0:
        time.sleep(delay)


def warmed_up(
    history: History,
    acked: int,
    timeout: float,
    what: str,
    state: Callable[[], str] = lambda: "",
) -> None:
    """Wait until the workload has `acked` acknowledged operations, before any fault. A
    cluster that cannot get there is named with what the clients saw (the most common
    errors) and, from `state`, what the cluster was doing at that moment (`lab status`'s
    problems): the scenario has not faulted anything yet, so either the cluster or the
    host let the clients down, and the message must say which."""
    try:
        poll(lambda: history.acked() >= acked, timeout=timeout, what=what)
    except StartupError as exc:
        errors = Counter(op.error[:80] for op in history.ops if op.outcome != "ok")
        seen = "; ".join(f"{n}x {text}" for text, n in errors.most_common(3)) or "no errors"
        described = state()
        raise StartupError(
            f"{exc}: {history.acked()} of {acked} operations acknowledged before any fault, "
            f"{sum(errors.values())} failed ({seen})" + (f"; {described}" if described else "")
        ) from None


def measure(history: History) -> list[dict[str, Any]]:
    """Per fault (and per client kind, when several ran): time to the first ok
    operation begun after it, errors and unknowns clients saw from the fault until
    that recovery (or the fault's end)."""
    kinds = sorted({client_of(history, op) for op in history.ops if op.process != FINAL})
    rows = []
    for fault in history.faults:
        for kind in kinds:
            rows.append({"client": kind, **_measure_fault(only_client(history, kind), fault)})
    return rows


def only_client(history: History, kind: str) -> History:
    """The operations of one client kind, with the same faults and clock; never the
    final reads, which are made after healing and are nobody's recovery."""
    ops = [op for op in history.ops if op.process != FINAL and client_of(history, op) == kind]
    return History(ops=ops, faults=history.faults, clients=history.clients, t0=history.t0)


def _measure_fault(history: History, fault: Fault) -> dict[str, Any]:
    recovered = recovery_time(history, fault)
    until = fault.start + (recovered or 0.0)
    until = max(until, fault.end or fault.start)
    window = [op for op in history.ops if fault.start <= op.end <= until]
    return {
        "fault": fault.name,
        "target": fault.target,
        "start_s": round(fault.start, 3),
        "healed_s": round(fault.end, 3) if fault.end is not None else None,
        "recovery_s": round(recovered, 3) if recovered is not None else None,
        "errors": sum(op.outcome == "fail" for op in window),
        "unknown": sum(op.outcome == "info" for op in window),
        "top_errors": [
            f"{n}x {text}"
            for text, n in Counter(
                op.error[:60] for op in window if op.outcome != "ok"
            ).most_common(3)
        ],
    }


def list_append_run(lab: Lab, schedule: Schedule, nodes: Sequence[Node], name: str) -> ChaosRun:
    """List-append through HAProxy under the schedule: anomalies read committed forbids
    fail the run, stronger ones (G-single, G2-item, lost update, stale reads) are
    reported as findings, and nothing acknowledged may be lost."""
    assert lab.dblb
    workload = ListAppendWorkload(
        lab.dblb, clients=4, seed=schedule.seed or 0, client=workload_client(lab)
    )
    run = run_schedule(lab, workload, schedule, nodes, name)
    workload.history.final(TXN, as_final_read(workload.final_read()))
    run.judge("list-append")
    run.judge("no-acknowledged-write-lost")
    return run


def bank_run(
    lab: Lab, schedule: Schedule, nodes: Sequence[Node], name: str, probe: Probe | None = None
) -> ChaosRun:
    """Bank transfers through HAProxy under the schedule: the total never changes."""
    assert lab.dblb
    workload = BankWorkload(
        lab.dblb, clients=4, seed=schedule.seed or 0, client=workload_client(lab)
    )
    run = run_schedule(lab, workload, schedule, nodes, name, probe)
    run.judge("bank", accounts=workload.accounts, total=workload.total)
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
    workload = workload or GroupwareWorkload(
        GroupwareFront.of(lab.web), clients=4, seed=schedule.seed or 0
    )
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


def write_gap(history: History, fault_at: float, failed_node: str, kind: str = "") -> float:
    """Seconds from the fault to the first write acknowledged by another node (a write
    in flight on the killed node may still be acknowledged just after the kill), as
    clients of `kind` (default: any) saw it."""
    after = [
        op.end
        for op in history.ops
        if op.outcome == "ok"
        and op.end > fault_at
        and op.node not in (failed_node, "")
        and op.process != FINAL
        and (not kind or client_of(history, op) == kind)
    ]
    return (min(after) - fault_at) if after else float("inf")


def worst_gap(history: History, fault_at: float, kind: str, f: str) -> float:
    """The worst any client of `kind` waited: per client that saw an `f` operation
    fail after the fault (a certification conflict is not an outage), seconds from the
    fault to the end of its next ok `f` (inf: it never had one); 0.0 when no client
    noticed."""
    worst = 0.0
    for process in {p for p, k in history.clients.items() if k == kind}:
        mine = [op for op in history.ops if op.process == process and op.f == f]
        failed = [op.end for op in mine if outage(op) and op.end >= fault_at]
        if not failed:
            continue
        back = [op.end for op in mine if op.outcome == "ok" and op.start >= min(failed)]
        worst = max(worst, (min(back) - fault_at) if back else float("inf"))
    return worst


def longest_stall(history: History, start: float, end: float) -> float:
    """The longest time without an acknowledged operation within [start, end]."""
    acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start <= op.end <= end)
    return max(b - a for a, b in itertools.pairwise([start, *acked, end]))
