"""One registry of chaos scenarios and one of checkers: the CLI, `lab chaos list`, the
chaos tests and the README come from them; `lab check` replays a recorded history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lab.chaos.history import History
from lab.chaos.nemesis.schedule import Schedule
from lab.chaos.report.publish import write_run_report
from lab.chaos.runner import ChaosRun
from lab.chaos.scenarios.registry import SCENARIOS, markdown_table
from lab.cli import build_parser, main
from lab.spec.topology import DBLB_MODES, TOPOLOGIES, LabRequest

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_scenario_table_is_the_registrys() -> None:
    readme = (ROOT / "README.md").read_text()
    assert markdown_table() in readme, "README's table: paste `lab chaos list --markdown`"
    documented = set(
        re.findall(r"^\| `([a-z0-9-]+)` \| [a-z-]+(?: --dblb [a-z]+)? \|", readme, re.M)
    )
    assert documented == set(SCENARIOS), "the README documents exactly the registered scenarios"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_runs_from_the_cli_on_a_known_topology(name: str) -> None:
    args = build_parser().parse_args(["chaos", "run", name, "--seed", "3"])
    assert args.scenario == name and args.seed == 3
    assert SCENARIOS[name].topology in TOPOLOGIES
    assert SCENARIOS[name].dblb in DBLB_MODES
    assert not LabRequest(topology=SCENARIOS[name].topology, dblb=SCENARIOS[name].dblb).problems()


def test_every_scenario_has_a_chaos_test() -> None:
    source = "".join(p.read_text() for p in (ROOT / "tests" / "chaos").glob("test_*.py"))
    tested = set(re.findall(r'run_scenario\(\s*"([a-z0-9-]+)"', source))
    assert tested == set(SCENARIOS), f"untested: {set(SCENARIOS) - tested}"


def test_chaos_list_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chaos", "list"]) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 100 for line in out.splitlines()), "a terminal at 100 columns"
    for name in SCENARIOS:
        assert f"  {name} " in out


def txn(*mops: list[object]) -> list[list[object]]:
    return list(mops)


def recorded(tmp_path: Path, ops: list[tuple[object, ...]], final: list[int] | None = None) -> Path:
    """A list-append run, judged and written as the lab writes it."""
    history = History.of(ops)
    run = ChaosRun("crafted", "fast", Schedule((), 1), history)
    history.final("txn", [["r", 1, final or [1]]])
    run.judge("list-append")
    run.judge("no-acknowledged-write-lost")
    json_path, _ = write_run_report(run, tmp_path)
    report = json.loads(json_path.read_text())
    assert report["recheck"] == f"lab check {tmp_path / report['history']}"
    return tmp_path / report["history"]


def test_lab_check_replays_a_clean_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = recorded(tmp_path, [(0, "txn", txn(["append", 1, 1]), "ok")])
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "list-append: valid" in out and "no-acknowledged-write-lost: valid" in out
    assert out.rstrip().endswith("verdict: PASS")


def test_lab_check_fails_on_a_forbidden_anomaly_and_names_the_operations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = recorded(
        tmp_path,
        [(0, "txn", txn(["append", 1, 1]), "ok"), (1, "txn", txn(["r", 1, [1, 7]]), "ok")],
    )
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "list-append: FORBIDDEN" in out and "garbage-read x1" in out
    assert "op 1 (client 1, txn ok" in out, "the offending operation is printed"
    assert main(["check", str(path), "--checker", "no-acknowledged-write-lost"]) == 0


def test_lab_check_uses_the_runs_forbidden_kinds(tmp_path: Path) -> None:
    """A finding the run allowed (a lost update at read committed) passes on replay."""
    path = recorded(
        tmp_path,
        [
            (0, "txn", txn(["r", 1, []], ["append", 1, 1]), "ok"),
            (1, "txn", txn(["r", 1, []], ["append", 1, 2]), "ok"),
            (2, "txn", txn(["r", 1, [1, 2]]), "ok"),
        ],
        final=[1, 2],
    )
    assert main(["check", str(path)]) == 0


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        (
            ['{"process": 0, "f": "txn", "value": [], "start": 0, "end": 1, "outcome": "ok"}', "{"],
            2,
        ),
        (['{"process": 0, "f": "txn", "value": [], "start": 0, "end": 1, "outcome": "maybe"}'], 1),
        (['{"meta": {}}', '{"process": 0, "f": "txn", "start": 0, "outcome": "ok"}'], 2),
        (
            ['{"process": "zero", "f": "txn", "value": [], "start": 0, "end": 1, "outcome": "ok"}'],
            1,
        ),
        (['{"fault": {"name": "kill"}}'], 1),
        (["[1, 2]"], 1),
    ],
)
def test_lab_check_names_the_line_of_a_malformed_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], where: int
) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["check", str(path), "--checker", "list-append"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"lab: error: {path}:{where}: "), err


def test_lab_check_without_checks_asks_for_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bare.jsonl"
    path.write_text(
        '{"process": 0, "f": "read", "value": {"0": 5}, "start": 0, "end": 1, "outcome": "ok"}\n'
    )
    assert main(["check", str(path)]) == 1
    assert "--checker" in capsys.readouterr().err
    assert main(["check", str(path), "--checker", "bank"]) == 1
    assert "bank needs accounts, total" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.jsonl"), "--checker", "bank"]) == 2
