"""The partition faults' iptables rules: a cut is complete in one command, and on an
operator's host the heal deletes exactly the rules the fault inserted."""

from __future__ import annotations

from lab.chaos.nemesis import firewall


def test_a_cut_drops_every_peer_both_ways_in_one_command() -> None:
    rules = firewall.cut_off(["10.0.0.2", "10.0.0.3"]).split(" && ")
    assert rules == [
        "iptables -I INPUT -s 10.0.0.2 -j DROP",
        "iptables -I OUTPUT -d 10.0.0.2 -j DROP",
        "iptables -I INPUT -s 10.0.0.3 -j DROP",
        "iptables -I OUTPUT -d 10.0.0.3 -j DROP",
    ], "a partition must stop traffic with every peer, in and out"


def test_a_hosts_heal_deletes_exactly_the_marked_rules_it_inserted() -> None:
    inserted = firewall.cut_off(["192.0.2.7"], "-I", marked=True)
    deleted = firewall.cut_off(["192.0.2.7"], "-D", marked=True)
    assert f"-m comment --comment {firewall.RULE_MARK}" in inserted, (
        "rules on an operator's host carry the lab's mark, so nobody mistakes them for theirs"
    )
    assert deleted == inserted.replace("iptables -I ", "iptables -D "), (
        "iptables -D removes a rule only when it matches the inserted one exactly"
    )


def test_one_way_drops_only_what_comes_in() -> None:
    assert firewall.deaf_to(["10.0.0.2"]) == "iptables -I INPUT -s 10.0.0.2 -j DROP"


def test_vrrp_cut_and_tcp_reset() -> None:
    assert firewall.protocol_dropped(firewall.VRRP) == (
        "iptables -I INPUT -p 112 -j DROP && iptables -I OUTPUT -p 112 -j DROP"
    )
    assert firewall.tcp_reset(3306, ["10.0.0.9"]) == (
        "iptables -I INPUT -p tcp --dport 3306 -s 10.0.0.9 -j REJECT --reject-with tcp-reset"
    )
