"""A chaos run's report: JSON for machines, an HTML page for people with a timeline
(operations per client over time, coloured by outcome, faults shaded), and the history
itself as JSON lines beside them."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lab.chaos.history import History, counts
from lab.chaos.report.plots import (
    COLOURS,
    Mark,
    Series,
    cycle_svg,
    end_of,
    latency_series,
    line_chart,
    rate_series,
)
from lab.chaos.runner import SYSBENCH, ChaosRun


def write_run_report(run: ChaosRun, directory: Path) -> tuple[Path, Path]:
    """chaos-NAME-TIMESTAMP.{json,html} and the history beside them (.jsonl)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"chaos-{run.scenario}-{time.strftime('%Y%m%dT%H%M%S')}"
    run.history.meta = run.meta()
    run.history.save(stem.with_suffix(".jsonl"))
    report = {
        "scenario": run.scenario,
        "profile": run.profile,
        "transport": run.transport,
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
    for anomaly in anomaly_rows(run):
        kind = "VIOLATION" if anomaly.forbidden else "finding"
        print(
            f"{kind}: {anomaly.kind} x{anomaly.count} ({anomaly.checker}), "
            f"e.g. {anomaly.example[:300]}"
        )
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


@dataclass(frozen=True)
class AnomalyRow:
    """One anomaly class a checker found: how often, whether this run's checks forbid
    it (a violation) or allow it (a finding), one example and the rest."""

    kind: str
    checker: str
    count: int
    forbidden: bool
    example: str
    rest: tuple[str, ...]


def anomaly_rows(run: ChaosRun) -> list[AnomalyRow]:
    rows = []
    for check, verdict in zip(run.checks, run.verdicts, strict=True):
        for kind, found in sorted(verdict.anomalies.items()):
            forbidden = check.forbidden is None or kind in check.forbidden
            rows.append(
                AnomalyRow(kind, verdict.checker, len(found), forbidden, found[0], tuple(found[1:]))
            )
    return rows


def charts(run: ChaosRun) -> str:
    """Throughput and latency of the lab's clients, and of sysbench when it ran."""
    history = run.history
    end = end_of(history)
    marks = [
        Mark(
            m["start_s"] + m["recovery_s"],
            f"{m.get('client', 'client')} back {m['recovery_s']:.1f}s",
        )
        for m in run.measurements
        if m.get("recovery_s")
    ]
    out = [
        line_chart(
            "operations per second by outcome (lab clients)",
            "ops/s",
            rate_series(history),
            history.faults,
            end,
            marks,
            "throughput",
        ),
        line_chart(
            "latency of acknowledged operations",
            "ms",
            latency_series(history),
            history.faults,
            end,
            marks,
            "latency",
        ),
    ]
    stock = [p for p in history.probes if p.get("kind") == SYSBENCH]
    for test in dict.fromkeys(str(p.get("client", SYSBENCH)) for p in stock):
        mine = [p for p in stock if str(p.get("client", SYSBENCH)) == test]
        series = [
            Series("tps", "#1565c0", tuple((p["second"], p["tps"]) for p in mine)),
            Series("err/s", COLOURS["fail"], tuple((p["second"], p["errors"]) for p in mine)),
        ]
        out.append(
            line_chart(
                f"{test} (sysbench, 1 s reports)",
                "/s",
                series,
                history.faults,
                end,
                (),
                f"sysbench-{test}",
            )
        )
    return "".join(out)


def anomaly_table(rows: Sequence[AnomalyRow]) -> str:
    if not rows:
        return "<p>No anomaly found.</p>"
    body = []
    for r in rows:
        verdict = "forbidden: a violation" if r.forbidden else "allowed: a finding"
        rest = ""
        if r.rest:
            items = "".join(f"<li>{html.escape(e)}</li>" for e in r.rest)
            rest = f"<details><summary>{len(r.rest)} more</summary><ul>{items}</ul></details>"
        body.append(
            f'<tr class="anomaly"><td>{html.escape(r.kind)}</td><td>{html.escape(r.checker)}</td>'
            f"<td>{r.count}</td><td>{verdict}</td><td>{cycle_svg(r.example)}"
            f"<div>{html.escape(r.example)}</div>{rest}</td></tr>"
        )
    return (
        '<table id="anomalies"><tr><th>anomaly</th><th>checker</th><th>count</th>'
        "<th>this run's checks</th><th>example</th></tr>" + "".join(body) + "</table>"
    )


def table_html(rows: Sequence[dict[str, Any]], table_id: str) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f'<table id="{table_id}"><tr>{head}</tr>{body}</table>'


def render_html(run: ChaosRun, report: dict[str, Any]) -> str:
    verdict = "PASS" if not run.violations() else "FAIL"
    checks = "".join(
        f"<li>{html.escape(v.checker)}: {'valid' if not v.anomalies else 'see anomalies'} "
        f"{html.escape(str(v.stats))}</li>"
        for v in run.verdicts
    )
    why = "".join(f"<li>{html.escape(line)}</li>" for line in run.why)
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>chaos {html.escape(run.scenario)}</title>"
        "<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left;"
        "vertical-align:top;border-bottom:1px solid #ddd}svg{display:block;margin:.5em 0}"
        "</style>"
        f"<h1>{html.escape(run.scenario)}: {verdict}</h1>"
        f"<p>profile {html.escape(run.profile)}, faults through {html.escape(run.transport)}, "
        f"seed {run.schedule.seed}, operations "
        f"{html.escape(str(report['operations']))}</p>"
        f"<h2>Throughput and latency</h2>{charts(run)}"
        "<p>shaded: faults; dashed verticals: when each client kind had service again</p>"
        f"<h2>Per client</h2>{timeline_svg(run.history)}"
        "<p>green: ok, red: failed, orange: unknown (sent, no answer); shaded: faults</p>"
        f"<h2>Per fault</h2>{table_html(run.measurements, 'measurements')}"
        f"{table_html(run.stock, 'stock')}"
        + (f"<h2>Why the figures are what they are</h2><ul id=why>{why}</ul>" if why else "")
        + f"<h2>Anomalies</h2>{anomaly_table(anomaly_rows(run))}"
        f"<h2>Checkers</h2><ul>{checks}</ul>"
        f"<p>Re-check the history (e.g. after a checker fix): "
        f"<code>{html.escape(report['recheck'])}</code></p></html>"
    )


def timeline_svg(history: History, width: int = 1000, lane: int = 14) -> str:
    """Operations as bars per client over time (colour: outcome), faults shaded."""
    processes = sorted({op.process for op in history.ops if op.process >= 0})
    end = end_of(history)  # the final reads come after the run: not on its time axis
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
