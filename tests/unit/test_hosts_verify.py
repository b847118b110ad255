"""The inventory, credentials and verify decisions without any host: what an operator's
files mean, and when a check passes."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest
import requests

from lab.chaos.nemesis.hosts import FaultJournal, heal_pending
from lab.infra.errors import ConfigError, LabError
from lab.infra.hosts.credentials import Credentials, load_credentials, write_credentials
from lab.infra.hosts.inventory import load_inventory
from lab.infra.hosts.remote import Host, ssh_reason
from lab.operator.parsers import haproxy_sections
from lab.verify.checks.database import judge_wsrep, mariadb_gtid_contains
from lab.verify.checks.dblb import judge_listeners, lint_on_host, stats_url
from lab.verify.checks.groupware import judge_route
from lab.verify.checks.web import denied
from lab.verify.result import Result, guarded
from lab.verify.run import Verification, render
from lab.verify.target import Target

GALERA_INI = """\
[web]
web01 ansible_host=10.0.0.10
[groupware]
oxgw[01:02] ansible_user=deploy
[galera_nodes]
galera[1:3]
[galera:children]
galera_nodes
[dblb]
dblb ansible_host=10.0.0.20 ansible_port=2222
[filestore]
nfs01
[all:vars]
ansible_become=true
"""


def write(tmp_path: Path, text: str, name: str = "hosts.ini") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_ansible_inventory_is_read_as_ansible_reads_it(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GALERA_INI))
    assert inv.layout == "galera"
    assert [h.name for h in inv.role("groupware")] == ["oxgw01", "oxgw02"], "host ranges"
    assert [h.name for h in inv.role("galera")] == ["galera1", "galera2", "galera3"], (
        "a children group counts as the role's hosts"
    )
    dblb = inv.role("dblb")[0]
    assert (dblb.address, dblb.variables["ansible_port"]) == ("10.0.0.20", 2222)
    assert inv.role("groupware")[0].variables["ansible_user"] == "deploy"
    assert inv.role("filestore")[0].variables["ansible_become"], "[all:vars] reach every host"


def test_a_yaml_inventory_of_the_gtid_layout(tmp_path: Path) -> None:
    yaml = """\
all:
  children:
    web: {hosts: {web: {ansible_host: 10.0.0.1}}}
    groupware: {hosts: {oxgw01: {}, oxgw02: {}}}
    dbmaster: {hosts: {db1: {}}}
    dbslave: {hosts: {db2: {}}}
    filestore: {hosts: {db1: {}}}
"""
    inv = load_inventory(write(tmp_path, yaml, "hosts.yml"))
    assert inv.layout == "gtid"
    assert [h.role for h in inv.hosts if h.name == "db1"] == ["dbmaster", "filestore"], (
        "the guide puts the filestore on the database master: two roles, one machine"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GALERA_INI.replace("[dblb]\ndblb ansible_host=10.0.0.20 ansible_port=2222\n", ""),
            r"no hosts in \[dblb\]",
        ),
        (GALERA_INI + "[dbmaster]\ngalera1\n", "host galera1 is in groups galera and dbmaster"),
        (GALERA_INI + "[dbslave]\nother\n", "either a Galera cluster or GTID"),
        ("[web\nweb01\n", "not an Ansible inventory"),
    ],
    ids=["role missing", "two database roles", "two layouts", "malformed"],
)
def test_bad_inventories_are_one_line_naming_the_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as raised:
        load_inventory(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_inventory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such inventory file"):
        load_inventory(tmp_path / "nope.ini")


def test_credentials_file_is_checked(tmp_path: Path) -> None:
    creds = Credentials("openexchange", "pw", "testuser", "secret")
    path = write_credentials(tmp_path / "c.cnf", creds)
    assert load_credentials(path) == creds
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others; chmod 600"):
        load_credentials(path)
    path.write_text("[client]\nuser = x\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=r"\[client\] needs password"):
        load_credentials(path)
    path.write_text("user = x\n")
    with pytest.raises(ConfigError, match=r"c.cnf:1: File contains no section headers"):
        load_credentials(path)


@pytest.mark.parametrize(
    ("stderr", "said"),
    [
        ("Host key verification failed.", "host key not known"),
        ("ssh: connect to host 10.0.0.1 port 22: Connection refused", "connection refused"),
        ("ssh: connect to host 10.0.0.1 port 22: Connection timed out", "timed out"),
        ("ops@10.0.0.1: Permission denied (publickey).", "permission denied"),
        ("ssh: Could not resolve hostname nope: Name or service not known", "does not resolve"),
    ],
)
def test_ssh_failures_read_as_a_person_says_them(stderr: str, said: str) -> None:
    assert said in ssh_reason(f"CommandResult(rc=255, stderr={stderr!r})")


SYNCED = {
    "wsrep_local_state_comment": "Synced",
    "wsrep_cluster_status": "Primary",
    "wsrep_cluster_size": "3",
    "wsrep_ready": "ON",
    "wsrep_connected": "ON",
}


def test_wsrep_status_passes_only_a_synced_primary_node_of_the_whole_cluster() -> None:
    assert judge_wsrep("g1", SYNCED, 3, 1).ok
    desynced = judge_wsrep("g2", {**SYNCED, "wsrep_local_state_comment": "Donor/Desynced"}, 3, 1)
    assert not desynced.ok and "Donor/Desynced, not Synced" in desynced.evidence
    assert not judge_wsrep("g1", {**SYNCED, "wsrep_cluster_status": "non-Primary"}, 3, 1).ok
    assert not judge_wsrep("g1", {**SYNCED, "wsrep_cluster_size": "2"}, 3, 1).ok
    assert not judge_wsrep("g1", {**SYNCED, "wsrep_ready": "OFF"}, 3, 1).ok
    assert not judge_wsrep("g1", SYNCED, 3, 2).ok, "two cluster state UUIDs: split clusters"


HAPROXY = """\
defaults
    timeout connect 1s
