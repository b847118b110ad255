"""Each lint rule at its boundary, on small synthetic files: equal to the limit and just
over it, the last of duplicated lines, several `defaults` sections, Apache keys in any
case, the operator's own write port. A rule that compares with `<` where `<=` is meant,
or reads the first of two lines where HAProxy reads the last, turns this red."""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path

import pytest

from lab.operator.init import init_project
from lab.operator.lint import WARNING, Finding, lint, size_bytes
from lab.operator.project import load_project
from lab.plan.topology import LabRequest

DEFAULTS = """defaults
    mode tcp
    timeout connect 1s
    timeout client 20m
    timeout server 20m
    timeout check 400ms
"""
WRITE = """listen ox-db-write
    bind :3306
    option httpchk GET /
    default-server port 9200 inter 500 rise 2 fall 2 on-marked-down shutdown-sessions
    server galera1 galera1:3306 check
    server galera2 galera2:3306 check backup
"""
READ = """listen ox-db-read
    bind :3307
    balance roundrobin
    option httpchk GET /
    default-server port 9200 inter 500 rise 2 fall 2
    server galera1 galera1:3306 check
    server galera2 galera2:3306 check
"""


def project_with(tmp_path: Path, topology: str = "guide-galera", toml: str = "", **files: str):
    """The lab's reference files (`lab init`), with `files` (relative path -> text)
    replacing some of them, and `toml` appended to oxlab.toml."""
    init_project(tmp_path, LabRequest.of(topology=topology).plan())
    for name, text in files.items():
        (tmp_path / name.replace("__", "/")).write_text(text)
    path = tmp_path / "oxlab.toml"
    for header, lines in re.findall(r"^(\[\w+\])\n((?:[^[].*\n)*)", toml, re.M):
        text = path.read_text()
        if f"\n{header}" in text:  # a table the starter has: its keys go under it
            path.write_text(text.replace(f"\n{header}", f"\n{header}\n{lines.rstrip()}", 1))
        else:
            path.write_text(f"{text}\n{header}\n{lines}")
    return load_project(path)


def found(tmp_path: Path, rule: str, topology: str = "guide-galera", toml: str = "", **files: str):
    project = project_with(tmp_path, topology, toml, **files)
    plan = LabRequest.of(project).plan()
    return [f for f in lint(project, plan.topology, (plan.flavour,)) if f.rule == rule]


def haproxy(defaults: str = DEFAULTS, write: str = WRITE, read: str = READ) -> str:
    return defaults + write + read


@functools.cache
def reference(name: str) -> str:
    """One of the lab's reference files (`lab init --topology guide-galera`)."""
    directory = Path(tempfile.mkdtemp(prefix="oxlab-lint-ref-"))
    init_project(directory, LabRequest.of(topology="guide-galera").plan())
    return (directory / name).read_text()


def edited(name: str, old: str, new: str) -> str:
    """A reference file with one change (which must apply)."""
    text = reference(name)
    assert old in text, f"{old!r} is not in the reference {name}"
    return text.replace(old, new)


def configdb(_: Path, old: str, new: str) -> str:
    return edited("groupware/configdb.properties", old, new)


def line_of(finding: Finding, text: str, needle: str, which: int = -1) -> None:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert finding.line == lines[which], f"{finding.render()} should point at {needle!r}"


# -- HAProxy ------------------------------------------------------------------------------


def test_the_synthetic_haproxy_cfg_is_clean(tmp_path: Path) -> None:
    project = project_with(tmp_path, **{"dblb__haproxy.cfg": haproxy()})
    plan = LabRequest.of(project).plan()
    bad = [
        f.render() for f in lint(project, plan.topology, (plan.flavour,)) if f.severity != "info"
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("timeout", "trips"),
    [("60000", False), ("60s", False), ("1m", False), ("59999", True), ("59s", True)],
)
def test_ha001_at_maxidletime_is_fine_just_under_trips(
    tmp_path: Path, timeout: str, trips: bool
) -> None:
    cfg = haproxy(DEFAULTS.replace("timeout client 20m", f"timeout client {timeout}"))
    hits = found(tmp_path, "HA001", **{"dblb__haproxy.cfg": cfg})
    assert bool(hits) == trips, f"timeout client {timeout} vs maxIdleTime 60000 ms: {hits}"


