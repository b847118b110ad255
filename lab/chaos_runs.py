"""Chaos runs: a recorded workload, a fault schedule, the checkers, and the measurements
per fault (time to recovery, client errors, operations in unknown state), written as a
JSON report and an HTML page with a timeline (operations over time, faults shaded)."""

from __future__ import annotations

import contextlib
import html
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lab.checkers import Verdict
from lab.checkers.bank import check_bank
from lab.checkers.list_append import (
    READ_COMMITTED_ANOMALIES,
    check_list_append,
    check_lost_appends,
)
from lab.db import NotReady
from lab.groupware_load import GroupwareWorkload, check_files, check_sessions
from lab.health_truth import HealthTruthSampler, check_health_truth
from lab.history import History, counts, recovery_time
from lab.lab import Lab
from lab.nemesis import Schedule, Step, heal_leftovers, injected
from lab.nodes import Node
from lab.waiting import poll
from lab.workloads import BankWorkload, ListAppendWorkload, as_final_read

SETTLE_TIMEOUT_S = 180.0


@dataclass
class ChaosRun:
    scenario: str
    profile: str
    schedule: Schedule
    history: History
    verdicts: list[Verdict] = field(default_factory=list)
    forbidden: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    healed_before: list[str] = field(default_factory=list)
    probes: list[dict[str, Any]] = field(default_factory=list)  # checks made during faults

    def violations(self) -> list[str]:
        """Verdicts that break what the scenario promises (allowed anomalies are findings)."""
        return [v.summary() for v in self.verdicts if not v.valid(self.forbidden.get(v.checker))]

    def findings(self) -> list[str]:
        """One example per anomaly kind; the JSON report has them all."""
        return [v.summary(limit=1) for v in self.verdicts if v.anomalies]


Probe = Callable[[Step, Node], dict[str, Any]]


class RecordedWorkload(Protocol):
    """What a chaos run needs of a workload (database or groupware)."""

    history: History

    def setup(self) -> None: ...

    def running(self) -> contextlib.AbstractContextManager[Any]: ...

    def acked(self, f: str | None = None) -> int: ...


def run_schedule(
    lab: Lab,
    workload: RecordedWorkload,
    schedule: Schedule,
    nodes: Sequence[Node],
    name: str,
    probe: Probe | None = None,
) -> ChaosRun:
    """Heal what an earlier run left, run the workload through the schedule's faults
    (each healed on exit; `probe` checks the faulty state while it holds), wait until
    the lab is healthy again, then measure."""
    run = ChaosRun(name, lab.request.profile, schedule, workload.history)
    run.healed_before = heal_leftovers(lab.nodes())
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
    workload.setup()
    history = workload.history
    with workload.running():
        poll(lambda: workload.acked() > 5, timeout=30, what="the workload to get going")
        for step in schedule.steps:
            _wait_until(history, step.at_s)
            until = history.now() + step.hold_s
            with injected(step, nodes, history):
                if probe:
                    target = next(n for n in nodes if n.name == step.target)
                    run.probes.append({"step": asdict(step), **probe(step, target)})
                _wait_until(history, until)
        healed_at = history.now()
        poll(
            lambda: any(op.outcome == "ok" and op.start > healed_at for op in history.ops),
            timeout=SETTLE_TIMEOUT_S,
            what="the workload to succeed again after the last fault",
        )
    lab.wait_healthy(timeout=SETTLE_TIMEOUT_S)
    run.measurements = measure(history)
    return run


def _wait_until(history: History, at_s: float) -> None:
    """Scheduled time, not a condition: the schedule is what makes a run reproducible."""
    delay = at_s - history.now()
    if delay > 0:
        time.sleep(delay)


