"""A chaos report as a person sees it: headless Chromium loads the page a run writes;
it must load without console errors and show the throughput and latency plots, the
per-fault table, the explanation of the figures and the anomaly table with a drawn
cycle. The run is crafted (no Docker): the page is what is under test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.chaos.history import Fault, History
from lab.chaos.nemesis.schedule import Schedule, Step
from lab.chaos.report.browser import render
from lab.chaos.report.plots import cycle_steps
from lab.chaos.report.publish import anomaly_rows, write_run_report
from lab.chaos.runner import SYSBENCH, ChaosRun, measure

pytestmark = [pytest.mark.browser]


def crafted_run() -> ChaosRun:
    """Two client kinds writing for 8 s, a kill from 3 s with 2 s without service, a
    sysbench stream, and a list-append history holding a G1c cycle."""
    history = History(t0=0.0)
    for i in range(160):
        start = i * 0.05
        outcome = "fail" if 3.0 <= start < 5.0 else "ok"
        history.record(i % 2, "insert", i, start, outcome, "galera2" if start > 5 else "galera1")
        history.ops[-1].end = start + 0.04
    history.clients = {0: "ox-pool", 1: "aggressive"}
    history.faults.append(Fault("kill", "galera1", 3.0, 5.0))
    for second in range(1, 9):
        tps = 0.0 if second in (4, 5) else 400.0
        history.probe(
            SYSBENCH,
            client="oltp_write_only",
            second=float(second),
            tps=tps,
            p95_ms=12.0,
            errors=1.0,
            reconnects=0,
        )
    # T1 appends 1 to key 1 and reads key 2 = [1]; T2 appends 1 to key 2 and reads key 1 = [1]
    base = len(history.ops)
    for process, mops in (
        (5, [["append", 1, 1], ["r", 2, [1]]]),
        (6, [["append", 2, 1], ["r", 1, [1]]]),
    ):
        history.record(process, "txn", mops, 8.5, "ok")
        history.ops[-1].end = 8.6
    assert len(history.ops) == base + 2
    run = ChaosRun(
        "writer-kill", "fast", Schedule((Step(3.0, "kill", "galera1", 2.0),), 7), history
    )
    run.measurements = measure(history)
    run.why = ["HAProxy marked galera1 DOWN in the write listener 1.1 s after the fault."]
    run.stock = [{"fault": "kill", "client": "sysbench oltp_write_only", "gap_s": 2.1}]
    run.judge("list-append")
    run.judge("no-acknowledged-write-lost")
    return run


def test_the_report_loads_cleanly_and_shows_plots_and_tables(tmp_path: Path) -> None:
    run = crafted_run()
    assert any(r.kind == "G1c" for r in anomaly_rows(run)), "the crafted cycle was found"
    _, page = write_run_report(run, tmp_path)
    shown = render(page, screenshot=tmp_path / "report.png")
    assert shown.console == [], f"the page logs no console errors: {shown.console}"
    dom = shown.dom
    for chart in ("throughput", "latency", "sysbench-oltp_write_only"):
        assert f'id="{chart}"' in dom, f"the {chart} chart is on the page"
    labels = re.findall(r'class="series" data-label="([^"]+)"', dom)
    assert {"ok", "fail", "info", "p50", "p95", "tps"} <= set(labels), labels
    assert dom.count('class="fault"') >= 3, "the fault is shaded in every chart"
    assert dom.count('class="mark"') >= 2, "each client kind's recovery is marked"
    assert 'id="measurements"' in dom and "ox-pool" in dom and "aggressive" in dom
    assert 'id="why"' in dom and "HAProxy marked galera1 DOWN" in dom
    assert re.search(r'<tr class="anomaly"><td>G1c</td>', dom), "G1c has a row"
    assert 'class="cycle"' in dom, "one example cycle is drawn"
    assert "forbidden: a violation" in dom


def test_a_page_with_a_console_error_is_caught(tmp_path: Path) -> None:
    """The console check itself: a page that throws must not pass as clean."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><script>throw new Error('boom')</script></html>")
    assert any("boom" in m for m in render(page).console)


def test_cycle_steps_follow_list_appends_explanations() -> None:
    explanation = (
        "cycle: op 3 (client 1, txn ok: [['append', 1, 1]]) -wr-> "
        "op 5 (client 2, txn ok: [['r', 1, [1]]]) -rw-> op 3 (client 1, txn ok: [])"
    )
    assert cycle_steps(explanation) == [("op 3", "wr"), ("op 5", "rw")]
    assert cycle_steps("op 3 (client 1, read ok: 5) saw a value nobody wrote") == []