def test_ha001_the_last_of_duplicated_lines_wins(tmp_path: Path) -> None:
    good_last = WRITE.replace(
        "    bind :3306\n", "    bind :3306\n    timeout client 50s\n    timeout client 20m\n"
    )
    assert not found(tmp_path / "a", "HA001", **{"dblb__haproxy.cfg": haproxy(write=good_last)})
    bad_last = WRITE.replace(
        "    bind :3306\n", "    bind :3306\n    timeout client 20m\n    timeout client 50s\n"
    )
    cfg = haproxy(write=bad_last)
    [hit] = found(tmp_path / "b", "HA001", **{"dblb__haproxy.cfg": cfg})
    line_of(hit, cfg, "timeout client 50s")


def test_ha001_a_listener_takes_the_last_defaults_above_it(tmp_path: Path) -> None:
    short = DEFAULTS.replace("timeout client 20m", "timeout client 50s")
    assert not found(
        tmp_path / "a", "HA001", **{"dblb__haproxy.cfg": short + DEFAULTS + WRITE + READ}
    ), "the second defaults section is the one in force"
    assert not found(
        tmp_path / "b", "HA001", **{"dblb__haproxy.cfg": DEFAULTS + WRITE + READ + short}
    ), "a defaults section below the listeners does not apply to them"
    cfg = DEFAULTS + short + WRITE + READ
    [hit] = found(tmp_path / "c", "HA001", **{"dblb__haproxy.cfg": cfg})
    line_of(hit, cfg, "timeout client 50s")


def test_ha001_uses_the_operators_maxidletime(tmp_path: Path) -> None:
    props = configdb(tmp_path, "maxIdleTime=60000", "maxIdleTime=1200001")
    hits = found(tmp_path, "HA001", **{"groupware__configdb.properties": props})
    assert hits and "1200001" in hits[0].what, "20m = 1200000 ms is one ms short"
    props = configdb(tmp_path, "maxIdleTime=60000", "maxIdleTime=1200000")
    assert not found(tmp_path / "eq", "HA001", **{"groupware__configdb.properties": props})


@pytest.mark.parametrize(("actives", "trips"), [(1, False), (2, True)])
def test_ha002_one_active_writer_and_backups(tmp_path: Path, actives: int, trips: bool) -> None:
    servers = "".join(
        f"    server galera{i} galera{i}:3306 check{'' if i <= actives else ' backup'}\n"
        for i in (1, 2, 3)
    )
    write = WRITE.split("    server")[0] + servers
    hits = found(tmp_path, "HA002", **{"dblb__haproxy.cfg": haproxy(write=write)})
    assert bool(hits) == trips, f"{actives} active writer(s): {hits}"
    if trips:
        line_of(hits[0], haproxy(write=write), "server galera2 galera2:3306 check", 0)


def test_ha002_judges_the_listener_on_the_operators_write_port(tmp_path: Path) -> None:
    """configdb.properties' writeUrl says where OX writes: the listener on that port is
    the write listener, whatever listens on 3306."""
    props = configdb(tmp_path, "dblb:3306/configdb", "dblb:3310/configdb")
    two = WRITE.replace("ox-db-write", "ox-db-write2").replace("bind :3306", "bind :3310")
    two = two.replace("galera2:3306 check backup", "galera2:3306 check")
    cfg = haproxy(write=WRITE + two)
    [hit] = found(
        tmp_path, "HA002", **{"dblb__haproxy.cfg": cfg, "groupware__configdb.properties": props}
    )
    assert "ox-db-write2" in hit.what, hit.render()
    assert not found(tmp_path / "lab", "HA002", **{"dblb__haproxy.cfg": cfg}), (
        "with the guide's writeUrl (:3306) the :3310 listener is nobody's write listener"
    )


def test_ha003_a_check_in_defaults_counts_mysql_check_does_not(tmp_path: Path) -> None:
    inherited = DEFAULTS + "    option httpchk GET /\n"
    cfg = haproxy(
        inherited,
        WRITE.replace("    option httpchk GET /\n", ""),
        READ.replace("    option httpchk GET /\n", ""),
    )
    assert not found(tmp_path / "a", "HA003", **{"dblb__haproxy.cfg": cfg})
    tcp = haproxy(write=WRITE.replace("option httpchk GET /", "option mysql-check user haproxy"))
    [hit] = found(tmp_path / "b", "HA003", **{"dblb__haproxy.cfg": tcp})
    assert "write listener" in hit.what


