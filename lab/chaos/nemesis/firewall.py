"""The iptables rules of the partition faults, in one place for containers and SSH hosts.

Each function renders one shell command (every rule in one command, so a cut is never
partial: applied one `docker exec` or SSH round trip at a time, galera1 would still talk
to galera3 but not to galera2 for a while, and with fast evs timeouts that
non-transitive view cost the majority its Primary component now and then).

A lab container's rules are all the lab's, so its heal flushes the chains (FLUSH). On an
operator's host the rules sit among the operator's own: there each rule carries the
comment RULE_MARK and the heal deletes exactly those (`action="-D"`)."""

from __future__ import annotations

from collections.abc import Sequence

RULE_MARK = "oxlab-fault"
VRRP = "112"  # VRRP's IP protocol number
FLUSH = "iptables -F INPUT && iptables -F OUTPUT"
HAS_RULES = "iptables -S 2>/dev/null | grep -q -- '-j'"  # any rule at all (containers)


def _rule(action: str, chain: str, match: str, target: str, marked: bool) -> str:
    mark = f" -m comment --comment {RULE_MARK}" if marked else ""
    return f"iptables {action} {chain} {match}{mark} -j {target}"


def cut_off(addresses: Sequence[str], action: str = "-I", marked: bool = False) -> str:
    """Traffic with `addresses` dropped both ways: a minority of one (clients that are
    not in `addresses`, such as HAProxy, still reach the node, as in a real split)."""
    return " && ".join(
        f"{_rule(action, 'INPUT', f'-s {a}', 'DROP', marked)} && "
        f"{_rule(action, 'OUTPUT', f'-d {a}', 'DROP', marked)}"
        for a in addresses
    )


def deaf_to(addresses: Sequence[str]) -> str:
    """Packets from `addresses` dropped on the way in only: the node hears nothing from
    them while they still hear it (a one-way partition)."""
    return " && ".join(_rule("-I", "INPUT", f"-s {a}", "DROP", False) for a in addresses)


def protocol_dropped(protocol: str) -> str:
    """Every packet of an IP protocol dropped both ways (VRRP between a keepalived pair)."""
    return (
        f"{_rule('-I', 'INPUT', f'-p {protocol}', 'DROP', False)} && "
        f"{_rule('-I', 'OUTPUT', f'-p {protocol}', 'DROP', False)}"
    )


def tcp_reset(port: int, addresses: Sequence[str]) -> str:
    """New and established connections from `addresses` to `port` answered with a TCP
    reset at once (a refusing server, unlike a silent partition)."""
    return " && ".join(
        _rule(
            "-I", "INPUT", f"-p tcp --dport {port} -s {a}", "REJECT --reject-with tcp-reset", False
        )
        for a in addresses
    )
