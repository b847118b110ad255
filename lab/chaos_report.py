"""A chaos run's report: JSON for machines, an HTML page for people with a timeline
(operations per client over time, coloured by outcome, faults shaded), and the history
itself as JSON lines beside them."""

from __future__ import annotations

import html
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lab.chaos_runs import ChaosRun
from lab.history import History, counts

COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}


def write_run_report(run: ChaosRun, directory: Path) -> tuple[Path, Path]:
    """chaos-NAME-TIMESTAMP.{json,html} and the history beside them (.jsonl)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"chaos-{run.scenario}-{time.strftime('%Y%m%dT%H%M%S')}"
    run.history.meta = run.meta()
    run.history.save(stem.with_suffix(".jsonl"))
    report = {
        "scenario": run.scenario,
        "profile": run.profile,
        "seed": run.schedule.seed,
        "files": run.files,  # the operator's files the lab ran on: role, path, sha256
        "your_settings": run.explanations,
        "schedule": run.schedule.describe(),
        "healed_before": run.healing.healed,
        "not_healed_before": run.healing.failed,
        "operations": counts(run.history),
        "measurements": run.measurements,
        "stock_clients": run.stock,
        "why": run.why,
        "verdicts": [asdict(v) for v in run.verdicts],
        "probes": run.probes,
        "violations": run.violations(),
        "history": stem.with_suffix(".jsonl").name,
        "recheck": recheck_command(stem.with_suffix(".jsonl")),
    }
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2, default=str))
    html_path = stem.with_suffix(".html")
    html_path.write_text(render_html(run, report))
    return json_path, html_path


def recheck_command(history: Path) -> str:
    """How to judge this history again, e.g. after a checker fix."""
    return f"lab check {history}"


def publish(run: ChaosRun, directory: Path) -> None:
    """Write the report and print what a person reads first: figures, findings, where
    the report is, and the verdict."""
    json_path, html_path = write_run_report(run, directory)
    for row in run.measurements:
        print(f"{run.scenario}: {row}")
    for row in run.stock:
        print(f"{run.scenario}: {row}")
    for probe in run.probes:
        print(f"{run.scenario} during the fault: {probe}")
    for finding in run.findings():
        print(f"finding: {finding[:2000]}")
    for line in run.why:
        print(f"why: {line}")
    for f in run.files:
        print(f"ran on {f['role']} file {f['path']} (sha256 {f['sha256'][:12]})")
    for line in run.explanations:
        print(f"your setting: {line}")
    print(f"report: {json_path}\ntimeline: {html_path}")
    print(f"re-check the history: {recheck_command(json_path.with_suffix('.jsonl'))}")
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
        f"<p>Re-check the history (e.g. after a checker fix): "
        f"<code>{html.escape(report['recheck'])}</code></p>"
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
