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
from lab.plan.topology import DBLB_MODES, TOPOLOGIES, LabRequest

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_scenario_table_is_the_registrys() -> None:
    readme = (ROOT / "docs" / "chaos.md").read_text()
    assert markdown_table() in readme, "docs/chaos.md's table: paste `lab chaos list --markdown`"
    documented = set(
        re.findall(r"^\| `([a-z0-9-]+)` \| [a-z-]+(?: --dblb [a-z]+)? \|", readme, re.M)
    )
    assert documented == set(SCENARIOS), "docs/chaos.md documents exactly the registered scenarios"


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
    """A history of another workload without a meta line: which checker to run cannot be
    guessed. That is a usage problem (exit 2), never an anomaly (exit 1)."""
    path = tmp_path / "bare.jsonl"
    path.write_text(
        '{"process": 0, "f": "read", "value": {"0": 5}, "start": 0, "end": 1, "outcome": "ok"}\n'
    )
    assert main(["check", str(path)]) == 2
    assert "--checker" in capsys.readouterr().err
    assert main(["check", str(path), "--checker", "bank"]) == 2
    assert "bank needs accounts, total" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.jsonl"), "--checker", "bank"]) == 2


def op_line(value: object, process: int = 0, outcome: str = "ok", start: float = 0.0) -> str:
    return json.dumps(
        {
            "process": process,
            "f": "txn",
            "value": value,
            "start": start,
            "end": start + 0.5,
            "outcome": outcome,
        }
    )