listen stats
    bind :8404
    mode http
    stats uri /
listen db-write
    bind :3306
    option httpchk GET /
    default-server port 9200
    server g1 g1:3306 check
    server g2 g2:3306 check backup
    server g3 g3:3306 check backup
listen db-read
    bind :3307
    balance roundrobin
    option httpchk GET /
    server g1 g1:3306 check
    server g2 g2:3306 check
    server g3 g3:3306 check
"""


def test_the_guides_listeners_pass_and_each_mistake_is_named() -> None:
    problems, evidence = judge_listeners(haproxy_sections(HAPROXY), 3)
    assert problems == [] and "writes: g1 + backup g2, g3" in evidence
    only_backups = HAPROXY.replace(
        "g1:3306 check\n    server g2", "g1:3306 check backup\n    server g2", 1
    )
    assert "only backup servers" in judge_listeners(haproxy_sections(only_backups), 3)[0][0]
    assert "3 servers for 4 nodes" in judge_listeners(haproxy_sections(HAPROXY), 4)[0][0]
    source = HAPROXY.replace("balance roundrobin", "balance source")
    assert any("balances source" in p for p in judge_listeners(haproxy_sections(source), 3)[0])
    no_read = HAPROXY.split("listen db-read")[0]
    assert any(
        "no listener on :3307" in p for p in judge_listeners(haproxy_sections(no_read), 3)[0]
    )
    assert stats_url(haproxy_sections(HAPROXY), "10.0.0.5") == "http://10.0.0.5:8404/;csv"


def errors(cfg: str) -> list[str]:
    return [
        f.rule
        for f in lint_on_host("dblb:/etc/haproxy/haproxy.cfg", cfg, None)
        if f.severity == "error"
    ]


def test_lab_lints_haproxy_rules_judge_the_file_the_host_runs() -> None:
    assert errors(HAPROXY) == []
    assert errors(HAPROXY.replace("g2:3306 check backup", "g2:3306 check")) == ["HA002"], (
        "two active writers"
    )
    tcp = HAPROXY.replace("    option httpchk GET /\n    default-server port 9200\n", "")
    assert errors(tcp) == ["HA003"], "health by TCP connect"
    finding = lint_on_host("dblb:/etc/haproxy/haproxy.cfg", HAPROXY, None)[0]
    assert str(finding.file) == "dblb:/etc/haproxy/haproxy.cfg", "named by host and path"


def test_a_route_passes_only_when_exactly_its_balancer_member_carries_it() -> None:
    members = [("oxgw01", "OX1"), ("oxgw02", "OX2")]
    assert judge_route("oxgw01", "OX1", {"oxgw01", "10.0.0.1"}, members, "web")[0] == []
    wrong = judge_route("oxgw02", "OX3", {"oxgw02"}, members, "web")[0]
    assert wrong == ["its route is OX3 but the balancer sends route=OX2 to it"]
    assert "0 BalancerMembers" in judge_route("oxgw03", "OX3", {"oxgw03"}, members, "web")[0][0]
    duplicate = judge_route("oxgw01", "OX1", {"oxgw01"}, [*members, ("oxgw09", "OX1")], "web")[0]
    assert duplicate == ["route OX1 also belongs to another BalancerMember"]


def test_mariadb_gtid_positions_contain_per_domain() -> None:
    assert mariadb_gtid_contains("0-1-10", "0-1-10")
    assert mariadb_gtid_contains("0-1-12,1-2-3", "0-1-10")
    assert not mariadb_gtid_contains("0-1-9", "0-1-10")
    assert not mariadb_gtid_contains("0-1-10", "0-1-10,1-2-1"), "a domain the slave lacks"
    assert mariadb_gtid_contains("", "")


def test_the_report_is_one_table_per_section_within_100_columns() -> None:
    target = Target("hosts.ini", "galera", [], Credentials("u", "p", "l", "p"))
    results = [
        Result("galera", "galera1", "wsrep status", True, "Synced, Primary, size 3 " * 4),
        Result(
            "galera",
            "galera2",
            "wsrep status",
            False,
            "wsrep_local_state_comment is Donor/Desynced, not Synced",
        ),
        Result("web", "web", "SOAP API locked", True, "13 of 13 ways: 403"),
    ]
    text = render(Verification(target, results, 1.25))
    assert all(len(line) <= 100 for line in text.splitlines()), text
    assert "\ngalera\n" in text and "\nweb\n" in text
    assert "2 of 3 checks passed in 1.2 s; 1 failed:" in text
    assert "FAIL galera: galera2: wsrep status: wsrep_local_state_comment is Donor/Desynced" in text


def test_only_apache_denials_count_as_locked() -> None:
    assert denied("/servlet/axis2/services;x", 403)
    assert denied("/servlet/axis2%2Fservices", 404), "Apache refuses encoded slashes itself"
    assert not denied("/servlet/axis2/services;x", 404), "a 404 from the node: it was reached"
    assert not denied("/servlet/axis2/services", 200)


def test_the_fault_journal_knows_what_is_still_unhealed(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path / "journal.jsonl")
    host = Host("galera1", "galera", "10.0.0.1", backend=None)  # type: ignore[arg-type]
    first = journal.injected(host, "kill-service", "systemctl start mariadb")
    second = journal.injected(host, "partition", "iptables -D INPUT ...")
    journal.healed(first)
    assert journal.pending() == [second], "an injected fault without its healed line"
    with journal.path.open("a") as f:
        f.write("not json\n")
    with pytest.raises(LabError, match=r"journal.jsonl:4: not a fault journal line"):
        journal.pending()


def test_a_journaled_fault_of_a_host_the_inventory_lacks_is_reported_not_touched(
    tmp_path: Path,
) -> None:
    journal = FaultJournal(tmp_path / "journal.jsonl")
    old = Host("galera1", "galera", "10.0.0.1", backend=None)  # type: ignore[arg-type]
    journal.injected(old, "partition", "iptables -D INPUT -s 10.0.0.2 -j DROP")
    moved = Host("galera1", "galera", "10.9.9.9", backend=None)  # type: ignore[arg-type]
    lines = heal_pending([moved], journal)
    assert lines == [
        "not healed: partition on galera1 (10.0.0.1), a host this inventory does not have; "
        "heal it by hand: iptables -D INPUT -s 10.0.0.2 -j DROP"
    ]
    assert len(journal.pending()) == 1, "still pending for the run that has that host"


@pytest.mark.parametrize(
    "error",
    [
        pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"),
        requests.ConnectionError("connection refused"),
        LabError("galera2: ssh: connect to host 10.0.0.2 port 22: Connection refused"),
    ],
)
def test_a_service_that_does_not_answer_is_a_failed_check_not_an_aborted_run(
    error: Exception,
) -> None:
    """While a killed node rejoins, HAProxy may accept a connection and close it (2013);
    verify (which chaos on hosts polls until the cluster is healthy) must report that
    check as failed, with the reason, and go on with the others."""

    def probe() -> Result:
        raise error

    result = guarded("dblb", "dblb01", "writes :3306", probe)
    assert not result.ok
    assert result.line().startswith("FAIL dblb: dblb01: writes :3306: "), result.line()
    assert str(error) in result.evidence, result.evidence


def test_a_database_only_lab_is_verified_on_the_sections_it_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`lab test` on topology galera: the database and HAProxy sections run, the guide's
    front-end sections are named as not checked (not failed, not silently dropped)."""
    import lab.verify.run as run

    ran: list[str] = []

    def check(section: str):  # type: ignore[no-untyped-def]
        def fake(target: Target) -> list[Result]:
            ran.append(section)
            return [Result(section, "h", "c", True, "ok")]

        return fake

    monkeypatch.setattr(run, "SECTIONS", tuple((s, lay, check(s)) for s, lay, _ in run.SECTIONS))
    monkeypatch.setattr(Target, "preflight", lambda self: None)

    def host(name: str, role: str) -> Host:
        return Host(name, role, "10.0.0.1", backend=None)  # type: ignore[arg-type]

    hosts = [host("galera1", "galera"), host("dblb", "dblb")]
    target = Target("lab x", "galera", hosts, Credentials("u", "p", "l", "p"))
    verification = run.verify(target)
    assert sorted(set(ran)) == ["consistency", "dblb", "galera"], ran
    assert verification.not_checked == [
        "filestore (no filestore, groupware hosts)",
        "groupware (no web, groupware hosts)",
        "web (no web, groupware hosts)",
    ]
    text = render(verification)
    assert text.endswith(
        "not checked: filestore (no filestore, groupware hosts); groupware (no web, "
        "groupware hosts); web (no web, groupware hosts)"
    ), text
    hosts.append(host("web01", "web"))
    assert run.verify(target).not_checked[-1] == "web (no groupware hosts)", (
        "a section runs only when every role it reads has hosts"
    )
