"""The load balancer in front of the databases as a role of a lab: one HAProxy (the
guide's dblb), the keepalived pair (`--dblb keepalived`), or HAProxy on each groupware
node (`--dblb local`, whose instances live in the groupware containers)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from docker.models.containers import Container

from lab.infra.docker_env import LABEL_ROLE, LABEL_RUN
from lab.infra.network import network_subnet
from lab.infra.nodes import Node
from lab.operator.placement import haproxy_setup, pair_members
from lab.roles.dblb.front import DatabaseFront, Dblb, DblbPair, floating_address
from lab.roles.dblb.haproxy_config import haproxy_config_for
from lab.roles.health import servers_not_up
from lab.roles.images import dblb_image
from lab.roles.role import labelled

if TYPE_CHECKING:
    from lab.roles.system import Lab


class LoadBalancer:
    name = "dblb"

    def launch(self, lab: Lab) -> DatabaseFront:
        """HAProxy with the lab's (or the operator's) haproxy.cfg: one node, or the pair
        with the floating address on the lab network's highest host address."""
        assert lab.run and lab.network
        setup = haproxy_setup(lab.plan, haproxy_config_for(lab.plan))
        image = dblb_image(lab.plan.flavour).tag
        run, network = lab.run, lab.network
        if lab.plan.dblb != "keepalived":
            return Dblb.launch(run, network, image, setup)
        subnet = ipaddress.ip_network(network_subnet(network))
        vip = floating_address(str(subnet))
        with ThreadPoolExecutor(max_workers=2) as pool:
            members = list(
                pool.map(
                    lambda member: Dblb.launch(run, network, image, setup, member),
                    pair_members(lab.plan, vip, subnet.prefixlen),
                )
            )
        return DblbPair(members, vip)

    def attach(self, lab: Lab, containers: Sequence[Container]) -> None:
        found = [Dblb(c) for c in labelled(containers, "dblb")]
        if len(found) > 1:
            assert lab.client and lab.run
            networks = lab.client.networks.list(filters={"label": f"{LABEL_RUN}={lab.run.run_id}"})
            subnet = networks[0].attrs["IPAM"]["Config"][0]["Subnet"] if networks else ""
            lab.dblb = DblbPair(found, floating_address(subnet))
        else:
            lab.dblb = found[0] if found else None

    def problems(self, lab: Lab) -> list[str]:
        """Every HAProxy has every server UP (with `--dblb local` a node's write listener
        has one writer by design), and exactly one member of the pair holds the address."""
        problems = [
            f"HAProxy on {haproxy.name}: not UP: {down}"
            for haproxy in haproxies(lab)
            for down in servers_not_up(
                (b.listener, b.server, b.status)
                for b in haproxy.backends()
                if not (lab.request.dblb == "local" and b.listener == "db-write")
            )
        ]
        if isinstance(lab.dblb, DblbPair):
            holders = [m.name for m in lab.dblb.holders()]
            if len(holders) != 1:
                problems.append(f"{lab.dblb.vip} is held by {' and '.join(holders) or 'nobody'}")
        return problems

    def nodes(self, lab: Lab) -> list[Node]:
        return list(lab.dblb.nodes) if lab.dblb else []


def haproxies(lab: Lab) -> list[Dblb]:
    """Every HAProxy instance: dblb, the pair's members, or the groupware nodes' own."""
    if lab.dblb:
        return lab.dblb.nodes
    if lab.request.dblb != "local":
        return []
    if lab.ox:
        return [Dblb(node.container) for node in lab.ox.nodes]
    if lab.client and lab.run:  # a kept lab found again by its labels
        labels = [f"{LABEL_RUN}={lab.run.run_id}", f"{LABEL_ROLE}=groupware"]
        found = lab.client.containers.list(filters={"label": labels})
        return sorted((Dblb(c) for c in found), key=lambda n: n.name)
    return []


LOAD_BALANCER = LoadBalancer()
