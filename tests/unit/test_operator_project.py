"""oxlab.toml and the plan: bad input is one line naming the file and line, before
Docker is touched; the operator's files land where the roles read them; an override
that would keep the cluster from forming stops the lab, one that does not is said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.cli import main
from lab.infra.errors import ConfigError
from lab.operator import parsers
from lab.operator.init import init_project
from lab.operator.placement import (
    LAB_STATS_CFG,
    database_files,
    haproxy_setup,
    operator_notes,
    seed_blockers,
    web_files,
)
from lab.operator.project import load_project
from lab.oxnode.config import ConfigDb, PoolSettings, parse_properties
from lab.plan.topology import LabRequest
from lab.roles.dblb.front import NAMES_FILE
from lab.roles.filestore.nfs import render_ganesha_conf, rules_from_exports


def write(tmp_path: Path, toml: str, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "oxlab.toml").write_text(toml)
    return tmp_path / "oxlab.toml"


@pytest.mark.parametrize(
    ("toml", "line", "says"),
    [
        ('[lab]\ntopology = "galera"\nflavours = [\n', 3, "not valid TOML"),
        ('[lab]\ntopology = "galera"\n\n[dbbl]\nhaproxy_cfg = "x"\n', 4, "unknown table [dbbl]"),
        ('[lab]\ntopology = "galera"\nprofil = "ox"\n', 3, "unknown key 'profil' in [lab]"),
        ('[dblb]\nhaproxy_cfg = "missing.cfg"\n', 2, "cannot read missing.cfg"),
        ('[lab]\nflavours = "mariadb-10.11"\n', 2, "flavours must be a list"),
        ('[db]\ncnf = "tuning.cnf"\n', 2, "must be a list of file paths"),
        ('[web]\nproxy_ajp = "x.conf"\n', 2, "unknown key 'proxy_ajp' in [web]"),
    ],
)
def test_a_malformed_project_file_is_one_line_with_file_and_line(
    tmp_path: Path, toml: str, line: int, says: str
) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as error:
        load_project(path)
    message = str(error.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert says in message and "\n" not in message


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[lab]\ntopology = "galera"\n[web]\nsite = "s.conf"\n', "has no web role"),
        ('[lab]\ntopology = "galera"\n[hosts]\n"db9.example.net" = "galera9"\n', "galera9"),
        ('[lab]\nflavours = ["mariadb-10.99"]\n', "unknown flavour 'mariadb-10.99'"),
        ('[lab]\ntopology = "gtid"\n[clustercheck]\nsettings = "s.conf"\n', "no clustercheck"),
    ],
)
def test_a_project_the_topology_cannot_honour_stops_before_docker(
    tmp_path: Path, toml: str, says: str
) -> None:
    path = write(tmp_path, toml, **{"s.conf": "x\n"})
    with pytest.raises(ConfigError, match=says):
        LabRequest.of(load_project(path)).plan()


def test_the_cli_says_one_line_and_exits_1_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[lab]\ntopology = "galera"\n[dblb]\nhaproxy_cfg = "nope.cfg"\n')
    for command in (["lint"], ["up"], ["chaos", "run", "writer-kill"]):
        assert main([*command, "--config", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{path}:4" in err and "Traceback" not in err, err


def test_flags_win_over_the_project_file_which_wins_over_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[lab]\ntopology = "gtid"\nflavours = ["mariadb-11.8"]\nprofile = "ox"\n'
    )
    project = load_project(path)
    assert LabRequest.of(project).plan().describe().startswith("gtid on mariadb-11.8")
    assert LabRequest.of(project, profile="fast").plan().profile.name == "fast"
    assert LabRequest.of(project).join == "seeded", "the seeded state is the default"
    joined = write(tmp_path, '[lab]\njoin = "sst"\n')
    assert LabRequest.of(load_project(joined)).join == "sst", "oxlab.toml chooses the guide's path"
    assert LabRequest.of(load_project(joined), join="seeded").join == "seeded", "a flag wins"
    assert "join mode" in LabRequest(join="serial").problems()[0], "an unknown mode is named"


def test_operator_cnf_files_sort_after_the_labs_own(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[db]\ncnf = ["tuning.cnf", "more"]\n[clustercheck]\nsettings = "cc"\n',
        **{"tuning.cnf": "[mysqld]\nmax_connections = 500\n", "more": "[mysqld]\n", "cc": "A=1\n"},
    )
    placed = {p.target: p for p in database_files(LabRequest.of(load_project(path)).plan())}
    targets = sorted(t for t in placed if t.startswith("/etc/mysql/ox.conf.d/"))
    assert targets == [
        "/etc/mysql/ox.conf.d/zz-operator-01-tuning.cnf",
        "/etc/mysql/ox.conf.d/zz-operator-02-more.cnf",
    ], "after wsrep.cnf/host.cnf/ox.cnf in !includedir's name order, and named *.cnf"
    assert all(t > "/etc/mysql/ox.conf.d/wsrep.cnf" for t in targets)
    assert placed["/etc/sysconfig/clustercheck"].data == b"A=1\n"


@pytest.mark.parametrize(
    ("cnf", "stops"),
    [
        ("wsrep_node_name = galera1", "same on every database node"),
        ("server_id = 7", "same on every database node"),
        ("wsrep_cluster_address = gcomm://db1,db2,db3", "not lab nodes"),
        ("wsrep_on = OFF", "cannot form"),
    ],
)
def test_an_override_that_breaks_the_cluster_stops_with_the_line(
    tmp_path: Path, cnf: str, stops: str
) -> None:
    path = write(tmp_path, '[database]\ncnf = ["t.cnf"]\n', **{"t.cnf": f"[mysqld]\n{cnf}\n"})
    with pytest.raises(ConfigError, match=stops) as error:
        operator_notes(LabRequest.of(load_project(path)).plan())
    assert f"{tmp_path / 't.cnf'}:2" in str(error.value)


@pytest.mark.parametrize(
    ("cnf", "blocks"),
    [
        ("innodb_page_size = 4k", "innodb_page_size is fixed when a datadir is made"),
        ("lower_case_table_names = 1", "lower_case_table_names is fixed"),
        ('wsrep_provider_options = "gcache.size=1G; pc.recovery = FALSE"', "pc.recovery is off"),
    ],
)
def test_settings_the_seeded_state_cannot_serve_take_the_guides_path(
    tmp_path: Path, cnf: str, blocks: str
) -> None:
    path = write(tmp_path, '[db]\ncnf = ["t.cnf"]\n', **{"t.cnf": f"[mysqld]\n{cnf}\n"})
    [blocker] = seed_blockers(LabRequest.of(load_project(path)).plan())
    assert blocks in blocker and f"{tmp_path / 't.cnf'}:2" in blocker


def test_ordinary_tuning_keeps_the_seeded_state(tmp_path: Path) -> None:
    tuning = "[mysqld]\nmax_connections = 500\ninnodb_log_file_size = 512M\n"
    tuning += 'wsrep_provider_options = "gcache.size=1G; pc.recovery=TRUE"\n'
    path = write(tmp_path, '[db]\ncnf = ["t.cnf"]\n', **{"t.cnf": tuning})
    assert seed_blockers(LabRequest.of(load_project(path)).plan()) == []


def test_other_database_credentials_stop_with_the_line(tmp_path: Path) -> None:
    props = "readUrl=jdbc:mysql://dblb:3307/configdb\nreadProperty.1=user=ox\n"
    path = write(
        tmp_path,
        '[lab]\ntopology = "guide-galera"\n[groupware]\nconfigdb_properties = "c.properties"\n',
        **{"c.properties": props},
    )
    with pytest.raises(ConfigError, match=r"c.properties:2: readProperty.1 user differs"):
        operator_notes(LabRequest.of(load_project(path)).plan())


def test_an_override_the_cluster_survives_is_said_in_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[db]\ncnf = ["t.cnf"]\n[hosts]\n"db1" = "galera1"\n"db2" = "galera2"\n"db3" = "galera3"\n',
        **{"t.cnf": "[mysqld]\nwsrep_cluster_address = gcomm://db1,db2,db3\n"},
    )
    [note] = operator_notes(LabRequest.of(load_project(path)).plan())
    assert "your wsrep_cluster_address is used" in note and "t.cnf:2" in note


def test_an_operator_haproxy_cfg_runs_as_written_with_the_labs_stats_beside_it(
    tmp_path: Path,
) -> None:
    cfg = "defaults\n  mode tcp\nlisten w\n  bind :3306\n  server a galera1:3306 check\n"
    path = write(tmp_path, '[dblb]\nhaproxy_cfg = "h.cfg"\n', **{"h.cfg": cfg})
    plan = LabRequest.of(load_project(path)).plan()
    setup = haproxy_setup(plan, "the lab's own")
    assert setup.config == cfg, "used as it is, byte for byte"
    assert setup.command and setup.command[-1] == LAB_STATS_CFG
    assert [p.target for p in setup.extra] == [NAMES_FILE, LAB_STATS_CFG]
    names = json.loads(setup.extra[0].data)
    assert names == {"listeners": {"w": "db-write"}, "servers": {"a": "galera1"}}, (
        "the operator's names map to the lab's, so HAProxy's stats read the same"
    )
    unknown = write(
        tmp_path, '[dblb]\nhaproxy_cfg = "h.cfg"\n', **{"h.cfg": cfg.replace("galera1", "db7")}
    )
    with pytest.raises(ConfigError, match=r"h.cfg:5: server a at db7 is not a lab node"):
        operator_notes(LabRequest.of(load_project(unknown)).plan())


def test_the_operators_site_gets_the_runs_certificate_where_it_looks(tmp_path: Path) -> None:
    site = (
        "<VirtualHost *:443>\n  SSLCertificateFile /etc/ssl/ox.pem\n"
        "  SSLCertificateKeyFile /etc/ssl/ox.key\n"
        "  Include /etc/apache2/conf.d/proxy_ajp.conf\n</VirtualHost>\n"
    )
    path = write(
        tmp_path, '[lab]\ntopology = "guide-galera"\n[web]\nsite = "s.conf"\n', **{"s.conf": site}
    )
    files = web_files(LabRequest.of(load_project(path)).plan())
    assert files.cert_paths == ("/etc/ssl/ox.pem",) and files.key_paths == ("/etc/ssl/ox.key",)
    assert files.proxy_ajp_paths == ("/etc/apache2/conf.d/proxy_ajp.conf",)


def test_the_operators_exports_become_ganesha_clients_with_their_options() -> None:
    entries = parsers.exports(
        "/var/opt/filestore ox1(rw,sync,no_root_squash) 10.0.0.0/8(ro)\n"
        "/var/opt/filestore ox2(rw,all_squash,anonuid=1001,anongid=1001)\n"
    )
    ips = {"oxgw01": "172.20.0.5", "oxgw02": "172.20.0.6"}
    aliases = {"ox1": "oxgw01", "ox2": "oxgw02"}
    conf = render_ganesha_conf(
        [], rules_from_exports(entries, lambda h: ips.get(aliases.get(h, h), h))
    )
    assert "Clients = 172.20.0.5; Access_Type = RW; Squash = No_Root_Squash;" in conf
    assert "Clients = 10.0.0.0/8; Access_Type = RO; Squash = Root_Squash;" in conf
    assert "Squash = All_Squash; Anonymous_Uid = 1001; Anonymous_Gid = 1001;" in conf


def test_the_oxnode_pool_reads_oxs_jdbc_and_pool_settings() -> None:
    values = parse_properties(
        "readProperty.9=connectTimeout=2000\nreadProperty.10=socketTimeout=0\n"
        "maxIdleTime=1000\nmaxLifeTime=5000\nmaxActive=7\n"
    )
    pool = ConfigDb.from_properties(values).pool
    assert pool == PoolSettings(2000, 0, 1000, 5000, 7, 10000)
    assert ConfigDb.from_properties({}).pool == PoolSettings(), "OX's documented defaults"


def test_init_then_load_round_trips_every_reference_file(tmp_path: Path) -> None:
    init_project(tmp_path, LabRequest.of(topology="guide-galera").plan())
    project = load_project(tmp_path / "oxlab.toml")
    plan = LabRequest.of(project).plan()
    assert {f.role for f in project.files} == set(plan.topology.roles)
    assert operator_notes(plan) == [], "the reference files override nothing the lab needs"
    with pytest.raises(ConfigError, match="exists"):
        init_project(tmp_path, plan)
