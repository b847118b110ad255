"""The `filestore` role: the guide's NFS export of /var/opt/filestore, read-write for the
groupware nodes only, owned by open-xchange (1001:1001), served by nfs-ganesha."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import docker
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.infra.docker_env import RunIdentity
from lab.infra.errors import StartupError
from lab.infra.nodes import Node, container_spec, lab_volume, start_container
from lab.infra.waiting import poll
from lab.operator.parsers import Export
from lab.roles.images import filestore_image

EXPORT_PATH = "/var/opt/filestore"
PSEUDO_PATH = "/filestore"
EXPORT_VOLUME = "filestore-export"


@dataclass(frozen=True)
class ExportRule:
    """One client of an export with what /etc/exports says for it, in ganesha's terms."""

    clients: str  # an address, a network, or *
    access: str = "RW"
    squash: str = "No_Root_Squash"
    anon_uid: str | None = None
    anon_gid: str | None = None

    def block(self) -> str:
        anon = "".join(
            f" {name} = {value};"
            for name, value in (("Anonymous_Uid", self.anon_uid), ("Anonymous_Gid", self.anon_gid))
            if value is not None
        )
        return (
            f"    CLIENT {{ Clients = {self.clients}; Access_Type = {self.access}; "
            f"Squash = {self.squash};{anon} }}"
        )


def rules_from_exports(
    entries: Sequence[Export], address_of: Callable[[str], str]
) -> list[ExportRule]:
    """An operator's /etc/exports as ganesha client blocks: rw/ro, root_squash (the NFS
    default), no_root_squash, all_squash with anonuid/anongid, as knfsd would apply them.
    Names become the lab nodes' addresses; networks and * stay as they are (and open
    the export as wide as the operator's file does)."""
    rules = []
    for entry in entries:
        for client in entry.clients:
            squash = "Root_Squash"
            if client.option("no_root_squash") is not None:
                squash = "No_Root_Squash"
            if client.option("all_squash") is not None:
                squash = "All_Squash"
            rules.append(
                ExportRule(
                    clients=address_of(client.host),
                    access="RO" if client.option("ro") is not None else "RW",
                    squash=squash,
                    anon_uid=client.option("anonuid"),
                    anon_gid=client.option("anongid"),
                )
            )
    return rules


def render_ganesha_conf(clients: Sequence[str], rules: Sequence[ExportRule] = ()) -> str:
    """The guide's /etc/exports line, in ganesha's words: RW for the listed clients only,
    uids kept as they are (the nodes and the server share open-xchange's uid/gid). With
    `rules` (the operator's /etc/exports), their clients and options instead."""
    blocks = [r.block() for r in rules] or [ExportRule(", ".join(clients)).block()]
    return "\n".join(
        [
            "NFS_CORE_PARAM { Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false; }",
            "NFSv4 { Graceless = true; }  # no 90 s grace period after a (re)start",
            "EXPORT_DEFAULTS { Access_Type = None; }",
            "EXPORT {",
            "    Export_Id = 1;",
            f"    Path = {EXPORT_PATH};",
            f"    Pseudo = {PSEUDO_PATH};",
            "    Protocols = 4;",
            "    Transports = TCP;",
            "    SecType = sys;",
            "    FSAL { Name = VFS; }",
            *blocks,
            "}",
            "LOG { Default_Log_Level = WARN; }",
            "",
        ]
    )


class FilestoreNode(Node):
    @classmethod
    def launch(
        cls,
        client: docker.DockerClient,
        run: RunIdentity,
        network: Network,
        clients: Sequence[str],
        rules: Sequence[ExportRule] = (),
    ) -> FilestoreNode:
        volume = lab_volume(client, run, EXPORT_VOLUME)
        spec = filestore_spec(run, network, volume, clients, rules)
        node = cls(start_container(spec, run).container)
        node.wait_exporting()
        return node

    def wait_exporting(self, timeout: float = 30.0) -> None:
        def exporting() -> bool:
            if self.status != "running":
                raise StartupError(f"filestore stopped:\n{self.logs(tail=20)}")
            return self.exec(["sh", "-c", "ss -ltn | grep -q ':2049 '"]).exit_code == 0

        poll(exporting, timeout=timeout, what="ganesha to listen on 2049")

    def owners(self) -> set[str]:
        out = self.exec(["sh", "-c", f"find {EXPORT_PATH} -type f -exec stat -c %u:%g {{}} +"])
        return set(out.output.split())


def filestore_spec(
    run: RunIdentity,
    network: Network | None,
    volume: str,
    clients: Sequence[str],
    rules: Sequence[ExportRule] = (),
) -> DockerContainer:
    """ganesha exporting `volume` to `clients` (the oxnodes' addresses) only."""
    return (
        container_spec(
            run,
            network,
            filestore_image().tag,
            "filestore",
            "filestore",
            cap_add=["SYS_ADMIN", "DAC_READ_SEARCH"],
        )
        .with_volume_mapping(volume, EXPORT_PATH, "rw")
        .with_copy_into_container(
            render_ganesha_conf(clients, rules).encode(), "/etc/ganesha/ganesha.conf"
        )
    )