def measure(history: History) -> list[dict[str, Any]]:
    """Per fault: time to the first ok operation begun after it, errors and unknowns
    clients saw from the fault until that recovery (or the fault's end)."""
    rows = []
    for fault in history.faults:
        recovered = recovery_time(history, fault)
        until = fault.start + (recovered or 0.0)
        until = max(until, fault.end or fault.start)
        window = [op for op in history.ops if fault.start <= op.end <= until]
        rows.append(
            {
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
        )
    return rows


def list_append_run(lab: Lab, schedule: Schedule, nodes: Sequence[Node], name: str) -> ChaosRun:
    """List-append through HAProxy under the schedule: anomalies read committed forbids
    fail the run, stronger ones (G-single, G2-item, lost update, stale reads) are
    reported as findings, and nothing acknowledged may be lost."""
    assert lab.dblb
    workload = ListAppendWorkload(lab.dblb, clients=4, seed=schedule.seed or 0)
    run = run_schedule(lab, workload, schedule, nodes, name)
    final = workload.final_read()
    history = workload.history
    history.record(-1, "txn", as_final_read(final), history.now(), "ok", "final read")
    run.verdicts = [check_list_append(history), check_lost_appends(history, final)]
    run.forbidden = {"list-append": READ_COMMITTED_ANOMALIES}
    return run


def bank_run(
    lab: Lab, schedule: Schedule, nodes: Sequence[Node], name: str, probe: Probe | None = None
) -> ChaosRun:
    """Bank transfers through HAProxy under the schedule: the total never changes."""
    assert lab.dblb
    workload = BankWorkload(lab.dblb, clients=4, seed=schedule.seed or 0)
    run = run_schedule(lab, workload, schedule, nodes, name, probe)
    run.verdicts = [check_bank(workload.history, workload.accounts, workload.total)]
    return run


# -- the report ----------------------------------------------------------------------------

COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}


