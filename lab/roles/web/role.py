"""Apache, the front end, as a role of a lab: the guide's proxy_ajp.conf balancing over
the groupware nodes, HTTPS from the run's CA."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from docker.models.containers import Container

from lab.infra.network import gateway
from lab.infra.nodes import Node
from lab.operator.placement import web_files
from lab.roles.groupware.cluster import OX_NODES
from lab.roles.role import labelled
from lab.roles.web.front_end import CA_FILE, Member, WebNode

if TYPE_CHECKING:
    from lab.roles.system import Lab


class FrontEnd:
    name = "web"

    def launch(self, lab: Lab, protocol: str = "ajp") -> WebNode:
        """Apache over the groupware nodes; balancer-manager for the Docker host (the
        lab's admin) only. Apache resolves its members when it first forwards to them,
        so it may start before they serve."""
        assert lab.client and lab.run and lab.network
        members = [Member(name, route) for name, route in OX_NODES]
        lab.web = WebNode.launch(
            lab.client,
            lab.run,
            lab.network,
            members,
            [gateway(lab.network)],
            lab.run.ca_file(lab.client),
            protocol,
            web_files(lab.plan),
            fail_on_503=lab.plan.dblb == "local",
        )
        return lab.web

    def attach(self, lab: Lab, containers: Sequence[Container]) -> None:
        assert lab.run
        for container in labelled(containers, "web"):
            # from the container, always: a file left by an earlier lab of the same name
            # (a compose lab's run id repeats) would name another CA
            lab.web = WebNode(container, lab.run.ca_file(lab.client))
            ca = lab.web.exec(["cat", CA_FILE]).output
            with open(lab.web.ca_path, "w", encoding="ascii") as f:
                f.write(ca)

    def problems(self, lab: Lab) -> list[str]:
        """None of its own beyond serving (its members' health is the balancer's)."""
        return []

    def nodes(self, lab: Lab) -> list[Node]:
        return [lab.web] if lab.web else []


WEB = FrontEnd()