def test_lab_check_without_a_meta_line_runs_list_append_and_the_lost_write_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The meta line is optional: list-append by default, and the final read (process
    -1) is compared with every acknowledged append."""
    path = tmp_path / "no-meta.jsonl"
    path.write_text(
        "\n".join(
            [
                op_line([["append", 1, 1]]),
                op_line([["append", 1, 2]], start=1.0),
                op_line([["r", 1, [1]]], process=-1, start=2.0),
            ]
        )
        + "\n"
    )
    assert main(["check", str(path)]) == 1, "the final read lacks the acknowledged 2"
    out = capsys.readouterr().out
    assert "list-append:" in out and "no-acknowledged-write-lost: FORBIDDEN" in out, out
    assert "lost-write x1" in out
    path.write_text(path.read_text().replace('[["r", 1, [1]]]', '[["r", 1, [1, 2]]]'))
    assert main(["check", str(path)]) == 0, capsys.readouterr().out


def test_lab_check_finds_a_lost_append_without_a_final_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no-final.jsonl"
    path.write_text(
        "\n".join(
            [
                op_line([["append", 1, 1]]),
                op_line([["append", 1, 2]], start=1.0),  # begun after 1 was acknowledged
                op_line([["r", 1, [2]]], start=2.0),
            ]
        )
        + "\n"
    )
    assert main(["check", str(path), "--checker", "list-append"]) == 1
    assert "lost-write x1" in capsys.readouterr().out
    assert main(["check", str(path)]) == 1, "the default check finds it too"


@pytest.mark.parametrize(
    ("value", "process", "outcome"),
    [
        ("xx", 0, "ok"),
        ([["r", 1, 5]], 0, "ok"),
        ([["append", "one", 1]], 0, "ok"),
        ([["append", 1, "x"]], 0, "fail"),
        ([["r", 1, ["a"]]], 0, "ok"),
        ([["write", 1, 1]], 0, "ok"),
        ([["r", 1]], 0, "ok"),
        (None, -1, "ok"),
        ([["r", 1, None]], -1, "ok"),
        ([["append", True, 1]], 0, "ok"),
    ],
)
def test_lab_check_names_the_line_of_a_malformed_value(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    value: object,
    process: int,
    outcome: str,
) -> None:
    path = tmp_path / "malformed.jsonl"
    path.write_text(op_line([["append", 1, 1]]) + "\n" + op_line(value, process, outcome) + "\n")
    for argv in (["check", str(path)], ["check", str(path), "--checker", "list-append"]):
        assert main(argv) == 2, f"{value!r} is not a history the checks can read"
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"lab: error: {path}:2: "), err


def test_a_read_of_nothing_is_allowed_outside_the_final_read(tmp_path: Path) -> None:
    path = tmp_path / "null-read.jsonl"
    path.write_text(op_line([["append", 1, 1]]) + "\n" + op_line([["r", 1, None]], 1, "info"))
    assert main(["check", str(path)]) == 0


def test_a_checker_that_cannot_read_a_value_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bank.jsonl"
    meta = {"meta": {"checks": [{"checker": "bank", "params": {"accounts": 2, "total": 20}}]}}
    read = {"process": 0, "f": "read", "value": ["x"], "start": 0, "end": 1, "outcome": "ok"}
    path.write_text(json.dumps(meta) + "\n" + json.dumps(read) + "\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bank cannot read" in err[0], err


def test_one_registry_says_which_scenarios_also_run_on_ssh_hosts() -> None:
    from lab.chaos.runner import CONTAINERS, SSH

    on_hosts = {s.name for s in SCENARIOS.values() if SSH in s.transports}
    assert on_hosts == {"writer-kill", "pause", "partition", "filestore-outage"}
    assert all(CONTAINERS in s.transports for s in SCENARIOS.values()), "every one runs in a lab"


def test_a_scenario_on_hosts_is_refused_in_one_line_before_any_host_is_touched() -> None:
    from lab.chaos.nemesis.hosts import FaultJournal
    from lab.chaos.scenarios.registry import run_on_hosts
    from lab.infra.errors import LabError
    from lab.infra.hosts.credentials import Credentials
    from lab.infra.hosts.remote import Host
    from lab.verify.target import Target

    def target(layout: str, *roles: str) -> Target:
        hosts = [Host(f"{r}1", r, "10.0.0.1", backend=None) for r in roles]  # type: ignore[arg-type]
        return Target("hosts.ini", layout, hosts, Credentials("u", "p", "l", "p"))

    journal = FaultJournal(Path("/nonexistent/journal"))
    galera = target("galera", "galera", "dblb")
    with pytest.raises(LabError, match="needs faults an SSH host does not offer; on hosts: writer"):
        run_on_hosts("reconnect-storm", galera, 1, journal, print)
    with pytest.raises(LabError, match=r"needs the Galera layout; hosts\.ini is gtid"):
        run_on_hosts("writer-kill", target("gtid", "dbmaster", "dbslave"), 1, journal, print)
    with pytest.raises(LabError, match=r"needs hosts in web, groupware, filestore; hosts\.ini"):
        run_on_hosts("filestore-outage", galera, 1, journal, print)
    with pytest.raises(LabError, match=r"needs hosts in groupware; hosts\.ini"):
        run_on_hosts(
            "filestore-outage", target("galera", "galera", "web", "filestore"), 1, journal, print
        )


@pytest.mark.parametrize(
    ("scenario", "module", "body"),
    [
        ("writer-kill", "galera", "writer_kill_at"),
        ("pause", "galera", "pause_at"),
        ("filestore-outage", "groupware", "filestore_outage_at"),
    ],
)
def test_a_scenario_on_both_transports_is_one_body(
    monkeypatch: pytest.MonkeyPatch, scenario: str, module: str, body: str
) -> None:
    """Both transports reach the same body, each with its Place: the lab's containers
    (docker kill/pause/stop) or the operator's hosts (systemctl kill/SIGSTOP/stop)."""
    import importlib
    import inspect

    import lab.chaos.scenarios.hosts as hosts
    from lab.chaos.nemesis.hosts import FaultJournal
    from lab.chaos.scenarios.place import InLab, OnHosts

    places: list[object] = []

    def record(place: object, *args: object) -> ChaosRun:
        places.append(place)
        return ChaosRun(scenario, "x", Schedule((), 1), History())

    monkeypatch.setattr(importlib.import_module(f"lab.chaos.scenarios.{module}"), body, record)
    monkeypatch.setattr(hosts, body, record)
    monkeypatch.setattr(InLab, "__post_init__", lambda self: None)
    monkeypatch.setattr(OnHosts, "__post_init__", lambda self: None)
    import lab.chaos.scenarios.groupware as groupware

    monkeypatch.setattr(groupware, "filestore_inventory", lambda lab: (set(), set()))
    ox = type(
        "FakeOx",
        (),
        {
            "filestore": object(),
            "nodes": [],
            "wait_ready": lambda self: None,
            "wait_filestore_settled": lambda self: None,
        },
    )
    lab = type("FakeLab", (), {"ox": ox()})()
    SCENARIOS[scenario].run(lab, 1)  # type: ignore[arg-type]
    on_hosts = SCENARIOS[scenario].on_hosts
    assert on_hosts is not None
    on_hosts(object(), 1, FaultJournal(Path("unused.jsonl")))  # type: ignore[arg-type]
    assert [type(p) for p in places] == [InLab, OnHosts], places
    assert "history.fault(" not in inspect.getsource(getattr(hosts, on_hosts.__name__))
