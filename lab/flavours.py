"""Database flavours as data: where a flavour's packages come from and which topologies it
can run. No Docker here, so the table is unit-testable and validated before anything starts."""

from __future__ import annotations

from dataclasses import dataclass

from lab.errors import lookup


@dataclass(frozen=True)
class Flavour:
    name: str
    description: str
    base_image: str  # tag the Dockerfiles' ARG BASE expects; made by debootstrap if absent
    debian_suite: str  # suite debootstrap uses to make base_image on an air-gapped host
    server_packages: tuple[str, ...]
    topologies: tuple[str, ...]
    galera_provider: str = "/usr/lib/galera/libgalera_smm.so"


FLAVOURS: dict[str, Flavour] = {
    f.name: f
    for f in (
        Flavour(
            name="mariadb-10.11",
            description="MariaDB 10.11 + galera-4 26.4 from Debian bookworm",
            base_image="debian:bookworm-slim",
            debian_suite="bookworm",
            server_packages=("mariadb-server", "mariadb-client", "galera-4", "mariadb-backup"),
            topologies=("galera",),
        ),
    )
}

DEFAULT_FLAVOUR = "mariadb-10.11"


def get_flavour(name: str) -> Flavour:
    return lookup(FLAVOURS, name, "flavour")
