"""Fault schedules are reproducible from their seed, and a run's report is readable."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import docker.errors

from lab.chaos.checkers import Verdict
from lab.chaos.checkers.registry import Check
from lab.chaos.history import Fault, History
from lab.chaos.nemesis.leftovers import LEFTOVER_STEPS, heal_leftovers
from lab.chaos.nemesis.schedule import Schedule
from lab.chaos.report.publish import write_run_report
from lab.chaos.runner import ChaosRun, measure
from lab.infra.nodes import ExecResult


def test_same_seed_same_schedule_other_seed_other_schedule() -> None:
    nodes = ["galera1", "galera2", "galera3"]
    first = Schedule.random(7, nodes)
    assert first == Schedule.random(7, nodes), "a seed reproduces its schedule"
    assert first != Schedule.random(8, nodes)
    starts = [(s.at_s, s.at_s + s.hold_s) for s in first.steps]
    assert all(end <= nxt for (_, end), (nxt, _) in itertools.pairwise(starts)), (
        "one fault at a time"
    )


def crafted_run() -> ChaosRun:
    history = History.of(
        [
            (0, "txn", [["append", 1, 1]], "ok", 0.0, 0.1),
            (1, "txn", [["append", 1, 2]], "info", 1.0, 3.0),
            (0, "txn", [["append", 1, 3]], "fail", 1.2, 1.3),
            (0, "txn", [["append", 1, 4]], "ok", 3.2, 3.4),
        ]
    )
    history.faults.append(Fault("kill", "galera1", 1.0, 2.5))
    schedule = Schedule.random(1, ["galera1"], count=1)
    run = ChaosRun("crafted", "fast", schedule, history)
    run.verdicts = [Verdict("bank", {"wrong-total": ["op 3 totals 90"]})]
    run.checks = [Check.of("bank", accounts=2, total=100)]
    run.measurements = measure(history)
    return run


def test_measurements_per_fault() -> None:
    [row] = crafted_run().measurements
    assert row["recovery_s"] == 2.4, "first ok op begun after the fault ended at 3.4"
    assert (row["errors"], row["unknown"]) == (1, 1)


def test_report_json_html_and_history(tmp_path: Path) -> None:
    run = crafted_run()
    json_path, html_path = write_run_report(run, tmp_path)
    report = json.loads(json_path.read_text())
    assert report["violations"] == ["bank: wrong-total x1: op 3 totals 90"]
    assert report["operations"] == {"ok": 2, "fail": 1, "info": 1}
    page = html_path.read_text()
    assert "FAIL" in page and "<svg" in page and "kill galera1" in page
    timeline = page.split("<h2>Per client</h2>", 1)[1].split("</svg>", 1)[0]
    assert timeline.count("<rect") == 5, "four operations and one shaded fault"
    assert page.count('class="fault"') == 2, "the fault is shaded in both charts too"
    assert (tmp_path / report["history"]).exists()


def test_recovery_reads_grastate_and_never_picks_a_stale_node() -> None:
    from lab.roles.db.galera_recovery import RECOVERED, Position, choose_bootstrap, parse_grastate

    text = "# GALERA saved state\nversion: 2.1\nuuid:    9f94575e-e878-11f1-9f42-e6039ff963da\n"
    assert parse_grastate(text + "seqno:   -1\nsafe_to_bootstrap: 0\n")[1:] == (-1, False)
    assert parse_grastate(text + "seqno:   42\nsafe_to_bootstrap: 1\n")[1:] == (42, True)
    log = "[Note] WSREP: Recovered position: 9f94575e-e878-11f1-9f42-e6039ff963da:15748\n"
    assert RECOVERED.findall(log) == [("9f94575e-e878-11f1-9f42-e6039ff963da", "15748")]
    uuid = "9f94575e-e878-11f1-9f42-e6039ff963da"
    positions = [
        Position("galera1", uuid, 15106, True, "grastate.dat"),  # safe, but behind
        Position("galera2", uuid, 15053, False, "--wsrep-recover"),
        Position("galera3", uuid, 15748, False, "--wsrep-recover"),
    ]
    assert choose_bootstrap(positions).node == "galera3"
    tie = [Position("galera1", uuid, 7, False, "x"), Position("galera2", uuid, 7, True, "x")]
    assert choose_bootstrap(tie).node == "galera2", "on a tie, the node marked safe"


class StandInNode:
    """What heal_leftovers needs of a node, with a container that will not start."""

    name = "galera3"
    status = "exited"

    def start(self) -> None:
        raise docker.errors.APIError("cannot start: no space left on device")

    def unpause(self) -> None:
        raise AssertionError("not paused")

    def sh(self, command: str) -> ExecResult:
        return ExecResult(0, "healed")


def test_a_leftover_that_cannot_be_healed_is_one_line_said_before_the_run() -> None:
    said: list[str] = []
    healing = heal_leftovers([StandInNode()], say=said.append)  # type: ignore[list-item]
    assert healing.failed == [
        "galera3: could not start or unpause it (exited): cannot start: no space left on device"
    ]
    assert healing.healed == []
    assert said == [f"could NOT heal a leftover of an earlier run: {healing.failed[0]}"]


def test_failed_heal_steps_are_reported_per_resource() -> None:
    class Running(StandInNode):
        status = "running"

        def sh(self, command: str) -> ExecResult:
            return ExecResult(1, "iptables: Permission denied")

    healing = heal_leftovers([Running()])  # type: ignore[list-item]
    assert len(healing.failed) == len(LEFTOVER_STEPS) and all(
        line.startswith("galera3: ") and "Permission denied" in line for line in healing.failed
    ), healing.failed
