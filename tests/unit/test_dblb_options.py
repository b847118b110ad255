"""The load balancer options in front of the databases, without Docker: keepalived.conf
as OX's Keepalived page configures it, the local HAProxies' one-writer rendering, the
checkers that judge the pair and the local instances, and the request's validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.chaos.checkers.confined import check_failures_confined
from lab.chaos.checkers.floating import (
    CHECKED_CLIENT,
    HOLDERS,
    UNCHECKED_CLIENT,
    check_one_holder,
    check_unchecked_rotation,
)
from lab.chaos.checkers.writers import WRITE_SERVERS, check_one_writer
from lab.chaos.clients.connect_loop import record_attempts
from lab.chaos.history import Fault, History, Op
from lab.chaos.scenarios.registry import SCENARIOS
from lab.plan.failover import PROFILES, get_profile
from lab.plan.topology import DBLB_MODES, LabRequest
from lab.roles.dblb.front import floating_address
from lab.roles.dblb.haproxy_config import WRITE_LISTENER, render_local_haproxy_cfg
from lab.roles.dblb.keepalived_config import (
    PRIORITIES,
    adapt_keepalived_conf,
    pair_settings,
    render_keepalived_conf,
    takeover_bound_s,
)
from lab.roles.dblb.lb_options import OPTIONS
from lab.roles.dblb.lb_options import markdown_table as lb_markdown_table
from lab.roles.web.front_end import Member, render_proxy_ajp_conf

MEMBERS = ("galera1", "galera2", "galera3")


def test_keepalived_conf_follows_oxs_keepalived_page() -> None:
    first, second = (render_keepalived_conf(s) for s in pair_settings("172.18.255.254", 16))
    for conf in (first, second):
        assert "state BACKUP" in conf and "nopreempt" in conf, (
            "nopreempt (OX's page): a returning node does not take the address back; "
            "keepalived honours it only with state BACKUP"
        )
        assert "advert_int 1" in conf and "virtual_router_id 10" in conf
        assert "172.18.255.254/16 dev eth0" in conf
        assert 'script "/usr/local/bin/lab-check-haproxy"' in conf
        assert re.search(r"track_script \{\s+chk_haproxy", conf), "the check moves the address"
    assert "priority 101" in first and "priority 100" in second, "OX's page: 101 prefers one"
    assert "router_id dblb1" in first and "router_id dblb2" in second


def test_takeover_bound_is_vrrps_master_down_interval() -> None:
    # RFC 3768: 3 * Advertisement_Interval + (256 - Priority) / 256
    assert takeover_bound_s(PRIORITIES[1]) == pytest.approx(3 + 156 / 256)


def test_an_operators_keepalived_conf_gets_the_labs_address_and_interface() -> None:
    theirs = (
        "vrrp_instance OX_VRRP {\n    state BACKUP\n    interface bond0\n    priority 150\n"
        "    virtual_ipaddress {\n        10.20.30.77/24 brd 10.20.30.255 dev bond0\n    }\n}\n"
    )
    adapted = adapt_keepalived_conf(theirs, "172.18.255.254", 16)
    assert "interface eth0" in adapted and "bond0" not in adapted
    assert "172.18.255.254/16 dev eth0" in adapted and "10.20.30.77" not in adapted
    assert "priority 150" in adapted, "everything else stays as the operator wrote it"


def test_the_floating_address_is_the_subnets_last_host() -> None:
    assert floating_address("172.18.0.0/16") == "172.18.255.254"
    assert floating_address("10.5.3.0/24") == "10.5.3.254"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_local_haproxies_let_the_cluster_choose_one_writer(profile: str) -> None:
    cfg = render_local_haproxy_cfg(MEMBERS, get_profile(profile))
    write = cfg.split(f"listen {WRITE_LISTENER}\n", 1)[1].split("\n\n", 1)[0]
    assert "option httpchk GET /master" in write, "clustercheck's one writer, for everyone"
    assert " backup" not in write, "no instance chooses a writer of its own"
    rise = int(re.search(r" rise (\d+)", write).group(1))  # type: ignore[union-attr]
    fall = int(re.search(r" fall (\d+)", write).group(1))  # type: ignore[union-attr]
    assert rise >= fall + 2, (
        "every instance drops the old writer (fall checks) before any adopts the new one"
    )


def test_local_requires_groupware_nodes() -> None:
    problems = LabRequest(topology="galera", dblb="local").problems()
    assert any("--dblb local" in p and "guide-galera" in p for p in problems), problems
    assert LabRequest(topology="guide-galera", dblb="local").problems() == []
    assert any("load balancer option" in p for p in LabRequest(dblb="lvs").problems())


def test_plan_names_the_haproxy_containers() -> None:
    assert LabRequest(dblb="keepalived").plan().dblb_nodes == ("dblb1", "dblb2")
    assert LabRequest().plan().dblb_nodes == ("dblb",)
    assert LabRequest(topology="guide").plan().dblb_nodes == ()
    assert LabRequest(topology="guide", dblb="keepalived").plan().dblb_nodes == ("dblb1", "dblb2")
    assert LabRequest(topology="guide-galera", dblb="local").plan().dblb_nodes == ()


def holders(*samples: list[str]) -> History:
    history = History(t0=0.0)
    for at, held in enumerate(samples):
        history.probes.append(
            {"kind": HOLDERS, "at": float(at), "holders": held, "address": "10.0.0.254"}
        )
    return history


def test_one_holder_passes_and_two_holders_are_split_brain() -> None:
    assert check_one_holder(holders(["dblb1"], ["dblb1"], ["dblb2"])).valid()
    verdict = check_one_holder(holders(["dblb1"], ["dblb1", "dblb2"], ["dblb1", "dblb2"]))
    assert "split-brain" in verdict.anomalies, verdict.summary()
    assert verdict.stats["split_brain_samples"] == 2
    gap = check_one_holder(holders(["dblb1"], [], ["dblb2"]))
    assert set(gap.anomalies) == {"no-address-holder"}, "a takeover's moment is a finding"


def writes(*rows: tuple[int, float, float, str]) -> History:
    history = History(t0=0.0)
    for i, (process, start, end, node) in enumerate(rows):
        history.ops.append(Op(i, process, "insert", i, start, end, "ok", node))
    return history


def test_writes_on_one_node_at_a_time_are_one_writer() -> None:
    history = writes((0, 0.0, 1.0, "galera1"), (10, 0.5, 1.5, "galera1"), (0, 2.0, 3.0, "galera2"))
    verdict = check_one_writer(history)
    assert verdict.valid(), verdict.summary()
    assert verdict.stats["writer_changes"] == 1


def test_overlapping_writes_on_two_nodes_are_two_writers() -> None:
    history = writes((0, 0.0, 1.0, "galera1"), (10, 0.9, 1.5, "galera2"))
    assert "two-writers" in check_one_writer(history).anomalies


def test_failed_writes_do_not_count_as_a_writer() -> None:
    history = writes((0, 0.0, 1.0, "galera1"), (10, 0.5, 1.5, "galera2"))
    history.ops[1].outcome = "fail"
    assert check_one_writer(history).valid()


def test_instances_with_different_write_servers_up_are_two_write_servers() -> None:
    history = History(t0=0.0)
    history.probes += [
        {"kind": WRITE_SERVERS, "at": 0.0, "instances": {"oxgw01": ["galera1"], "oxgw02": []}},
        {
            "kind": WRITE_SERVERS,
            "at": 1.0,
            "instances": {"oxgw01": ["galera2"], "oxgw02": ["galera1"]},
        },
    ]
    verdict = check_one_writer(history)
    assert list(verdict.anomalies) == ["two-write-servers"], verdict.summary()


def connects(*rows: tuple[str, float, float, str]) -> History:
    history = History(t0=0.0)
    for i, (f, start, end, outcome) in enumerate(rows):
        history.ops.append(Op(i, int(f == CHECKED_CLIENT), f, None, start, end, outcome))
    history.faults.append(Fault("pause", "dblb1", 1.0, 10.0))
    return history


def test_a_name_that_still_leads_to_the_dead_balancer_is_reported() -> None:
    history = connects(
        (CHECKED_CLIENT, 1.0, 3.0, "fail"),
        (CHECKED_CLIENT, 4.0, 4.1, "ok"),  # the address is back at 4 s
        (UNCHECKED_CLIENT, 3.0, 5.0, "fail"),  # before the address was back: not counted
        (UNCHECKED_CLIENT, 5.0, 5.1, "ok"),
        (UNCHECKED_CLIENT, 6.0, 8.0, "ok"),  # waited out the 2 s connect timeout first
        (UNCHECKED_CLIENT, 8.5, 9.0, "fail"),
    )
    verdict = check_unchecked_rotation(history, slow_s=2.0)
    assert "dead-address-used" in verdict.anomalies, verdict.summary()
    assert verdict.stats == {
        "checked_back_after_ms": 3000,
        "unchecked_connects_after": 3,
        "unchecked_connects_bad": 2,
        "checked_connects_bad_after": 0,
    }


def test_the_checked_paths_own_flaps_do_not_hide_the_finding() -> None:
    history = connects(
        (CHECKED_CLIENT, 1.0, 3.0, "fail"),
        (CHECKED_CLIENT, 4.0, 4.1, "ok"),  # the address is back at 4 s
        (UNCHECKED_CLIENT, 6.0, 8.0, "fail"),
        # re-resolved to the frozen holder, whose kernel still answers ARP for it
        (CHECKED_CLIENT, 7.0, 9.0, "fail"),
        (CHECKED_CLIENT, 9.1, 9.2, "ok"),
        (UNCHECKED_CLIENT, 9.3, 9.4, "ok"),
        # in flight when the heal (10 s) moved the address back to the unfrozen holder
        (CHECKED_CLIENT, 9.5, 11.5, "fail"),
    )
    verdict = check_unchecked_rotation(history, slow_s=2.0)
    assert "dead-address-used" in verdict.anomalies, (
        f"a later failure of the checked path must not move 'served again': {verdict.stats}"
    )
    assert verdict.stats["checked_back_after_ms"] == 3000, verdict.stats
    assert verdict.stats["unchecked_connects_after"] == 2, verdict.stats
    assert verdict.stats["checked_connects_bad_after"] == 2, verdict.stats


def test_a_name_that_only_leads_to_live_balancers_is_not_reported() -> None:
    history = connects(
        (CHECKED_CLIENT, 4.0, 4.1, "ok"),
        (UNCHECKED_CLIENT, 5.0, 5.1, "ok"),
        (UNCHECKED_CLIENT, 6.0, 6.2, "ok"),
    )
    assert check_unchecked_rotation(history, slow_s=2.0).valid()


def test_the_connect_loops_lines_become_operations_in_history_time() -> None:
    history = History(t0=0.0)
    log = (
        f"1000.0 1000.5 {UNCHECKED_CLIENT} ok galera1\n"
        f"1001.0 1003.0 {CHECKED_CLIENT} fail ERROR 2013 (HY000): Lost connection\n"
        "garbage line\n"
        "1004.0 1004.1 another-client ok galera2\n"
    )
    # the host clock read 1010.0 when the history's clock read history.now()
    added = record_attempts(log, history, 1010.0, {UNCHECKED_CLIENT: 0, CHECKED_CLIENT: 1})
    assert added == 2
    first, second = history.ops
    offset = 1010.0 - history.now()
    assert (first.process, first.outcome, first.node) == (0, "ok", "galera1")
    assert first.start == pytest.approx(1000.0 - offset)
    assert (second.process, second.outcome) == (1, "fail")
    assert second.error.startswith("ERROR 2013") and second.end - second.start == 2.0


def test_the_docs_load_balancer_table_is_the_registrys() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "load-balancers.md").read_text()
    assert lb_markdown_table() in readme, (
        "docs/load-balancers.md's table: paste `lab lb-options --markdown`"
    )


def test_every_option_the_lab_runs_names_a_real_mode_or_scenario() -> None:
    for option in OPTIONS:
        for mode in re.findall(r"`--dblb ([a-z]+)`", option.in_the_lab):
            assert mode in DBLB_MODES, (option.name, mode)
        for scenario in re.findall(r"chaos `([a-z0-9-]+)`|, `([a-z0-9-]+)`", option.in_the_lab):
            name = next(n for n in scenario if n)
            assert name in SCENARIOS, (option.name, name)


def browsing(*rows: tuple[int, float, str, str]) -> History:
    """(process, start, route, outcome) under a fault from 1 s to 10 s."""
    history = History(t0=0.0)
    for i, (process, start, route, outcome) in enumerate(rows):
        history.ops.append(Op(i, process, "list-folders", {}, start, start + 0.1, outcome, route))
    history.faults.append(Fault("kill-haproxy", "oxgw01", 1.0, 10.0))
    return history


def test_users_of_the_faulty_node_that_fail_then_move_are_confined() -> None:
    history = browsing(
        (0, 0.5, "OX1", "ok"),
        (0, 2.0, "OX1", "fail"),
        (0, 3.0, "OX2", "ok"),  # moved by the balancer, session kept
        (1, 2.5, "OX2", "ok"),
    )
    verdict = check_failures_confined(history, "OX1")
    assert verdict.valid(), verdict.summary()
    assert verdict.stats == {"failed_on_faulty_node": 1, "failed_elsewhere": 0, "users_moved": 1}


def test_a_failure_of_another_nodes_user_is_not_confined() -> None:
    history = browsing((0, 2.0, "OX1", "fail"), (0, 3.0, "OX2", "ok"), (1, 2.5, "OX2", "fail"))
    assert "other-users-failed" in check_failures_confined(history, "OX1").anomalies


def test_a_user_still_failing_on_the_faulty_node_was_not_moved() -> None:
    history = browsing((0, 2.0, "OX1", "fail"), (0, 3.0, "OX1", "fail"))
    assert "not-moved" in check_failures_confined(history, "OX1").anomalies


def test_the_front_end_moves_users_off_a_node_answering_503_only_when_asked() -> None:
    members = [Member("oxgw01", "OX1"), Member("oxgw02", "OX2")]
    assert "failonstatus" not in render_proxy_ajp_conf(members, ["127.0.0.1"]), "the guide's"
    local = render_proxy_ajp_conf(members, ["127.0.0.1"], fail_on_503=True)
    assert "ProxySet stickysession=JSESSIONID failonstatus=503" in local


def test_writes_that_only_touch_are_not_two_writers() -> None:
    touching = writes((0, 0.0, 1.0, "galera1"), (10, 1.0, 1.5, "galera2"))
    assert check_one_writer(touching).valid(), "one ended as the other began: no overlap"
    overlap = writes((0, 0.0, 1.0, "galera1"), (10, 0.999, 1.5, "galera2"))
    assert "two-writers" in check_one_writer(overlap).anomalies


def test_a_later_overlap_is_found_past_a_same_node_write() -> None:
    history = writes((0, 0.0, 5.0, "galera1"), (10, 1.0, 2.0, "galera1"), (20, 3.0, 4.0, "galera2"))
    assert "two-writers" in check_one_writer(history).anomalies, (
        "the long write on galera1 overlaps galera2's, whatever came between"
    )


def test_the_same_server_up_in_every_instance_is_one_write_server() -> None:
    history = History(t0=0.0)
    history.probes.append(
        {
            "kind": WRITE_SERVERS,
            "at": 0.0,
            "instances": {"oxgw01": ["galera1"], "oxgw02": ["galera1"]},
        }
    )
    assert check_one_writer(history).valid()


def test_an_unchecked_connect_exactly_at_the_slow_limit_is_slow() -> None:
    history = connects(
        ("connect-checked", 1.0, 1.5, "fail"),
        ("connect-checked", 2.0, 2.1, "ok"),
        ("connect-unchecked", 3.0, 5.0, "ok"),  # waited exactly slow_s
        ("connect-unchecked", 6.0, 7.99, "ok"),  # just under
    )
    history.faults.append(Fault("pause", "dblb1", 1.0, 10.0))
    verdict = check_unchecked_rotation(history, slow_s=2.0)
    assert verdict.stats["unchecked_connects_bad"] == 1, verdict.stats
    assert verdict.stats["checked_back_after_ms"] == 1000


def test_confined_failures_at_the_faults_edges() -> None:
    history = History(t0=0.0)
    rows = [
        (1, 1.0, "fail", "oxgw02"),  # another user's failure at the fault's start: counted
        (2, 5.0, "fail", "oxgw02"),  # at its end: counted
        (3, 5.1, "fail", "oxgw02"),  # after the heal: not this fault's
        (4, 2.0, "fail", "OX1"),
        (4, 3.0, "ok", "oxgw02"),  # moved
        (5, 2.0, "fail", "OX1"),  # never moved
    ]
    for i, (process, start, outcome, node) in enumerate(rows):
        history.ops.append(Op(i, process, "list", None, start, start + 0.1, outcome, node))
    history.faults.append(Fault("kill-haproxy", "oxgw01", 1.0, 5.0))
    verdict = check_failures_confined(history, route="OX1")
    assert verdict.stats["failed_elsewhere"] == 2, verdict.stats
    assert verdict.stats["users_moved"] == 1
    assert (
        len(verdict.anomalies["not-moved"]) == 1
        and "process 5" in verdict.anomalies["not-moved"][0]
    )
