"""Render keepalived.conf for the dblb pair the way OX's "Keepalived" page configures
its load balancers: VRRP instance in state BACKUP on both nodes with `nopreempt`,
`advert_int 1`, priority 101 and 100, one floating address on the service interface.

Why nopreempt (OX's choice, kept): when the preferred node comes back it does not take
the address back. A takeover cuts every connection through the address (OX's pool sees
them fail), so it should happen when a load balancer fails, not again when it returns.
keepalived honours nopreempt only with `state BACKUP`, which is why both start as BACKUP.

Authentication is PASS, not the page's AH: keepalived 2.x still accepts AH, but VRRPv2's
RFC 3768 removed authentication and neither gives real security on a shared segment;
PASS keeps a stray router with the same virtual_router_id from joining by accident.

The track script (lab-check-haproxy in the haproxy image) fails when this node's HAProxy
is dead or hung; the node then enters FAULT, sends a priority-0 advertisement and its
peer takes the address at once instead of after three missed advertisements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf"
CHECK_SCRIPT = "/usr/local/bin/lab-check-haproxy"
PAIR_COMMAND = ("lab-dblb-pair",)
VIRTUAL_ROUTER_ID = 10  # OX's page
ADVERT_INT_S = 1  # OX's page; the issue's 3 s takeover target assumes it
INSTANCE = "VI_DBLB"
PAIR_NODES = ("dblb1", "dblb2")
PRIORITIES = (101, 100)  # OX's page gives 101 to the preferred node


@dataclass(frozen=True)
class VrrpSettings:
    """One pair member's VRRP instance."""

    node: str
    priority: int
    vip: str  # the floating address
    prefix: int  # the lab network's prefix length
    interface: str = "eth0"
    check_interval_s: int = 1
    check_fall: int = 1  # a dead HAProxy is dead: one failed check gives the address up
    check_rise: int = 2


def pair_settings(vip: str, prefix: int, nodes: Sequence[str] = PAIR_NODES) -> list[VrrpSettings]:
    return [VrrpSettings(n, p, vip, prefix) for n, p in zip(nodes, PRIORITIES, strict=True)]


def render_keepalived_conf(s: VrrpSettings) -> str:
    return "\n".join(
        [
            f"# keepalived.conf for {s.node} (the dblb pair; OX's Keepalived page)",
            "global_defs {",
            f"    router_id {s.node}",
            "    enable_script_security",
            "    script_user root",
            "}",
            "",
            "vrrp_script chk_haproxy {",
            f'    script "{CHECK_SCRIPT}"',
            f"    interval {s.check_interval_s}",
            f"    timeout {s.check_interval_s}",
            f"    fall {s.check_fall}",
            f"    rise {s.check_rise}",
            "}",
            "",
            f"vrrp_instance {INSTANCE} {{",
            "    state BACKUP",
            f"    interface {s.interface}",
            f"    virtual_router_id {VIRTUAL_ROUTER_ID}",
            f"    priority {s.priority}",
            "    nopreempt",
            f"    advert_int {ADVERT_INT_S}",
            "    authentication {",
            "        auth_type PASS",
            "        auth_pass oxlab",
            "    }",
            "    virtual_ipaddress {",
            f"        {s.vip}/{s.prefix} dev {s.interface}",
            "    }",
            "    track_script {",
            "        chk_haproxy",
            "    }",
            "}",
            "",
        ]
    )


def takeover_bound_s(priority: int) -> float:
    """VRRP's Master_Down_Interval for the backup (RFC 3768): 3 advertisement intervals
    plus the skew time (256 - priority) / 256: how long it waits when the master's
    keepalived dies with its machine and sends nothing more."""
    return 3 * ADVERT_INT_S + (256 - priority) / 256


def adapt_keepalived_conf(text: str, vip: str, prefix: int, interface: str = "eth0") -> str:
    """The operator's keepalived.conf on the lab's network: `interface` lines name the
    lab's interface, the addresses of `virtual_ipaddress { }` become the lab's floating
    address, and unicast peers (their machines' addresses) are dropped, so the pair
    speaks multicast VRRP. Everything else (priorities, nopreempt, timers, scripts)
    stays as they wrote it, on the same line numbers (dropped lines stay as blank
    lines), so keepalived's complaints name the operator's lines."""
    out: list[str] = []
    skipping = ""  # the block whose lines are being replaced or dropped
    for line in text.splitlines():
        code = re.split(r"[#!]", line, maxsplit=1)[0].strip()
        indent = line[: len(line) - len(line.lstrip())]
        if skipping:
            ends = "}" in code
            out.append(line if ends and skipping == "virtual_ipaddress" else "")
            skipping = "" if ends else skipping
            continue
        block = re.match(r"(virtual_ipaddress|unicast_peer)\s*\{(.*)", code)
        if block:
            closed = "}" in block.group(2)
            if block.group(1) == "virtual_ipaddress":
                address = f"{vip}/{prefix} dev {interface}"
                out.append(f"{indent}virtual_ipaddress {{ {address}{' }' if closed else ''}")
            else:
                out.append("")
            skipping = "" if closed else block.group(1)
            continue
        if re.match(r"unicast_src_ip\s", code):
            out.append("")
        elif re.match(r"interface\s+\S+", code):
            out.append(f"{indent}interface {interface}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"
