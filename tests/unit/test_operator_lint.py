"""`lab lint`'s rule catalogue: every rule trips on a file with its mistake and stays
quiet on the lab's reference files (`lab init`), so a rule that stops looking, or one
that cries wolf on the guide's own settings, turns this red."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.infra.errors import ConfigError
from lab.operator.init import init_project
from lab.operator.lint import BLOCKS_UP, ERROR, INFO, RULES, Finding, lint
from lab.operator.placement import operator_notes
from lab.operator.project import load_project
from lab.plan.topology import LabRequest

Edit = Callable[[str], str]


def sub(pattern: str, replacement: str, count: int = 0) -> Edit:
    def edit(text: str) -> str:
        changed = re.sub(pattern, replacement, text, count=count, flags=re.M)
        assert changed != text, f"the mutation {pattern!r} no longer matches the reference"
        return changed

    return edit


def drop(pattern: str) -> Edit:
    return sub(rf"^.*{pattern}.*\n", "")


def starter(tmp_path: Path, topology: str = "guide-galera", profile: str = "fast") -> Path:
    init_project(tmp_path, LabRequest.of(topology=topology, profile=profile).plan())
    return tmp_path / "oxlab.toml"


def findings(toml: Path) -> list[Finding]:
    project = load_project(toml)
    plan = LabRequest.of(project).plan()
    return lint(project, plan.topology, (plan.flavour,))


@dataclass(frozen=True)
class Mistake:
    """A classic mistake: the edit to one reference file (and any other it needs)."""

    topology: str
    file: str
    edit: Edit
    also: tuple[tuple[str, Edit], ...] = ()


MISTAKES: dict[str, Mistake] = {
    "HA001": Mistake(
        "guide-galera",
        "dblb/haproxy.cfg",
        sub(r"timeout client 20m", "timeout client 50s"),
    ),
    "HA002": Mistake(
        "guide-galera",
        "dblb/haproxy.cfg",
        sub(r"(init-addr last,libc,none) backup", r"\1", 1),
    ),
    "HA003": Mistake("guide-galera", "dblb/haproxy.cfg", drop("option httpchk")),
    "HA004": Mistake(
        "guide-galera",
        "dblb/haproxy.cfg",
        sub(r" on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions", ""),
    ),
    "DB001": Mistake(
        "guide-galera",
        "db/ox.cnf",
        sub(r"innodb_flush_log_at_trx_commit = 1", "innodb_flush_log_at_trx_commit = 2"),
    ),
    "DB002": Mistake(
        "guide-galera",
        "db/wsrep.cnf",
        sub(r"wsrep_sync_wait = 1", "wsrep_sync_wait = 0"),
        (
            (
                "groupware/configdb.properties",
                sub(r"replicationMonitor=true", "replicationMonitor=false"),
            ),
        ),
    ),
    "DB003": Mistake(
        "guide-galera",
        "db/wsrep.cnf",
        sub(r"^wsrep_provider = .*$", "wsrep_provider = /usr/lib64/galera-4/libgalera_smm.so"),
    ),
    "DB004": Mistake(
        "guide-galera",
        "db/wsrep.cnf",
        sub(r"binlog_format = ROW", "binlog_format = STATEMENT"),
    ),
    "DB005": Mistake(
        "guide", "db/gtid.cnf", sub(r"log_slave_updates = ON", "log_slave_updates = OFF")
    ),
    "DB006": Mistake("guide-galera", "db/ox.cnf", sub(r"^\[mysqld\]$", "[mysqld]\nserver_id = 1")),
    "AP001": Mistake("guide-galera", "web/proxy_ajp.conf", sub(r"route=OX2", "route=OX3")),
    "AP002": Mistake("guide-galera", "web/proxy_ajp.conf", drop("ProxySet stickysession")),
    "AP003": Mistake(
        "guide-galera",
        "web/proxy_ajp.conf",
        sub(r"<LocationMatch[^\n]*\n(.*\n)*?</LocationMatch>\n", ""),
    ),
    "AP004": Mistake("guide-galera", "web/oxlab.conf", drop("Require ip")),
    "AP005": Mistake("guide-galera", "web/oxlab.conf", drop("Redirect permanent")),
    "OX001": Mistake(
        "guide",
        "groupware/configdb.properties",
        sub(r"replicationMonitor=true", "replicationMonitor=false"),
    ),
    "OX002": Mistake(
        "guide-galera",
        "groupware/configdb.properties",
        sub(r"socketTimeout=15000", "socketTimeout=0"),
    ),
    "NF001": Mistake("guide-galera", "filestore/exports", sub(r" oxgw02\(", " *(")),
    "NF002": Mistake("guide-galera", "filestore/exports", sub(r"\(rw,", "(ro,", 1)),
    "HA006": Mistake(
        "guide-galera",
        "dblb/haproxy.cfg",
        sub(r"server galera2 galera2:3306", "server galera2 db7.example.net:3306", 1),
    ),
    "HA007": Mistake("guide-galera", "dblb/haproxy.cfg", sub(r"bind :3306", "bind :3310")),
    "HA008": Mistake(
        "guide-galera", "dblb/haproxy.cfg", sub(r"timeout connect 1s", "timeout connect 60s")
    ),
    "DB007": Mistake("guide-galera", "db/wsrep.cnf", sub(r"^wsrep_on = ON$", "wsrep_on = OFF")),
    "DB008": Mistake(
        "guide-galera",
        "db/wsrep.cnf",
        sub(r"^wsrep_cluster_address = .*$", "wsrep_cluster_address = gcomm://galera1,db9,galera3"),
    ),
    "DB009": Mistake("guide-galera", "db/wsrep.cnf", sub(r"gcache\.size=32M", "gcache.size=8M")),
    "DB010": Mistake(
        "guide-galera",
        "db/wsrep.cnf",
        sub(r"evs\.suspect_timeout=PT3S", "evs.suspect_timeout=PT1S"),
    ),
    "AP006": Mistake(
        "guide-galera",
        "web/proxy_ajp.conf",
        sub(r"  <Location /usm-json>\n.*\n  </Location>\n", ""),
    ),
    "AP007": Mistake(
        "guide-galera",
        "web/proxy_ajp.conf",
        sub(r"ajp://oxgw02:8009", "ajp://ox9.example.net:8009"),
    ),
    "OX003": Mistake(
        "guide-galera",
        "groupware/configdb.properties",
        sub(r"writeProperty.1=user=openexchange", "writeProperty.1=user=ox"),
    ),
    "OX004": Mistake(
        "guide-galera",
        "groupware/configdb.properties",
        sub(r"writeProperty.5=autoReconnect=false", "writeProperty.5=autoReconnect=true"),
    ),
    "HO001": Mistake(
        "guide-galera",
        "dblb/haproxy.cfg",
        sub(r"server galera1 galera1:3306", "server galera1 10.1.2.3:3306"),
    ),
}


def made(tmp_path: Path, mistake: Mistake) -> tuple[Path, list[str]]:
    """The reference files with the mistake made: oxlab.toml, and the mistaken file's
    lines as they were before."""
    toml = starter(tmp_path, mistake.topology)
    path = tmp_path / mistake.file
    before = path.read_text().splitlines()
    path.write_text(mistake.edit(path.read_text()))
    for other, edit in mistake.also:
        (tmp_path / other).write_text(edit((tmp_path / other).read_text()))
    return toml, before


@pytest.mark.parametrize("topology", ["guide-galera", "guide", "galera", "gtid"])
def test_the_reference_files_lint_clean(tmp_path: Path, topology: str) -> None:
    found = [f for f in findings(starter(tmp_path, topology)) if f.severity != INFO]
    assert not found, "the guide's own settings (`lab init`) must not trip a rule:\n" + "\n".join(
        f.render() for f in found
    )


@pytest.mark.parametrize("rule_id", sorted(MISTAKES))
def test_each_rule_trips_on_its_mistake_and_names_the_line(tmp_path: Path, rule_id: str) -> None:
    mistake = MISTAKES[rule_id]
    relative = mistake.file
    path = tmp_path / relative
    toml, before = made(tmp_path, mistake)
    hits = [f for f in findings(toml) if f.rule == rule_id]
    assert hits, f"{rule_id} ({RULES[rule_id][0]}) must report the mistake in {relative}"
    hit = hits[0]
    assert hit.file == path.resolve(), f"{rule_id} names the operator's file: {hit.render()}"
    after = path.read_text().splitlines()
    changed = {i + 1 for i, line in enumerate(after) if i >= len(before) or line != before[i]}
    near = {n for c in changed for n in range(c - 8, c + 2)}
    assert hit.line in near or not changed, (
        f"{rule_id} points at line {hit.line}, near the change at {sorted(changed)}: {hit.render()}"
    )
    assert hit.why and hit.fix, "every finding says why and what to do"


def test_every_registered_rule_has_a_mistake_here() -> None:
    untested = set(RULES) - set(MISTAKES) - {"HA005"}
    assert not untested, f"rules without a tripping file in MISTAKES: {sorted(untested)}"


def test_errors_and_warnings_are_what_the_catalogue_says(tmp_path: Path) -> None:
    toml = starter(tmp_path)
    cfg = tmp_path / "dblb/haproxy.cfg"
    cfg.write_text(MISTAKES["HA003"].edit(cfg.read_text()))
    severities = {f.rule: f.severity for f in findings(toml)}
    assert severities["HA003"] == ERROR, "TCP-only checks hide split brain: an error"


@pytest.mark.parametrize(
    ("profile", "detection"), [("fast", "1.5 s to up to 2 s"), ("ox", "18 s to up to 24 s")]
)
def test_the_failover_time_the_check_settings_imply_is_printed(
    tmp_path: Path, profile: str, detection: str
) -> None:
    toml = starter(tmp_path, "galera", profile)
    [write] = [f for f in findings(toml) if f.rule == "HA005" and "write listener" in f.what]
    assert f"taken out after {detection}" in write.what, write.what


def test_timeouts_are_judged_against_the_operators_own_pool_settings(tmp_path: Path) -> None:
    toml = starter(tmp_path)
    props = tmp_path / "groupware/configdb.properties"
    props.write_text(props.read_text().replace("maxIdleTime=60000", "maxIdleTime=3600000"))
    hits = [f for f in findings(toml) if f.rule == "HA001"]
    assert hits and "3600000" in hits[0].what, "20m is shorter than a 1 h maxIdleTime"
    assert "configdb.properties" in hits[0].what, "the finding names where the pool's value is"


def test_the_docs_documents_exactly_the_rule_catalogue() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text()
    rows = re.findall(
        r"^\| ([A-Z]{2}\d{3}) \| (error|warning|info)(, stops `lab up`)? \|", readme, re.M
    )
    documented = {rule_id for rule_id, _, _ in rows}
    assert documented == set(RULES), f"docs/rules.md's table vs RULES: {documented ^ set(RULES)}"
    blocking = {rule_id for rule_id, _, stops in rows if stops}
    assert blocking == BLOCKS_UP, (
        f"docs/rules.md's 'stops lab up' vs BLOCKS_UP: {blocking ^ BLOCKS_UP}"
    )


@pytest.mark.parametrize("rule_id", sorted(MISTAKES))
def test_lab_up_refuses_exactly_what_lint_marks_as_blocking(tmp_path: Path, rule_id: str) -> None:
    """One list of truths: on each classic mistake, `lab up` (operator_notes, before
    Docker) stops if and only if lint reports a BLOCKS_UP finding, and names each of
    those findings with its rule, file and line."""
    toml, _ = made(tmp_path, MISTAKES[rule_id])
    blocking = [f for f in findings(toml) if f.rule in BLOCKS_UP]
    plan = LabRequest.of(load_project(toml)).plan()
    if not blocking:
        operator_notes(plan)  # lab up goes on
        return
    with pytest.raises(ConfigError) as refused:
        operator_notes(plan)
    for finding in blocking:
        assert f"{finding.rule} error {finding.file}:{finding.line}: " in str(refused.value), (
            f"lab up names lint's finding: {finding.render()}"
        )
    assert str(refused.value).count(" error ") == len(blocking), "and nothing else"


def test_every_blocking_rule_is_an_error_rule() -> None:
    assert BLOCKS_UP <= set(RULES)
    assert BLOCKS_UP >= {"DB006", "DB007", "DB008", "HA006", "HA007", "OX003", "AP007"}


def test_a_rule_id_registered_twice_is_refused_and_the_first_kept() -> None:
    """Two rules under one id would hide one of them from `lab lint` and `lab up`."""
    from lab.infra.errors import LabError
    from lab.operator.lint.engine import register

    summary, check = RULES["DB010"]
    with pytest.raises(LabError, match="DB010 is registered twice"):
        register("DB010", "a copy", lambda context: iter(()), blocks_up=True)
    assert RULES["DB010"] == (summary, check) and "DB010" not in BLOCKS_UP


@pytest.mark.parametrize("blocks_up", [None, False, True])
def test_a_registered_rule_runs_and_stops_lab_up_only_when_it_says_so(
    tmp_path: Path, blocks_up: bool | None
) -> None:
    """A rule is known by its id with its summary and check; it stops `lab up` only when
    registered with blocks_up=True (the default is a finding `lab lint` reports)."""
    from lab.operator.lint.engine import register

    def check(context: object) -> Iterator[Finding]:
        yield from ()

    try:
        if blocks_up is None:
            register("ZZ999", "a test's rule", check)
        else:
            register("ZZ999", "a test's rule", check, blocks_up=blocks_up)
        assert RULES["ZZ999"] == ("a test's rule", check)
        assert ("ZZ999" in BLOCKS_UP) == bool(blocks_up), BLOCKS_UP
    finally:
        RULES.pop("ZZ999", None)
        BLOCKS_UP.discard("ZZ999")


def test_a_chaos_figure_is_explained_by_the_named_rules_findings_only(tmp_path: Path) -> None:
    """`explain`: the operator's settings behind a figure, lint's findings of the rules a
    scenario names, each rendered relative to the project (where the operator looks)."""
    from lab.operator.lint.engine import explain

    toml, _ = made(tmp_path, MISTAKES["HA001"])
    plan = LabRequest.of(load_project(toml)).plan()
    explained = explain(plan, ("HA001",))
    assert len(explained) == 1 and explained[0].startswith("HA001 error dblb/haproxy.cfg:"), (
        explained
    )
    both = {line.split()[0] for line in explain(plan, ("HA001", "HA005"))}
    assert both == {"HA001", "HA005"}, "each named rule's findings (HA005: detection time)"
    assert explain(plan, ("HA004",)) == [], "a rule that found nothing explains nothing"
    assert explain(plan, ()) == [], "a scenario that names no rule"
    assert explain(LabRequest.of().plan(), ("HA001",)) == [], "the lab's own files"


@pytest.mark.parametrize("read_port", ["3307", "3309"])
def test_the_read_listener_is_the_one_on_configdbs_readurl_port(
    tmp_path: Path, read_port: str
) -> None:
    """Lint judges the listener OX reads through: the port of configdb.properties'
    readUrl, wherever the operator moved it, not the lab's 3307."""
    toml = starter(tmp_path)
    for name, old in (
        ("dblb/haproxy.cfg", "bind :3307"),
        ("groupware/configdb.properties", ":3307/"),
    ):
        path = tmp_path / name
        path.write_text(path.read_text().replace(old, old.replace("3307", read_port)))
    cfg = tmp_path / "dblb/haproxy.cfg"
    cfg.write_text(cfg.read_text().replace("timeout client 20m", "timeout client 50s"))
    [short] = [f for f in findings(toml) if f.rule == "HA001"]
    assert "write listener db-write and read listener db-read" in short.what, short.what


def test_a_project_without_its_own_haproxy_cfg_is_linted_without_it(tmp_path: Path) -> None:
    """An operator who brings only their database and OX files (the lab's HAProxy in
    front): the rules that read haproxy.cfg find nothing to judge, and none fails."""
    toml = starter(tmp_path)
    toml.write_text(toml.read_text().replace('haproxy_cfg = "dblb/haproxy.cfg"\n', ""))
    found = findings(toml)
    assert not [f for f in found if f.rule.startswith("HA")], [f.render() for f in found]


def test_lint_no_syntax_says_which_syntax_checks_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lab.cli import main

    toml = starter(tmp_path)
    assert main(["lint", "--no-syntax", "--config", str(toml)]) == 0
    lines = capsys.readouterr().out.splitlines()
    skipped = [line for line in lines if line.startswith("syntax checks skipped")]
    assert len(skipped) == 1, f"one line says what was skipped: {lines}"
    for tool in ("haproxy -c on haproxy.cfg", "apache2ctl -t on", "mysqld --help --verbose on"):
        assert tool in skipped[0], skipped[0]
