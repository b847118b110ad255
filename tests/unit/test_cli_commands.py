"""The command line as an operator meets it, without Docker: one module per command, the
same option names as pytest's, flags a command cannot honour refused in one line, and the
figures and tables the commands print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab import cli
from lab.bench import failover_figures, record
from lab.chaos.checkers import Verdict
from lab.chaos.history import History
from lab.chaos.nemesis.schedule import Schedule
from lab.chaos.runner import ChaosRun
from lab.cli import options
from lab.cli.listing import lab_rows
from lab.cli.testing import smoke_scenario
from lab.infra.docker_env import LABEL_KEEP, LABEL_LAB, LABEL_NODE, LABEL_RUN
from lab.infra.hosts.credentials import Credentials, write_credentials
from lab.plan.topology import LabRequest

INVENTORY = """\
[galera]
galera[1:3]
[dblb]
dblb
"""


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run `lab ARGV`, which must refuse before Docker: exit 1, one line on stderr."""
    assert cli.main(list(argv)) == 1, f"`lab {' '.join(argv)}` must be refused"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lab: error: "), f"one line: {err!r}"
    return err


def test_every_command_is_a_module_with_help_and_parses_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, module in cli.COMMANDS.items():
        assert module.HELP and callable(module.run), f"lab/cli module for `{name}`"
        with pytest.raises(SystemExit) as done:
            cli.main([name, "--help"])
        assert done.value.code == 0, f"`lab {name} --help` parses"
    assert "usage: lab list" in capsys.readouterr().out, "the help is printed"


def with_flags(name: str, argv: list[str], *flags: str) -> list[str]:
    """exec's options go before NODE: everything after it is the command."""
    return [name, *flags, *argv] if name == "exec" else [name, *argv, *flags]


def test_every_command_takes_config_and_every_lab_command_takes_name() -> None:
    parser = cli.build_parser()
    lab_commands = {"up", "status", "down", "exec", "verify", "test", "promote", "list", "bench"}
    for name in cli.COMMANDS:
        argv = {"check": ["h.jsonl"], "compose": ["check"], "bench": ["up"]}.get(name, [])
        argv = {"chaos": ["run", "writer-kill"], "images": ["build"], "exec": ["galera1"]}.get(
            name, argv
        )
        args = parser.parse_args(with_flags(name, argv, "--config", "x.toml"))
        assert args.config == "x.toml", f"`lab {name}` takes --config after its name"
        if name in lab_commands or name == "chaos":
            args = parser.parse_args(with_flags(name, argv, "--name", "mine"))
            assert args.name == "mine", f"`lab {name}` takes --name"
    exec_args = parser.parse_args(["exec", "--name", "mine", "galera1", "--", "ls", "--name"])
    assert exec_args.command == ["ls", "--name"], "the command's own flags stay its own"


def test_pytest_takes_the_commands_names_and_keeps_its_old_ones_as_aliases() -> None:
    added: dict[str, tuple[str, ...]] = {}

    def addoption(*flags: str, **attrs: Any) -> None:
        added[attrs["dest"]] = flags

    options.add_pytest_options(addoption)
    assert added["config"] == ("--config", "--lab-config")
    assert added["profile"] == ("--profile", "--failover-profile")
    assert added["sst"] == ("--sst", "--sst-method")
    assert added["seed"] == ("--seed", "--chaos-seed")
    assert added["client"] == ("--client", "--chaos-client")
    assert added["report_dir"] == ("--report-dir", "--chaos-report-dir")
    assert added["inventory"] == ("--inventory", "--lab-inventory")
    assert "topology" not in added, "pytest's fixtures choose their topology"
    parser = cli.build_parser()
    assert added["shard"] == ("--shard",) and not options.OPTIONS["shard"].cli, "pytest only"
    for dest, (flag, *_) in added.items():
        if dest in ("config", "inventory", "credentials") or not options.OPTIONS[dest].cli:
            continue
        command = ["chaos", "run", "writer-kill"] if dest in ("seed", "client") else ["lint"]
        if dest == "report_dir":
            command = ["chaos", "run", "writer-kill"]
        value = {"client": "ox-pool", "seed": "7", "storage": "fast"}.get(dest, "x")
        assert getattr(parser.parse_args([*command, flag, value]), dest) is not None, (
            f"`lab` and pytest share {flag}"
        )