def test_ha004_shutdown_sessions_from_the_defaults_default_server(tmp_path: Path) -> None:
    write = WRITE.replace(" on-marked-down shutdown-sessions", "")
    assert found(tmp_path / "a", "HA004", **{"dblb__haproxy.cfg": haproxy(write=write)})
    defaults = DEFAULTS + "    default-server on-marked-down shutdown-sessions\n"
    assert not found(tmp_path / "b", "HA004", **{"dblb__haproxy.cfg": haproxy(defaults, write)})


@pytest.mark.parametrize(
    ("timeouts", "check", "says"),
    [
        ("timeout connect 60s\n", "inter 6000 rise 3 fall 2", "18 s to up to 24 s"),
        (
            "timeout connect 2s\n    timeout check 2s\n",
            "inter 6000 rise 3 fall 2",
            "10 s to up to 16 s",
        ),
        ("timeout check 2s\n", "inter 6000 rise 3 fall 2", "18 s to up to 24 s"),
        (
            "timeout connect 1s\n    timeout check 400ms\n",
            "inter 500 rise 2 fall 2",
            "1.5 s to up to 2 s",
        ),
        (
            "timeout connect 300ms\n    timeout check 400ms\n",
            "inter 500 rise 2 fall 3",
            "1.9 s to up to 2.4 s",
        ),
    ],
)
def test_ha005_counts_timeout_check_or_its_absence(
    tmp_path: Path, timeouts: str, check: str, says: str
) -> None:
    defaults = (
        "defaults\n    mode tcp\n    timeout client 20m\n    timeout server 20m\n    " + timeouts
    )
    write = WRITE.replace("inter 500 rise 2 fall 2", check)
    hits = found(tmp_path, "HA005", **{"dblb__haproxy.cfg": haproxy(defaults, write)})
    [hit] = [h for h in hits if "write listener" in h.what]
    assert f"taken out after {says}" in hit.what, hit.what
    if "timeout check" not in timeouts:
        assert "19.8-23.6 s" in hit.what, "without timeout check: the worst case measured"


def test_ha006_servers_on_mapped_hosts_only(tmp_path: Path) -> None:
    cfg = haproxy(write=WRITE.replace("galera2 galera2:3306", "galera2 db2.example.net:3306"))
    [hit] = found(tmp_path / "a", "HA006", **{"dblb__haproxy.cfg": cfg})
    assert "db2.example.net" in hit.what
    line_of(hit, cfg, "db2.example.net")
    mapped = '[hosts]\n"DB2.example.net" = "galera2"\n'
    assert not found(tmp_path / "b", "HA006", toml=mapped, **{"dblb__haproxy.cfg": cfg}), (
        "host names compare in any case, as DNS does"
    )


@pytest.mark.parametrize(
    ("bind", "trips"), [(":3306", False), ("0.0.0.0:3306", False), (":3316", True)]
)
def test_ha007_a_listener_on_3306(tmp_path: Path, bind: str, trips: bool) -> None:
    cfg = haproxy(write=WRITE.replace("bind :3306", f"bind {bind}"))
    assert bool(found(tmp_path, "HA007", **{"dblb__haproxy.cfg": cfg})) == trips


@pytest.mark.parametrize(
    ("connect", "socket", "trips"),
    [
        ("15s", "15000", True),
        ("15000ms", "15000", True),
        ("14999", "15000", False),
        ("60s", "15000", True),
        ("60s", "0", False),
        ("60s", "60001", False),
    ],
)
def test_ha008_timeout_connect_at_or_above_socket_timeout(
    tmp_path: Path, connect: str, socket: str, trips: bool
) -> None:
    cfg = haproxy(DEFAULTS.replace("timeout connect 1s", f"timeout connect {connect}"))
    props = configdb(tmp_path, "socketTimeout=15000", f"socketTimeout={socket}")
    hits = found(
        tmp_path, "HA008", **{"dblb__haproxy.cfg": cfg, "groupware__configdb.properties": props}
    )
    assert bool(hits) == trips, f"timeout connect {connect}, socketTimeout {socket}: {hits}"
    if trips:
        assert len(hits) == 1, "one line, one finding, however many listeners inherit it"
        line_of(hits[0], cfg, "timeout connect")


