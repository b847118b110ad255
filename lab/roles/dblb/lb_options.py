"""The guide's "Loadbalancer options" as rows: each runs in the lab (a `--dblb` option or
a chaos scenario that shows why the guide rules it out) or says, as detected on this
host at run time, why it cannot. `lab lb-options` prints the table; docs/load-balancers.md's table
is its Markdown (a unit test keeps them equal); tests/integration/test_dblb_options.py
runs or skips each row with the same reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import docker
import docker.errors

from lab.infra.docker_env import LABEL_OWNER, LABEL_RUN, owner_token
from lab.plan.flavours import DEFAULT_FLAVOUR, get_flavour
from lab.roles.images import dblb_image, image_present

MAXSCALE_IMAGE = "mariadb/maxscale:latest"


@dataclass(frozen=True)
class LbOption:
    name: str
    guide: str  # what the guide says about it
    in_the_lab: str  # how the lab runs it, or what shows why the guide rules it out
    # what it needs, detected on this host: None, or why it cannot run here (no
    # detector: it always runs, as a --dblb option or a chaos scenario)
    detect: Callable[[docker.DockerClient], str | None] | None = None

    def unavailable(self, client: docker.DockerClient) -> str | None:
        return self.detect(client) if self.detect else None


def ipvs_unavailable(client: docker.DockerClient) -> str | None:
    """LVS needs the kernel's ip_vs module: a container sees /proc/net/ip_vs in its
    network namespace only when the host kernel has it loaded (a container cannot
    load it). This host's answer, from a throwaway container of the haproxy image."""
    image = dblb_image(get_flavour(DEFAULT_FLAVOUR)).tag
    if not image_present(client, image):
        return f"cannot tell whether this kernel has IPVS: {image} is not built"
    out = client.containers.run(
        image,
        ["sh", "-c", "test -e /proc/net/ip_vs && echo ipvs || echo none"],
        remove=True,
        labels={LABEL_RUN: "lb-options", LABEL_OWNER: owner_token()},
    )
    if b"ipvs" in out:
        return (
            "this kernel has IPVS, but the lab does not run LVS yet (keepalived's "
            "virtual_server in front of the groupware nodes: not built, no host here had IPVS)"
        )
    return "this kernel has no IPVS (no /proc/net/ip_vs: the ip_vs module is not loaded)"


def maxscale_unavailable(client: docker.DockerClient) -> str:
    """MaxScale has no Debian package; only MariaDB's image would bring it."""
    if image_present(client, MAXSCALE_IMAGE):
        where = f"{MAXSCALE_IMAGE} is here"
    else:
        try:
            client.images.pull(MAXSCALE_IMAGE)
            where = f"a registry serves {MAXSCALE_IMAGE}"
        except docker.errors.APIError as exc:
            why = str(exc.explanation or exc).splitlines()[0][:70]
            where = f"no registry serves {MAXSCALE_IMAGE} here ({why})"
    return f"MaxScale has no Debian package and the lab does not run its image yet; {where}"


OPTIONS: tuple[LbOption, ...] = (
    LbOption(
        "HAProxy (one dblb)",
        "round-robin reads, active-passive writes, Galera-aware checks",
        "`--dblb single` (default); chaos `dblb-kill` measures it as the single point of failure",
    ),
    LbOption(
        "Keepalived (VRRP) + HAProxy",
        "recommended: Keepalived on one or two dedicated nodes",
        "`--dblb keepalived`: dblb1/dblb2 float one address; chaos `dblb-pair-kill`, "
        "`dblb-vrrp-cut`",
    ),
    LbOption(
        "HAProxy on each OX node",
        "where Keepalived is not feasible; OX connects to the local instance",
        "`--dblb local` (guide, guide-galera); chaos `dblb-local-writer`",
    ),
    LbOption(
        "LVS/IPVS with Keepalived",
        "recommended: kernel L4 balancing controlled by Keepalived",
        "runs where the kernel has ip_vs",
        ipvs_unavailable,
    ),
    LbOption(
        "MariaDB MaxScale",
        "promising; OX experiments with it",
        "MariaDB's image, where a registry serves it",
        maxscale_unavailable,
    ),
    LbOption(
        "DNS round robin",
        "not viable",
        "chaos `dns-round-robin`: the name keeps handing out a dead HAProxy",
    ),
    LbOption(
        "JDBC driver round robin",
        "not recommended: no Galera health checks",
        "chaos `jdbc-round-robin`: the rotation keeps reaching a split-off node",
    ),
)


def markdown_table() -> str:
    """docs/load-balancers.md's table (what each option needs is detected at run time:
    `lab lb-options` adds a column saying whether it runs on this host)."""
    rows = ["| option | the guide | in the lab |", "|---|---|---|"]
    rows += [f"| {o.name} | {o.guide} | {o.in_the_lab} |" for o in OPTIONS]
    return "\n".join(rows)
