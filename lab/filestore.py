"""The `filestore` role: the guide's NFS export of /var/opt/filestore, read-write for the
groupware nodes only, owned by open-xchange (1001:1001), served by nfs-ganesha."""

from __future__ import annotations

from collections.abc import Sequence

import docker
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.docker_env import RunIdentity
from lab.errors import StartupError
from lab.images import build_images, filestore_image
from lab.nodes import Node, container_spec, lab_volume, start_container
from lab.waiting import poll

EXPORT_PATH = "/var/opt/filestore"
PSEUDO_PATH = "/filestore"
EXPORT_VOLUME = "filestore-export"


def render_ganesha_conf(clients: Sequence[str]) -> str:
    """The guide's /etc/exports line, in ganesha's words: RW for the listed clients only,
    uids kept as they are (the nodes and the server share open-xchange's uid/gid)."""
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
            "    Squash = No_Root_Squash;",
            "    FSAL { Name = VFS; }",
            f"    CLIENT {{ Clients = {', '.join(clients)}; Access_Type = RW; }}",
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
    ) -> FilestoreNode:
        build_images(client, [filestore_image()])
        volume = lab_volume(client, run, EXPORT_VOLUME)
        spec = filestore_spec(run, network, volume, clients)
        node = cls(start_container(spec).container)
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
    run: RunIdentity, network: Network | None, volume: str, clients: Sequence[str]
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
            render_ganesha_conf(clients).encode(), "/etc/ganesha/ganesha.conf"
        )
    )
