"""The compose files under lab/compose/ are renderings of the lab's own container specs:
committed copies must equal a fresh rendering, and drift must be found and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.compose import COMPOSE_TOPOLOGIES, SUBNETS, drift, node_specs, render, write
from lab.infra.testcontainers_adapter import spec_service
from lab.plan.topology import TOPOLOGIES
from lab.roles.groupware.cluster import OX_NODES


@pytest.mark.parametrize("topology", COMPOSE_TOPOLOGIES)
def test_committed_compose_files_match_the_lab_definitions(topology: str) -> None:
    problems = drift(topology)
    assert not problems, f"compose files drifted; run `lab compose write`: {problems}"


def test_drift_names_a_changed_file_and_a_stray_one(tmp_path: Path) -> None:
    write("guide", tmp_path)
    assert drift("guide", tmp_path) == [], "a fresh rendering must not count as drift"
    changed = tmp_path / "guide/files/dbmaster/etc/mysql/ox.conf.d/host.cnf"
    changed.write_text(changed.read_text() + "server_id = 99\n")
    stray = tmp_path / "guide/files/web/old.conf"
    stray.write_text("left over")
    problems = drift("guide", tmp_path)
    assert any(str(changed) in p and "differs" in p for p in problems), problems
    assert any(str(stray) in p and "not rendered" in p for p in problems), problems


@pytest.mark.parametrize("topology", COMPOSE_TOPOLOGIES)
def test_compose_services_are_the_topology_machines(topology: str) -> None:
    shape = TOPOLOGIES[topology]
    specs, ips = node_specs(topology)
    expected = {*shape.galera_members, *(shape.gtid_pair or ()), *(n for n, _ in OX_NODES)}
    expected |= {"filestore", "web"} | ({"dblb"} if shape.dblb else set())
    expected |= {"dbold"} if shape.gtid_pair else set()  # the Preparations' old installation
    assert {spec_service(s) for s in specs} == expected
    assert all(ip.startswith(SUBNETS[topology] + ".") for ip in ips.values())
    assert len(set(ips.values())) == len(ips), "every machine needs its own address"


def test_nfs_export_names_the_oxnodes_compose_addresses() -> None:
    """ganesha exports to the groupware nodes only: the rendered file must name exactly
    the addresses compose gives them (the guide: RW for the OX nodes)."""
    _, ips = node_specs("guide")
    ganesha = render("guide")["files/filestore/etc/ganesha/ganesha.conf"].decode()
    clients = ", ".join(ips[name] for name, _ in OX_NODES)
    assert f"Clients = {clients};" in ganesha, ganesha


def galera_services(join: str) -> dict[str, str]:
    text = render("guide-galera", join)["docker-compose.yml"].decode()
    galera2 = text.split("  galera2:\n", 1)[1].split("\n  galera3:\n", 1)[0]
    galera3 = text.split("  galera3:\n", 1)[1].split("\n  dblb:\n", 1)[0]
    return {"galera2": galera2, "galera3": galera3}


def test_galera_joiners_wait_for_their_predecessor_on_the_guides_path() -> None:
    """--join sst: the guide joins Galera nodes one at a time, each after the last."""
    services = galera_services("sst")
    assert (
        'depends_on:\n      galera1:\n        condition: "service_healthy"' in services["galera2"]
    )
    assert (
        'depends_on:\n      galera2:\n        condition: "service_healthy"' in services["galera3"]
    )


def test_seeded_galera_nodes_start_together() -> None:
    """From the seeded state the primary view forms only once all three have met: a node
    waiting for another to be healthy first would wait forever."""
    services = galera_services("seeded")
    assert all("depends_on" not in text for text in services.values()), services
    assert all('LAB_DATADIR: "seeded"' in text for text in services.values())
