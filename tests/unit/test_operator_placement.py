"""Where each of the operator's files lands, whole: the lab's reference project (`lab
init`) with an operator's usual changes, and every placement, note and command compared
in full. A file put at the wrong path, under the wrong role, or with another's bytes is
a lab that tests something else than the operator's configuration, silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.infra.errors import ConfigError
from lab.infra.nodes import Placement
from lab.operator.placement import (
    CLUSTERCHECK_SETTINGS,
    LAB_STATS,
    LAB_STATS_CFG,
    REPLCHECK_SETTINGS,
    database_files,
    groupware_files,
    haproxy_names,
    haproxy_setup,
    operator_notes,
    pair_members,
    web_files,
)
from lab.operator.project import load_project
from lab.plan.resolved import Plan
from lab.plan.topology import LabRequest
from lab.roles.dblb.front import NAMES_FILE
from lab.roles.web.front_end import CERT_FILE
from tests.unit.test_operator_lint import starter

CONF_D = "/etc/mysql/ox.conf.d"


def project(tmp_path: Path, topology: str = "guide-galera", **changes: str) -> Plan:
    """The reference project with files written (path relative to it -> text) and
    oxlab.toml keys set in their table ("[db]": 'cnf = [...]' replaces [db]'s cnf)."""
    toml = starter(tmp_path, topology)
    lines = toml.read_text().splitlines()
    for name, content in changes.items():
        if not name.startswith("["):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(content)
            continue
        at = next((i for i, line in enumerate(lines) if line.split("#")[0].strip() == name), None)
        if at is None:
            lines += ["", name]
            at = len(lines) - 1
        keys = {line.split("=")[0].strip() for line in content.splitlines()}
        end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        kept = [line for line in lines[at + 1 : end] if line.split("=")[0].strip() not in keys]
        lines[at + 1 : end] = content.splitlines() + kept
    toml.write_text("\n".join(lines) + "\n")
    return LabRequest.of(load_project(toml)).plan()


def test_the_database_files_land_where_mysqld_and_clustercheck_read_them(
    tmp_path: Path,
) -> None:
    plan = project(
        tmp_path,
        **{
            "[db]": 'cnf = ["db/wsrep.cnf", "db/tuning"]',
            "db/tuning": "[mysqld]\nmax_connections = 500\n",
        },
    )

    def at(name: str) -> tuple[bytes, str]:
        return (tmp_path / name).read_bytes(), str(tmp_path / name)

    assert database_files(plan) == (
        Placement(f"{CONF_D}/ox.cnf", *at("db/ox.cnf")),
        Placement(f"{CONF_D}/zz-operator-01-wsrep.cnf", *at("db/wsrep.cnf")),
        Placement(f"{CONF_D}/zz-operator-02-tuning.cnf", *at("db/tuning")),
        Placement(CLUSTERCHECK_SETTINGS, *at("clustercheck/clustercheck")),
    )


def test_replcheck_s_settings_land_where_it_reads_them(tmp_path: Path) -> None:
    plan = project(
        tmp_path, "gtid", **{"[replcheck]": 'settings = "rc"', "rc": "REPLCHECK_MAX_LAG=5\n"}
    )
    assert database_files(plan)[-1] == Placement(
        REPLCHECK_SETTINGS, b"REPLCHECK_MAX_LAG=5\n", str(tmp_path / "rc")
    )


def test_configdb_properties_land_in_ox_s_etc(tmp_path: Path) -> None:
    plan = project(tmp_path)
    source = tmp_path / "groupware/configdb.properties"
    assert groupware_files(plan) == (
        Placement("/opt/open-xchange/etc/configdb.properties", source.read_bytes(), str(source)),
    )


def test_without_an_operator_haproxy_cfg_the_lab_s_own_runs(tmp_path: Path) -> None:
    toml = starter(tmp_path, "galera")
    toml.write_text(toml.read_text().replace('haproxy_cfg = "dblb/haproxy.cfg"\n', ""))
    setup = haproxy_setup(LabRequest.of(load_project(toml)).plan(), "the lab's own")
    assert (setup.config, setup.extra, setup.command) == ("the lab's own", (), None)


CFG = (
    "defaults\n  mode tcp\n  timeout connect 5s\n"
    "listen writes\n  bind :3306\n  server g1 db1.example.net:3306 check\n"
    "  server g2 galera2 check\n  server g3\n"
    "listen reads\n  bind :3307\n  server r1 galera1:3306 check\n"
)


def test_the_operator_s_haproxy_cfg_runs_byte_for_byte_with_the_lab_s_stats(
    tmp_path: Path,
) -> None:
    plan = project(
        tmp_path, "galera", **{"dblb/haproxy.cfg": CFG, "[hosts]": '"db1.example.net" = "galera1"'}
    )
    setup = haproxy_setup(plan, "unused")
    assert setup.config == CFG
    assert setup.extra[1] == Placement(LAB_STATS_CFG, LAB_STATS.encode(), "lab")
    assert setup.command == (
        "haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg", "-f", LAB_STATS_CFG,
    )  # fmt: skip
    names = setup.extra[0]
    assert (names.target, names.source) == (NAMES_FILE, "lab")
    assert json.loads(names.data) == {
        "listeners": {"writes": "db-write", "reads": "db-read"},
        "servers": {"g1": "galera1", "g2": "galera2", "r1": "galera1"},
    }, "by [hosts] or by the node's own name; a server without an address (g3) stays out"
    [note] = [n for n in operator_notes(plan) if "haproxy.cfg" in n]
    assert note == (
        f"{tmp_path / 'dblb/haproxy.cfg'}: used as it is; the lab adds its stats listener "
        f"on :8404 in {LAB_STATS_CFG}"
    )


def test_an_operator_stats_listener_keeps_the_image_s_command(tmp_path: Path) -> None:
    cfg = CFG + "listen stats\n  mode http\n  bind :8404\n  stats enable\n"
    plan = project(
        tmp_path, "galera", **{"dblb/haproxy.cfg": cfg, "[hosts]": '"db1.example.net" = "galera1"'}
    )
    setup = haproxy_setup(plan, "unused")
    assert setup.config == cfg, "theirs, byte for byte"
    assert setup.command is None and [p.target for p in setup.extra] == [NAMES_FILE]
    assert not [n for n in operator_notes(plan) if "haproxy.cfg" in n]


def test_server_addresses_with_a_port_or_ipv6_map_to_their_node(tmp_path: Path) -> None:
    plan = project(tmp_path, "galera", **{"[hosts]": '"db1" = "galera1"\n"fd00::3" = "galera3"'})
    cfg = "listen w\n  bind :3306\n  server a db1:3306\n  server c fd00::3:3306\n  server d db1\n"
    assert haproxy_names(plan, cfg)["servers"] == {"a": "galera1", "c": "galera3", "d": "galera1"}


def test_the_operator_s_cluster_wide_settings_are_each_said(tmp_path: Path) -> None:
    cnf = "[mysqld]\nwsrep_cluster_name = prod\nmax_connections = 10\n"
    plan = project(tmp_path, **{"[db]": 'cnf = ["db/wsrep.cnf", "db/t.cnf"]', "db/t.cnf": cnf})
    notes = [n for n in operator_notes(plan) if "t.cnf" in n]
    assert notes == [f"{tmp_path / 'db/t.cnf'}:2: your wsrep_cluster_name replaces the lab's: prod"]


def test_a_site_naming_another_certificate_path_is_said_and_served(tmp_path: Path) -> None:
    project(tmp_path)  # the reference files, then the operator's change to the site
    text = (tmp_path / "web/oxlab.conf").read_text()
    moved = text.replace("/etc/apache2/ssl/web.pem", "/etc/ssl/ox.pem").replace(
        "/etc/apache2/ssl/web.key", "/etc/ssl/ox.key"
    )
    (tmp_path / "web/oxlab.conf").write_text(moved)
    plan = LabRequest.of(load_project(tmp_path / "oxlab.toml")).plan()
    lines = {i + 1: line for i, line in enumerate(moved.splitlines())}
    cert = next(n for n, line in lines.items() if "SSLCertificateFile" in line)
    site_path = tmp_path / "web/oxlab.conf"
    assert [n for n in operator_notes(plan) if "certificate" in n] == [
        f"{site_path}:{cert}: the lab puts its run's certificate at /etc/ssl/ox.pem",
        f"{site_path}:{cert + 1}: the lab puts its run's certificate at /etc/ssl/ox.key",
    ]
    files = web_files(plan)
    assert files.site == moved.encode()
    assert files.proxy_ajp_conf == (tmp_path / "web/proxy_ajp.conf").read_bytes()
    assert (files.cert_paths, files.key_paths) == (("/etc/ssl/ox.pem",), ("/etc/ssl/ox.key",))
    assert files.proxy_ajp_paths == ("/etc/apache2/oxlab/proxy_ajp.conf",)


def test_the_reference_site_s_certificate_paths_need_no_note(tmp_path: Path) -> None:
    plan = project(tmp_path)
    assert CERT_FILE in (tmp_path / "web/oxlab.conf").read_text()
    assert not [n for n in operator_notes(plan) if "certificate" in n]


def test_only_an_include_of_proxy_ajp_conf_is_where_the_lab_puts_it(tmp_path: Path) -> None:
    plan = project(tmp_path)
    site = (
        (tmp_path / "web/oxlab.conf")
        .read_text()
        .replace(
            "    Include /etc/apache2/oxlab/proxy_ajp.conf\n",
            "    Include /etc/apache2/other.conf\n    IncludeOptional /srv/ox/proxy_ajp.conf\n",
        )
    )
    (tmp_path / "web/oxlab.conf").write_text(site)
    files = web_files(LabRequest.of(load_project(tmp_path / "oxlab.toml")).plan())
    assert files.proxy_ajp_paths == ("/srv/ox/proxy_ajp.conf",)
    assert plan  # the reference plan was valid before the change


@pytest.mark.parametrize("files", [0, 1, 2])
def test_keepalived_members_get_the_lab_s_or_the_operator_s_file(
    tmp_path: Path, files: int
) -> None:
    """None: the lab renders OX's Keepalived page; one file: both members run it; one per
    member: each its own, in order (adapted to the lab's address and interface)."""
    toml = starter(tmp_path, "galera")
    names = [f"k{i}.conf" for i in range(files)]
    for i, name in enumerate(names):
        (tmp_path / name).write_text(
            f"vrrp_instance VI_1 {{\n  state {'MASTER' if i == 0 else 'BACKUP'}\n"
            f"  interface eth9\n  virtual_router_id 51\n  priority {150 - i}\n"
            "  virtual_ipaddress {\n    10.9.9.9/24\n  }\n}\n"
        )
    listed = ", ".join(f'"{n}"' for n in names)
    text = toml.read_text().replace(
        "[dblb]\n", f"[dblb]\nkeepalived_conf = [{listed}]\n" if files else "[dblb]\n"
    )
    text = text.replace('profile = "fast"', 'profile = "fast"\ndblb = "keepalived"')
    toml.write_text(text)
    plan = LabRequest.of(load_project(toml)).plan()
    members = pair_members(plan, "172.30.0.100", 24)
    assert [m.node for m in members] == ["dblb1", "dblb2"]
    if files == 0:
        assert all("172.30.0.100/24" in m.keepalived_conf for m in members)
        assert ["priority 101" in m.keepalived_conf for m in members] == [True, False]
    else:
        priorities = [150, 150] if files == 1 else [150, 149]
        for member, priority in zip(members, priorities, strict=True):
            assert f"priority {priority}" in member.keepalived_conf, member.keepalived_conf
            assert "172.30.0.100/24" in member.keepalived_conf, "moved to the lab's address"


def test_only_the_file_of_its_key_is_read_for_each_place(tmp_path: Path) -> None:
    """A keepalived.conf is not a haproxy.cfg, a site is not proxy_ajp.conf, and a
    certificate line in proxy_ajp.conf is not the site's."""
    toml = starter(tmp_path, "guide-galera")
    text = toml.read_text().replace('haproxy_cfg = "dblb/haproxy.cfg"\n', "")
    text = text.replace('proxy_ajp_conf = "web/proxy_ajp.conf"\n', "")
    text = text.replace('profile = "fast"', 'profile = "fast"\ndblb = "keepalived"')
    text = text.replace("[dblb]\n", '[dblb]\nkeepalived_conf = ["k.conf"]\n')
    (tmp_path / "k.conf").write_text("vrrp_instance V {\n  virtual_router_id 51\n}\n")
    toml.write_text(text)
    plan = LabRequest.of(load_project(toml)).plan()
    assert haproxy_setup(plan, "the lab's own").config == "the lab's own"
    assert not [n for n in operator_notes(plan) if "used as it is" in n], "no haproxy.cfg note"
    assert web_files(plan).proxy_ajp_conf is None
    assert web_files(plan).site == (tmp_path / "web/oxlab.conf").read_bytes()


def test_a_certificate_line_outside_the_site_is_no_note(tmp_path: Path) -> None:
    project(tmp_path)
    conf = tmp_path / "web/proxy_ajp.conf"
    conf.write_text(conf.read_text() + "SSLCertificateFile /etc/ssl/other.pem\n")
    plan = LabRequest.of(load_project(tmp_path / "oxlab.toml")).plan()
    assert not [n for n in operator_notes(plan) if "certificate" in n]


def test_a_topology_without_a_web_role_has_no_web_files(tmp_path: Path) -> None:
    files = web_files(project(tmp_path, "galera"))
    assert (files.site, files.proxy_ajp_conf, files.cert_paths) == (None, None, ())


def test_an_override_that_stops_the_lab_names_every_finding(tmp_path: Path) -> None:
    cnf = "[mysqld]\nwsrep_on = OFF\nserver_id = 7\n"
    plan = project(tmp_path, **{"[db]": 'cnf = ["db/wsrep.cnf", "db/t.cnf"]', "db/t.cnf": cnf})
    with pytest.raises(ConfigError) as raised:
        operator_notes(plan)
    from lab.operator.lint import blocking_findings

    found = blocking_findings(plan)
    assert len(found) >= 2, found
    assert str(raised.value) == "; ".join(f.render() for f in found), "one line, every one"