def write_run_report(run: ChaosRun, directory: Path) -> tuple[Path, Path]:
    """chaos-NAME-TIMESTAMP.{json,html} and the history beside them (.jsonl)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"chaos-{run.scenario}-{time.strftime('%Y%m%dT%H%M%S')}"
    run.history.save(stem.with_suffix(".jsonl"))
    report = {
        "scenario": run.scenario,
        "profile": run.profile,
        "seed": run.schedule.seed,
        "schedule": run.schedule.describe(),
        "healed_before": run.healed_before,
        "operations": counts(run.history),
        "measurements": run.measurements,
        "verdicts": [asdict(v) for v in run.verdicts],
        "probes": run.probes,
        "violations": run.violations(),
        "history": stem.with_suffix(".jsonl").name,
    }
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2, default=str))
    html_path = stem.with_suffix(".html")
    html_path.write_text(render_html(run, report))
    return json_path, html_path


def publish(run: ChaosRun, directory: Path) -> None:
    """Write the report and print what a person reads first: figures, findings, where
    the report is, and the verdict."""
    json_path, html_path = write_run_report(run, directory)
    for row in run.measurements:
        print(f"{run.scenario}: {row}")
    for probe in run.probes:
        print(f"{run.scenario} during the fault: {probe}")
    for finding in run.findings():
        print(f"finding: {finding[:2000]}")
    print(f"report: {json_path}\ntimeline: {html_path}")
    violations = run.violations()
    print("verdict: " + ("; ".join(violations) if violations else "PASS"), flush=True)


def render_html(run: ChaosRun, report: dict[str, Any]) -> str:
    verdict = "PASS" if not run.violations() else "FAIL"
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(m[k]))}</td>" for k in m) + "</tr>"
        for m in run.measurements
    )
    header = "".join(f"<th>{k}</th>" for k in (run.measurements[0] if run.measurements else {}))
    verdicts = "".join(f"<li>{html.escape(v.summary())}</li>" for v in run.verdicts)
    return (
        "<!doctype html><meta charset=utf-8>"
        f"<title>chaos {html.escape(run.scenario)}</title>"
        "<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd}</style>"
        f"<h1>{html.escape(run.scenario)}: {verdict}</h1>"
        f"<p>profile {html.escape(run.profile)}, seed {run.schedule.seed}, operations "
        f"{report['operations']}</p>"
        f"{timeline_svg(run.history)}"
        "<p>green: ok, red: failed, orange: unknown (sent, no answer); shaded: faults</p>"
        f"<h2>Per fault</h2><table><tr>{header}</tr>{rows}</table>"
        f"<h2>Checkers</h2><ul>{verdicts}</ul>"
    )


def timeline_svg(history: History, width: int = 1000, lane: int = 14) -> str:
    """Operations as bars per client over time (colour: outcome), faults shaded."""
    processes = sorted({op.process for op in history.ops if op.process >= 0})
    end = max([op.end for op in history.ops] + [f.end or 0 for f in history.faults] + [1.0])
    height = lane * (len(processes) + 2)
    scale = (width - 60) / end

    def x(t: float) -> float:
        return 50 + t * scale

    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for fault in history.faults:
        right = fault.end if fault.end is not None else end
        shade = max(1.0, (right - fault.start) * scale)
        parts.append(
            f'<rect x="{x(fault.start):.1f}" y="0" width="{shade:.1f}"'
            f' height="{height}" fill="#90a4ae" opacity="0.35"><title>'
            f"{html.escape(fault.name)} {html.escape(fault.target)}</title></rect>"
            f'<text x="{x(fault.start) + 2:.1f}" y="{height - 3}" font-size="10">'
            f"{html.escape(fault.name)} {html.escape(fault.target)}</text>"
        )
    for row, process in enumerate(processes):
        parts.append(f'<text x="0" y="{(row + 1) * lane}" font-size="10">client {process}</text>')
    lanes = {p: i for i, p in enumerate(processes)}
    for op in history.ops:
        if op.process not in lanes:
            continue
        y = lanes[op.process] * lane + 3
        w = max(0.8, (op.end - op.start) * scale)
        parts.append(
            f'<rect x="{x(op.start):.1f}" y="{y}" width="{w:.1f}" height="{lane - 4}" '
            f'fill="{COLOURS[op.outcome]}"/>'
        )
    for second in range(0, int(end) + 1, max(1, int(end) // 10 or 1)):
        parts.append(
            f'<text x="{x(second):.1f}" y="{height - lane + 2}" font-size="9">{second}s</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- scenarios ------------------------------------------------------------------------------


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

    return bank_run(lab, schedule, lab.galera.nodes, "partition", minority)


def groupware_run(lab: Lab, schedule: Schedule, name: str, probe: Probe | None = None) -> ChaosRun:
    """Browsers through Apache under faults of the groupware nodes: nobody has to log in
    again (session migration) and every file downloads as it was uploaded."""
    assert lab.ox and lab.web
    workload = GroupwareWorkload(lab.web, clients=4, seed=schedule.seed or 0)
    run = run_schedule(lab, workload, schedule, lab.ox.nodes, name, probe)
    lab.ox.wait_ready()
    run.verdicts = [check_sessions(workload.history), check_files(workload.history)]
    for node in lab.ox.nodes:  # what the nodes said about requests they failed
        failures = node.logs(tail=2000).split("handler failed")[1:]
        if failures:
            run.probes.append(
                {"node": node.name, "server_errors": len(failures), "first": failures[0][:800]}
            )
    return run


def oxgw_kill(lab: Lab, seed: int) -> ChaosRun:
    """SIGKILL oxgw01 under the groupware workload; users move to oxgw02."""
    return groupware_run(lab, Schedule((Step(3.0, "kill", "oxgw01", 8.0),), seed), "oxgw-kill")


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
    run.verdicts = [
        check_bank(workload.history, workload.accounts, workload.total),
        check_health_truth(sampler.samples),
    ]
    return run


SCENARIOS: dict[str, Callable[[Lab, int], ChaosRun]] = {
    "dblb-kill": dblb_kill,
    "health-truth": health_truth,
    "galera-nemesis": galera_nemesis,
    "partition": galera_partition,
    "oxgw-kill": oxgw_kill,
    "rolling-restart": rolling_restart,
}
# The topology each scenario runs on.
SCENARIO_TOPOLOGY = {"oxgw-kill": "guide", "rolling-restart": "guide"}
