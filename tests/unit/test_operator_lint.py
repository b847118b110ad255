"""`lab lint`'s rule catalogue: every rule trips on a file with its mistake and stays
quiet on the lab's reference files (`lab init`), so a rule that stops looking, or one
that cries wolf on the guide's own settings, turns this red."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.spec.operator.init import init_project
from lab.spec.operator.lint import ERROR, INFO, RULES, Finding, lint
from lab.spec.operator.project import load_project
from lab.spec.topology import LabRequest

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
        "haproxy/haproxy.cfg",
        sub(r"timeout client 20m", "timeout client 50s"),
    ),
    "HA002": Mistake(
        "guide-galera",
        "haproxy/haproxy.cfg",
        sub(r"(init-addr last,libc,none) backup", r"\1", 1),
    ),
    "HA003": Mistake("guide-galera", "haproxy/haproxy.cfg", drop("option httpchk")),
    "HA004": Mistake(
        "guide-galera",
        "haproxy/haproxy.cfg",
        sub(r" on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions", ""),
    ),
    "DB001": Mistake(
        "guide-galera",
        "mysql/ox.cnf",
        sub(r"innodb_flush_log_at_trx_commit = 1", "innodb_flush_log_at_trx_commit = 2"),
    ),
    "DB002": Mistake(
        "guide-galera",
        "mysql/wsrep.cnf",
        sub(r"wsrep_sync_wait = 1", "wsrep_sync_wait = 0"),
        (("ox/configdb.properties", sub(r"replicationMonitor=true", "replicationMonitor=false")),),
    ),
    "DB003": Mistake(
        "guide-galera",
        "mysql/wsrep.cnf",
        sub(r"^wsrep_provider = .*$", "wsrep_provider = /usr/lib64/galera-4/libgalera_smm.so"),
    ),
    "DB004": Mistake(
        "guide-galera",
        "mysql/wsrep.cnf",
        sub(r"binlog_format = ROW", "binlog_format = STATEMENT"),
    ),
    "DB005": Mistake(
        "guide", "mysql/gtid.cnf", sub(r"log_slave_updates = ON", "log_slave_updates = OFF")
    ),
    "DB006": Mistake(
        "guide-galera", "mysql/ox.cnf", sub(r"^\[mysqld\]$", "[mysqld]\nserver_id = 1")
    ),
    "AP001": Mistake("guide-galera", "apache/proxy_ajp.conf", sub(r"route=OX2", "route=OX3")),
    "AP002": Mistake("guide-galera", "apache/proxy_ajp.conf", drop("ProxySet stickysession")),
    "AP003": Mistake(
        "guide-galera",
        "apache/proxy_ajp.conf",
        sub(r"<LocationMatch[^\n]*\n(.*\n)*?</LocationMatch>\n", ""),
    ),
    "AP004": Mistake("guide-galera", "apache/oxlab.conf", drop("Require ip")),
    "AP005": Mistake("guide-galera", "apache/oxlab.conf", drop("Redirect permanent")),
    "OX001": Mistake(
        "guide",
        "ox/configdb.properties",
        sub(r"replicationMonitor=true", "replicationMonitor=false"),
    ),
    "OX002": Mistake(
        "guide-galera",
        "ox/configdb.properties",
        sub(r"socketTimeout=15000", "socketTimeout=0"),
    ),
    "NF001": Mistake("guide-galera", "nfs/exports", sub(r" oxgw02\(", " *(")),
    "NF002": Mistake("guide-galera", "nfs/exports", sub(r"\(rw,", "(ro,", 1)),
    "HO001": Mistake(
        "guide-galera",
        "haproxy/haproxy.cfg",
        sub(r"server galera1 galera1:3306", "server galera1 10.1.2.3:3306"),
    ),
}


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
    toml = starter(tmp_path, mistake.topology)
    path = tmp_path / relative
    before = path.read_text().splitlines()
    path.write_text(mistake.edit(path.read_text()))
    for other, edit in mistake.also:
        (tmp_path / other).write_text(edit((tmp_path / other).read_text()))
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
    cfg = tmp_path / "haproxy/haproxy.cfg"
    cfg.write_text(MISTAKES["HA003"].edit(cfg.read_text()))
    severities = {f.rule: f.severity for f in findings(toml)}
    assert severities["HA003"] == ERROR, "TCP-only checks hide split brain: an error"


@pytest.mark.parametrize(("profile", "detection"), [("fast", "1 s"), ("ox", "12 s")])
def test_the_failover_time_the_check_settings_imply_is_printed(
    tmp_path: Path, profile: str, detection: str
) -> None:
    toml = starter(tmp_path, "galera", profile)
    [write] = [f for f in findings(toml) if f.rule == "HA005" and "write listener" in f.what]
    assert f"taken out after up to {detection}" in write.what, write.what


def test_timeouts_are_judged_against_the_operators_own_pool_settings(tmp_path: Path) -> None:
    toml = starter(tmp_path)
    props = tmp_path / "ox/configdb.properties"
    props.write_text(props.read_text().replace("maxIdleTime=60000", "maxIdleTime=3600000"))
    hits = [f for f in findings(toml) if f.rule == "HA001"]
    assert hits and "3600000" in hits[0].what, "20m is shorter than a 1 h maxIdleTime"
    assert "configdb.properties" in hits[0].what, "the finding names where the pool's value is"


def test_the_readme_documents_exactly_the_rule_catalogue() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    documented = set(re.findall(r"^\| ([A-Z]{2}\d{3}) \| (?:error|warning|info) \|", readme, re.M))
    assert documented == set(RULES), f"README's rule table vs RULES: {documented ^ set(RULES)}"