# -- OX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("socket", "trips"), [("2000", False), ("1999", True), ("0", True)])
def test_ox002_socket_timeout_against_the_worst_mark_down(
    tmp_path: Path, socket: str, trips: bool
) -> None:
    """The fast profile's worst mark-down is 2 s (inter 500, fall 2, checks of 500 ms)."""
    props = configdb(tmp_path, "socketTimeout=15000", f"socketTimeout={socket}")
    hits = found(tmp_path, "OX002", **{"groupware__configdb.properties": props})
    assert bool(hits) == trips, f"socketTimeout {socket}: {hits}"


def test_ox002_names_the_line_in_a_file_whose_name_has_a_colon(tmp_path: Path) -> None:
    """A file name may hold ':' (configdb:prod.properties): the line number is what
    follows the last one."""
    props = configdb(tmp_path, "socketTimeout=15000", "socketTimeout=1999")
    init_project(tmp_path, LabRequest.of(topology="guide-galera").plan())
    (tmp_path / "groupware/configdb:prod.properties").write_text(props)
    toml = tmp_path / "oxlab.toml"
    toml.write_text(toml.read_text().replace("configdb.properties", "configdb:prod.properties"))
    project = load_project(toml)
    plan = LabRequest.of(project).plan()
    [hit] = [f for f in lint(project, plan.topology, (plan.flavour,)) if f.rule == "OX002"]
    assert hit.file.name == "configdb:prod.properties", hit.render()
    line_of(hit, props, "socketTimeout=1999", which=0)


def test_ox002_at_oxs_default_socket_timeout_points_at_the_files_first_line(
    tmp_path: Path,
) -> None:
    """No socketTimeout in configdb.properties: OX's 15 s applies, and against OX's own
    HAProxy settings without `timeout check` (inter 6000 fall 2: up to 24 s) it is short;
    no line sets it, so the finding names the file's first line."""
    props = re.sub(
        r"^.*socketTimeout=15000\n", "", reference("groupware/configdb.properties"), flags=re.M
    )
    cfg = reference("dblb/haproxy.cfg").replace("inter 500 ", "inter 6000 ")
    cfg = re.sub(r"^ *timeout check .*\n", "", cfg, flags=re.M)
    files = {"groupware__configdb.properties": props, "dblb__haproxy.cfg": cfg}
    [hit] = found(tmp_path, "OX002", **files)
    assert hit.line == 1, hit.render()
    assert hit.what == "socketTimeout 15000 ms is shorter than HAProxy's detection (24000 ms)"
    assert hit.severity == WARNING, "OX still recovers once HAProxy has moved the writer"
    assert (hit.why, hit.fix) == (
        "queries fail before HAProxy has moved the writer; OX reports errors instead of "
        "waiting out the failover",
        "raise socketTimeout above inter x fall, or check faster",
    )


@pytest.mark.parametrize(
    ("old", "new", "trips"),
    [
        ("writeProperty.5=autoReconnect=false", "writeProperty.5=autoReconnect=true", True),
        ("readProperty.5=autoReconnect=false", "readProperty.5=autoReconnect=TRUE", True),
        (
            "writeUrl=jdbc:mysql://dblb:3306/configdb",
            "writeUrl=jdbc:mysql://dblb:3306/configdb?useSSL=false&autoReconnect=true",
            True,
        ),
        ("maxWait=10000", "maxWait=10000\nautoReconnect=true", True),
        ("readProperty.5=autoReconnect=false", "readProperty.5=autoReconnect=False", False),
    ],
)
def test_ox004_auto_reconnect_in_every_form(
    tmp_path: Path, old: str, new: str, trips: bool
) -> None:
    props = configdb(tmp_path, old, new)
    hits = found(tmp_path, "OX004", **{"groupware__configdb.properties": props})
    assert bool(hits) == trips, f"{new}: {hits}"


def test_ox003_reads_a_password_with_an_equals_sign_whole(tmp_path: Path) -> None:
    """`readProperty.2=password=secret=` sets the password `secret=`: the value is what
    follows the property's name, '=' and all."""
    props = configdb(
        tmp_path, "readProperty.2=password=IntyoyntOat1", "readProperty.2=password=IntyoyntOat1="
    )
    [hit] = found(tmp_path, "OX003", **{"groupware__configdb.properties": props})
    assert "readProperty.2 password" in hit.what, hit.render()