def test_one_request_builder_for_both_doors() -> None:
    given = {"flavour": ["mariadb-11.8"], "profile": "ox", "sst": "mariabackup", "join": "sst"}
    request = options.request_of(given.get, None)
    assert request == LabRequest(
        flavour="mariadb-11.8", profile="ox", sst_method="mariabackup", join="sst"
    )
    assert options.request_of({}.get, None) == LabRequest(), "nothing given: the defaults"


def test_a_command_that_runs_one_lab_refuses_two_flavours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = refused(capsys, "up", "--flavour", "mariadb-10.11", "--flavour", "mariadb-11.8")
    assert "--flavour given 2 times" in err


def test_chaos_run_refuses_a_topology_or_balancer_other_than_its_scenarios(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = refused(capsys, "chaos", "run", "writer-kill", "--topology", "gtid")
    assert "runs on --topology galera; --topology gtid does not apply" in err
    err = refused(capsys, "chaos", "run", "dblb-pair-kill", "--dblb", "single")
    assert "runs on --dblb keepalived; --dblb single does not apply" in err


def test_chaos_run_keeps_the_scenarios_own_topology_when_it_is_asked_for() -> None:
    args = cli.build_parser().parse_args(
        ["chaos", "run", "dblb-pair-kill", "--topology", "galera", "--dblb", "keepalived"]
    )
    from lab.chaos.scenarios.registry import SCENARIOS
    from lab.cli.chaos import lab_request_for

    request = lab_request_for(SCENARIOS["dblb-pair-kill"], args)
    assert (request.topology, request.dblb) == ("galera", "keepalived")


@pytest.mark.parametrize(
    "flag", [["--flavour", "mariadb-11.8"], ["--profile", "ox"], ["--client", "aggressive"]]
)
def test_chaos_run_on_hosts_refuses_flags_that_shape_a_new_lab(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flag: list[str]
) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(INVENTORY)
    creds = write_credentials(tmp_path / "c.cnf", Credentials("ox", "pw", "user", "secret"))
    err = refused(
        capsys,
        "chaos",
        "run",
        "writer-kill",
        "--inventory",
        str(inventory),
        "--credentials",
        str(creds),
        "--allow-faults-on-hosts",
        *flag,
    )
    assert flag[0] in err and "uses the hosts as they are" in err, err


def test_lab_exec_without_a_command_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert "no command given" in refused(capsys, "exec", "galera1", "--")


def test_the_smoke_run_is_the_first_scenario_of_the_labs_kind() -> None:
    assert smoke_scenario("galera", "single").name == "writer-kill"
    assert smoke_scenario("gtid", "single").name == "gtid-master-kill"
    assert smoke_scenario("guide", "single").name == "oxgw-kill"
    assert smoke_scenario("guide-galera", "local").name == "dblb-local-writer"
    assert smoke_scenario("guide-galera", "single").name == "writer-kill", (
        "no scenario registered for guide-galera itself: the first of the galera family"
    )
    assert smoke_scenario("galera", "keepalived").name == "dblb-pair-kill"


def test_lab_test_refuses_a_scenario_of_the_other_database_family(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = refused(capsys, "test", "--topology", "gtid", "--scenario", "writer-kill")
    assert "runs on a galera cluster; this lab (gtid) is a gtid one" in err


def test_lab_list_has_a_row_per_run_naming_what_does_not_run() -> None:
    def labels(run: str, lab: str, node: str, keep: str = "1") -> dict[str, str]:
        return {
            LABEL_RUN: run,
            LABEL_LAB: lab,
            LABEL_NODE: node,
            LABEL_KEEP: keep,
            "ox-lab.topology": "galera",
            "ox-lab.flavour": "mariadb-10.11",
        }

    rows = lab_rows(
        [
            (labels("r2", "pytest-main", "galera1", keep="0"), "running"),
            (labels("r1", "default", "galera2"), "exited"),
            (labels("r1", "default", "galera1"), "running"),
            (labels("r1", "default", "dblb"), "paused"),
        ]
    )
    assert [r["lab"] for r in rows] == ["default", "pytest-main"], "by lab name"
    assert rows[0]["nodes"] == "1/3 running"
    assert rows[0]["not running"] == "dblb (paused), galera2 (exited)", "in node order"
    assert (rows[0]["kept"], rows[1]["kept"]) == ("lab up", "test run")
    assert rows[1]["not running"] == "-"


def _run_with(probes: list[dict[str, Any]]) -> ChaosRun:
    run = ChaosRun("writer-kill", "fast", Schedule((), 1), History())
    run.probes = probes
    run.verdicts = [
        Verdict("no-acknowledged-write-lost", {"lost-write": ["7"]}, {"acknowledged": 40})
    ]
    return run


def test_bench_failover_prints_each_clients_gap_and_skips_evidence_probes() -> None:
    """The writer kill also keeps an evidence probe (no client): the figures must not
    stumble over it (`lab bench failover` once did, with a KeyError)."""
    client = {"new_writer": "galera2", "errors": 3, "unknown": 1}
    text = failover_figures(
        _run_with(
            [
                {"client": "ox-pool: OX's pool", "write_gap_s": 2.04, **client},
                {"evidence": {"why": "suspect_timeout"}},
                {"client": "aggressive", "write_gap_s": 1.5, **client},
            ]
        ),
        "mariadb-10.11",
    )
    assert "writer kill (mariadb-10.11, failover profile fast" in text
    assert "ox-pool: OX's pool:" in text and "aggressive:" in text
    assert "on galera2)   2.04 s; errors 3, unknown outcome 1" in text
    assert "acknowledged 40, acknowledged but lost 1" in text
    assert "evidence" not in text and "suspect_timeout" not in text


def test_bench_names_its_labs_by_name_never_the_operators_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import lab.bench
    import lab.cli.bench

    named: list[str] = []
    monkeypatch.setattr(lab.cli.bench, "connect", lambda: None)
    monkeypatch.setattr(
        lab.bench,
        "bench_failover",
        lambda client, request, progress, name: named.append(name) or "",
    )
    assert cli.main(["bench", "failover"]) == 0
    assert cli.main(["bench", "failover", "--name", "nightly"]) == 0
    assert named == ["bench", "nightly"], "bench's labs are not the operator's default lab"


def test_bench_records_its_figures_in_their_own_section_of_the_page(tmp_path: Path) -> None:
    page = tmp_path / "docs" / "measured.md"
    record(page, "up", "galera 4.2 s", "2026-12-04 on a (2 cores)")
    assert page.read_text().startswith("# Measured\n"), "a missing page is made"
    page.write_text(page.read_text() + "\nfigures by hand stay\n")
    record(page, "failover", "gap 1.9 s", "ctx")
    record(page, "up", "galera 3.9 s", "2026-12-05 on b (2 cores)")
    text = page.read_text()
    assert "galera 3.9 s" in text and "galera 4.2 s" not in text, "the last run replaces"
    assert text.count("<!-- lab bench up -->") == 1 and text.count("<!-- /lab bench up -->") == 1
    assert "gap 1.9 s" in text and "figures by hand stay" in text, "other sections are kept"
    assert "`lab bench up`, 2026-12-05 on b (2 cores):" in text, "the figure says where"
    assert text.index("lab bench up") < text.index("figures by hand"), "replaced in place"
