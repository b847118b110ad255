"""The rendered configuration is what an operator reads next to the guide: these tests pin
the guide's and OX's settings so a refactoring cannot silently drop one."""

import pytest

from lab.infra.errors import ConfigError
from lab.plan.failover import GALERA_EVS_DEFAULTS, PROFILES, get_profile, iso_seconds
from lab.plan.flavours import FLAVOURS, get_flavour
from lab.plan.topology import LabRequest
from lab.roles.db.galera_config import GaleraSettings, render_host_cnf, render_wsrep_cnf
from lab.roles.dblb.haproxy_config import READ_LISTENER, WRITE_LISTENER, render_haproxy_cfg

MEMBERS = ("galera1", "galera2", "galera3")


def settings(profile: str = "fast", **kw: object) -> GaleraSettings:
    return GaleraSettings(
        flavour=get_flavour("mariadb-10.11"), profile=get_profile(profile), members=MEMBERS, **kw
    )


def test_wsrep_cnf_has_the_guides_cluster_wide_settings() -> None:
    cnf = render_wsrep_cnf(settings())
    assert "wsrep_provider = /usr/lib/galera/libgalera_smm.so" in cnf
    assert "wsrep_cluster_address = gcomm://galera1,galera2,galera3" in cnf
    assert "wsrep_sst_method = rsync" in cnf, "rsync is the documented default SST method"
    assert "wsrep_sst_auth = sstuser:OpIdjijwef0" in cnf, "the guide's SST user"
    for required in (
        "binlog_format = ROW",
        "innodb_autoinc_lock_mode = 2",
        "default_storage_engine = InnoDB",
    ):
        assert required in cnf, f"Galera needs {required}"


def test_failover_profiles_differ_only_where_documented() -> None:
    fast, ox = render_wsrep_cnf(settings("fast")), render_wsrep_cnf(settings("ox"))
    assert "evs.suspect_timeout=PT3S" in fast and "evs.inactive_timeout=PT5S" in fast
    assert "evs." not in ox, "the ox profile keeps Galera's own evs defaults"


def test_provider_path_and_sst_method_can_be_overridden() -> None:
    cnf = render_wsrep_cnf(settings(sst_method="mariabackup", provider_path="/nope.so"))
    assert "wsrep_provider = /nope.so" in cnf and "wsrep_sst_method = mariabackup" in cnf


def test_host_cnf_is_node_local() -> None:
    cnf = render_host_cnf("galera2", 2)
    assert "wsrep_node_name = galera2" in cnf and "wsrep_node_address = galera2" in cnf
    assert "server_id = 2" in cnf and "gcomm" not in cnf


def _listener(cfg: str, name: str) -> str:
    return cfg.split(f"listen {name}\n", 1)[1].split("\n\n", 1)[0]


def test_haproxy_write_listener_has_exactly_one_active_server() -> None:
    write = _listener(render_haproxy_cfg(MEMBERS, get_profile("ox")), WRITE_LISTENER)
    servers = [line for line in write.splitlines() if line.strip().startswith("server ")]
    assert len(servers) == 3
    assert [s.endswith(" backup") for s in servers] == [False, True, True], (
        "active-passive: the first server writes, the others are backups"
    )
    assert "option httpchk GET /\n" in write, "backups stay checked and ready to take over"
    assert "shutdown-backup-sessions" in write, "writes must not continue on a backup"


def test_haproxy_read_listener_round_robins_over_all_nodes() -> None:
    read = _listener(render_haproxy_cfg(MEMBERS, get_profile("ox")), READ_LISTENER)
    assert "balance roundrobin" in read and "option httpchk GET /" in read
    assert sum(" backup" in line for line in read.splitlines()) == 0
    assert "inter 6000 rise 3 fall 3" in read, "OX's published check timing"


def test_haproxy_defaults_do_not_kill_db_connections() -> None:
    cfg = render_haproxy_cfg(MEMBERS, get_profile("ox"))
    for line in (
        "retries 3",
        "option redispatch",
        "timeout connect 60s",
        "timeout client 20m",
        "timeout server 20m",
    ):
        assert f"    {line}\n" in cfg, f"OX's HAProxy advice: {line}"
    fast = render_haproxy_cfg(MEMBERS, get_profile("fast"))
    assert "timeout connect 1s" in fast and "timeout check 400ms" in fast
    assert "listen stats" in fast, "stats page on its own port"


def test_write_fall_is_quicker_than_read_fall_in_ox_profile() -> None:
    ox = PROFILES["ox"]
    assert ox.write.detection_ms < ox.read.detection_ms


def test_unknown_names_are_config_errors_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown flavour .oracle-42.; known: mariadb-10\.11"):
        get_flavour("oracle-42")
    problems = LabRequest(topology="ring", flavour="x", profile="y", sst_method="z").problems()
    assert len(problems) == 4, f"every problem is reported at once, got {problems}"
    assert LabRequest().problems() == []
    assert set(FLAVOURS) >= {"mariadb-10.11"}


@pytest.mark.parametrize("name", ["fast", "ox"])
def test_the_profiles_galera_timeouts_keep_galeras_own_order(name: str) -> None:
    """Galera refuses install_timeout >= inactive_timeout ("out of range"); a peer that is
    heard from less often than suspect_timeout (keepalives, and join messages while a new
    view is agreed) is suspected although alive, and the majority can lose its Primary."""
    options = {
        "evs.keepalive_period": "PT1S",
        "evs.suspect_timeout": "PT5S",
        "evs.install_timeout": "PT7.5S",
        "evs.join_retrans_period": "PT1S",
        **GALERA_EVS_DEFAULTS,
        **dict(get_profile(name).evs_options),
    }
    s = {k.removeprefix("evs."): iso_seconds(v) for k, v in options.items()}
    assert s["keepalive_period"] < s["suspect_timeout"], "alive peers send keepalives in time"
    assert s["join_retrans_period"] < s["suspect_timeout"], "and join messages in a new round"
    assert s["suspect_timeout"] < s["inactive_timeout"]
    assert s["install_timeout"] < s["inactive_timeout"], "Galera 4 refuses anything else"