def test_ox003_the_labs_credentials_only(tmp_path: Path) -> None:
    props = configdb(tmp_path, "readProperty.2=password=", "readProperty.2=password=x")
    [hit] = found(tmp_path, "OX003", **{"groupware__configdb.properties": props})
    assert "readProperty.2 password" in hit.what


# -- database -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        "server_id = 7",
        "wsrep_node_name = galera1",
        "wsrep-node-address = 10.0.0.1",
        "wsrep_sst_receive_address = galera1",
        "loose-server-id = 3",
    ],
)
def test_db006_every_node_local_setting(tmp_path: Path, setting: str) -> None:
    hits = found(tmp_path, "DB006", **{"db__ox.cnf": f"[mysqld]\n{setting}\n"})
    assert [h.line for h in hits] == [2], f"{setting}: {hits}"


def test_db006_only_in_sections_the_server_reads(tmp_path: Path) -> None:
    assert not found(tmp_path, "DB006", **{"db__ox.cnf": "[client]\nserver_id = 7\n"})


@pytest.mark.parametrize(
    ("value", "topology", "trips"),
    [
        ("OFF", "guide-galera", True),
        ("0", "galera", True),
        ("off", "galera", True),
        ("ON", "galera", False),
        ("OFF", "guide", False),
    ],
)
def test_db007_wsrep_off_on_galera(tmp_path: Path, value: str, topology: str, trips: bool) -> None:
    """In the last file mysqld reads (the lab's ox.cnf comes first, then [db] cnf): a
    value a later file overrides is not what the server runs with."""
    cnf = f"[mysqld]\nwsrep_on = {value}\n"
    hits = found(tmp_path, "DB007", topology, **{"db__wsrep.cnf": cnf})
    assert bool(hits) == trips


@pytest.mark.parametrize(
    ("address", "trips"),
    [
        ("gcomm://galera1,galera2,galera3", False),
        ("gcomm://galera1:4567,galera2:4567,galera3", False),
        ("gcomm://db1,galera2,galera3?pc.wait_prim=no", True),
        ("gcomm://", False),
    ],
)
def test_db008_cluster_address_hosts(tmp_path: Path, address: str, trips: bool) -> None:
    cnf = f"[mysqld]\nwsrep_cluster_address = {address}\n"
    hits = found(tmp_path, "DB008", **{"db__wsrep.cnf": cnf})
    assert bool(hits) == trips, f"{address}: {hits}"


@pytest.mark.parametrize(
    ("gcache", "redo", "lint_table", "trips"),
    [
        ("96M", "96M", "", False),  # equal to 1 x the redo log
        ("100663295", "96M", "", True),  # one byte short
        ("32M", "16M", "", False),
        ("32M", "16M", "gcache_redo_multiple = 2\n", False),
        ("32M", "16M", "gcache_redo_multiple = 2.5\n", True),
        ("30M", "16M", "", False),  # 60 s x 0.5 MB/s = 30 MB exactly
        ("31457279", "16M", "", True),  # one byte short of the IST need
        ("32M", "16M", "ist_outage_s = 600\n", True),
    ],
)
def test_db009_gcache_at_its_limits(
    tmp_path: Path, gcache: str, redo: str, lint_table: str, trips: bool
) -> None:
    files = {
        "db__ox.cnf": edited(
            "db/ox.cnf", "innodb_log_file_size = 16M", f"innodb_log_file_size = {redo}"
        ),
        "db__wsrep.cnf": edited("db/wsrep.cnf", "gcache.size=32M", f"gcache.size={gcache}"),
    }
    toml = f"[lint]\n{lint_table}" if lint_table else ""
    hits = found(tmp_path, "DB009", toml=toml, **files)
    assert bool(hits) == trips, f"gcache {gcache}, redo {redo}, {lint_table!r}: {hits}"
    if trips:
        line_of(hits[0], files["db__wsrep.cnf"], "wsrep_provider_options")


def _wsrep_options(options: str) -> str:
    """The reference wsrep.cnf with its wsrep_provider_options line replaced."""
    text = reference("db/wsrep.cnf")
    return re.sub(
        r"^wsrep_provider_options = .*$", f'wsrep_provider_options = "{options}"', text, flags=re.M
    )


@pytest.mark.parametrize(
    ("options", "lint_table", "trips"),
    [
        ("evs.suspect_timeout=PT3S; evs.inactive_timeout=PT5S", "", False),  # equal: enough
        ("evs.suspect_timeout=PT2.99S; evs.inactive_timeout=PT5S", "", True),  # just under
        ("evs.suspect_timeout=PT1S; evs.inactive_timeout=PT3S", "", True),  # the old `fast`
        ("evs.suspect_timeout=pt1s", "", True),  # lower case: still 1 s
        ("gcache.size=32M", "", False),  # Galera's default: 5 s
        ("gcache.size=32M", "stall_budget_s = 5\n", False),  # the default, equal
        ("gcache.size=32M", "stall_budget_s = 6\n", True),  # the default, under
        ("evs.suspect_timeout=PT1S", "stall_budget_s = 1\n", False),  # their hosts' budget
        ("evs.suspect_timeout=PT1S; evs.suspect_timeout=PT3S", "", False),  # the last wins
        ("evs.suspect_timeout=PT3S; evs.suspect_timeout=PT1S", "", True),
        ("evs.suspect_timeout=PT1M", "", False),  # not seconds: Galera's start says so
    ],
)
def test_db010_suspect_timeout_against_the_stall_budget(
    tmp_path: Path, options: str, lint_table: str, trips: bool
) -> None:
    wsrep = _wsrep_options(options)
    toml = f"[lint]\n{lint_table}" if lint_table else ""
    hits = found(tmp_path, "DB010", toml=toml, **{"db__wsrep.cnf": wsrep})
    assert bool(hits) == trips, f"{options!r} {lint_table!r}: {hits}"
    if trips and "suspect_timeout" in options:
        line_of(hits[0], wsrep, "wsrep_provider_options")
    if trips and "suspect_timeout" not in options:
        assert "Galera default" in hits[0].what, hits[0].render()
        assert hits[0].line == 1, f"no line sets it: the file's first line, {hits[0].render()}"


def test_db010_the_last_provider_options_line_is_judged(tmp_path: Path) -> None:
    """mysqld reads the last wsrep_provider_options; lint names that line."""
    first = 'wsrep_provider_options = "evs.suspect_timeout=PT3S"'
    last = 'wsrep_provider_options = "evs.suspect_timeout=PT1S"'
    wsrep = _wsrep_options("gcache.size=32M") + f"{first}\n{last}\n"
    [hit] = found(tmp_path / "a", "DB010", **{"db__wsrep.cnf": wsrep})
    line_of(hit, wsrep, last)
    wsrep = _wsrep_options("gcache.size=32M") + f"{last}\n{first}\n"
    assert not found(tmp_path / "b", "DB010", **{"db__wsrep.cnf": wsrep})


def test_db010_only_on_galera(tmp_path: Path) -> None:
    cnf = '[mysqld]\nwsrep_provider_options = "evs.suspect_timeout=PT1S"\n'
    assert not found(tmp_path, "DB010", "guide", **{"db__ox.cnf": cnf})


def test_db009_defaults_are_galeras_and_mariadbs(tmp_path: Path) -> None:
    """No gcache.size: Galera's 128 MB; no innodb_log_file_size: MariaDB's 96 MB."""
    files = {
        "db__ox.cnf": edited("db/ox.cnf", "innodb_log_file_size = 16M", ""),
        "db__wsrep.cnf": edited("db/wsrep.cnf", "gcache.size=32M; ", ""),
    }
    assert not found(tmp_path / "a", "DB009", **files)
    files["db__ox.cnf"] = edited(
        "db/ox.cnf", "innodb_log_file_size = 16M", "innodb_log_file_size = 129M"
    )
    [hit] = found(tmp_path / "b", "DB009", **files)
    assert hit.what == (
        "gcache.size 128 MB (Galera default) is smaller than 1 x the redo log (129 MB)"
    ), hit.render()
    assert hit.severity == WARNING, "IST after an outage is a risk to weigh, not an error"
    assert (hit.file.name, hit.line) == ("ox.cnf", 1), (
        "no line sets it: the first database file's first line"
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512K", 512 << 10),
        ("32M", 32 << 20),
        ("1G", 1 << 30),
        ("1g", 1 << 30),
        ("1048576", 1 << 20),
        ("1.5M", 3 << 19),
        ("lots", None),
    ],
)
def test_sizes_are_read_as_the_server_reads_them(text: str, size: int | None) -> None:
    assert size_bytes(text) == size


# -- Apache -------------------------------------------------------------------------------


def proxy_ajp(_: Path, old: str, new: str) -> str:
    return edited("web/proxy_ajp.conf", old, new)


@pytest.mark.parametrize(
    ("old", "new", "trips"),
    [
        ("route=OX2", "Route=OX2", False),
        ("route=OX2", "ROUTE=OX2", False),
        ("route=OX2", "route=ox2", True),
        ("BalancerMember ajp://oxgw02", "balancermember ajp://oxgw02", False),
    ],
)
def test_ap001_keys_in_any_case_routes_as_written(
    tmp_path: Path, old: str, new: str, trips: bool
) -> None:
    conf = proxy_ajp(tmp_path, old, new)
    hits = found(tmp_path, "AP001", **{"web__proxy_ajp.conf": conf})
    assert bool(hits) == trips, f"{new}: {hits}"


@pytest.mark.parametrize(
    ("new", "trips"),
    [
        ("STICKYSESSION=JSESSIONID", False),
        ("stickysession=JSESSIONID|jsessionid", False),
        ("stickysession=ROUTEID", True),
    ],
)
def test_ap002_stickysession_in_any_case(tmp_path: Path, new: str, trips: bool) -> None:
    conf = proxy_ajp(tmp_path, "ProxySet stickysession=JSESSIONID", f"proxyset {new}")
    hits = found(tmp_path, "AP002", **{"web__proxy_ajp.conf": conf})
    assert bool(hits) == trips, f"{new}: {hits}"


def test_ap006_both_forms_of_proxypass_and_paths_as_written(tmp_path: Path) -> None:
    conf = proxy_ajp(
        tmp_path,
        "  <Location /ajax>\n      ProxyPass balancer://oxcluster/ajax\n  </Location>\n",
        "  ProxyPass /ajax balancer://oxcluster/ajax\n",
    )
    assert not found(tmp_path / "a", "AP006", **{"web__proxy_ajp.conf": conf})
    lower = proxy_ajp(tmp_path / "b", "<Location /servlet>", "<location /servlet>")
    assert not found(tmp_path / "b", "AP006", **{"web__proxy_ajp.conf": lower})
    wrong = proxy_ajp(tmp_path / "c", "<Location /infostore>", "<Location /Infostore>")
    [hit] = found(tmp_path / "c", "AP006", **{"web__proxy_ajp.conf": wrong})
    assert "/infostore" in hit.what, "URL paths are case-sensitive"


def test_ap007_balancer_member_hosts(tmp_path: Path) -> None:
    upper = proxy_ajp(tmp_path, "ajp://oxgw02:8009", "ajp://OXGW02:8009")
    assert not found(tmp_path / "a", "AP007", **{"web__proxy_ajp.conf": upper}), (
        "host names are case-insensitive"
    )
    other = proxy_ajp(tmp_path / "b", "ajp://oxgw02:8009", "ajp://ox2.example.net:8009")
    [hit] = found(tmp_path / "b", "AP007", **{"web__proxy_ajp.conf": other})
    line_of(hit, other, "ox2.example.net")
    mapped = '[hosts]\n"OX2.Example.NET" = "oxgw02"\n'
    assert not found(tmp_path / "c", "AP007", toml=mapped, **{"web__proxy_ajp.conf": other})


# -- NFS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "trips"),
    [
        ("rw,all_squash,anonuid=1001,anongid=1001", False),
        ("rw,all_squash,anonuid=1001,anongid=1002", True),
        ("rw,no_root_squash", False),
        ("ro", True),
    ],
)
def test_nf002_open_xchange_keeps_its_files(tmp_path: Path, options: str, trips: bool) -> None:
    exports = f"/var/opt/filestore oxgw01({options}) oxgw02(rw)\n"
    hits = found(tmp_path, "NF002", **{"filestore__exports": exports})
    assert bool(hits) == trips, f"{options}: {hits}"
