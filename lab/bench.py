"""Benchmarks that print figures (never timed assertions in tests): how long the lab
takes to come up compared with the floor, and how long image builds take."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import docker
import docker.errors

from lab.docker_env import RunIdentity, remove_run
from lab.galera import GaleraCluster, GaleraPlan
from lab.galera_config import GaleraSettings
from lab.images import build_images, images_for
from lab.lab import Lab, LabOptions, Progress, create_network, mysql_host_mask
from lab.oxclient import OxSession
from lab.oxnode import ajp
from lab.oxnode.listeners import ajp_request
from lab.topology import LabRequest


def measure_floor(client: docker.DockerClient, request: LabRequest, progress: Progress) -> float:
    """The floor: the Galera nodes alone, first start plus serial joins, nothing else."""
    lab_plan = request.plan()
    flavour = lab_plan.flavour
    run = RunIdentity.new("bench-floor", keep=False)
    network = create_network(run)
    try:
        plan = GaleraPlan(
            settings=GaleraSettings(
                flavour=flavour,
                profile=lab_plan.profile,
                members=lab_plan.topology.galera_members,
                sst_method=lab_plan.sst_method,
            ),
            image=images_for(flavour)[0].tag,
        )
        started = time.monotonic()
        GaleraCluster.start(run, network, mysql_host_mask(network), plan, progress)
        return time.monotonic() - started
    finally:
        remove_run(client, run.run_id)


def bench_up(client: docker.DockerClient, request: LabRequest, progress: Progress) -> str:
    lab_plan = request.plan()
    build_images(client, images_for(lab_plan.flavour), progress)
    galera = bool(lab_plan.topology.galera_members)
    floor = measure_floor(client, request, progress) if galera else 0.0
    with Lab(request, LabOptions(name="bench"), progress=progress, client=client) as lab:
        pass  # up and down: the timings are what is measured
    whole = lab.timings["up"]
    what = (
        "Synced, groupware and front end up"
        if lab_plan.topology.groupware
        else "Synced and HAProxy serving writes"
    )
    if not galera:
        labels = {
            "databases_ready": "GTID pair up and replicating (incl. the guide's dumps)",
            "dblb_serving_writes": "HAProxy serving writes",
            "groupware_ready": "oxgw01/oxgw02 set up by the guide's sequence, NFS filestore",
            "web_ready": "Apache front end serving HTTPS",
        }
        lines = [f"lab up ({request.topology}, {request.flavour}), images cached:"]
        lines += [
            f"  {text:<62} {lab.timings[key]:6.1f} s (since start)"
            for key, text in labels.items()
            if key in lab.timings
        ]
        lines.append(f"  {'whole lab':<62} {whole:6.1f} s")
        return "\n".join(lines)
    return "\n".join(
        [
            f"lab up ({request.topology}, {request.flavour}, profile {request.profile}, "
            f"SST {request.sst_method}), images cached:",
            f"  whole lab: {what:<37} {whole:6.1f} s",
            f"  floor: {'Galera nodes alone (start + serial joins)':<41} {floor:6.1f} s",
            f"  {'ratio whole/floor':<48} {whole / floor:6.2f}",
        ]
    )


def bench_build(
    client: docker.DockerClient, request: LabRequest, progress: Progress, cold: bool
) -> str:
    """Time a build (with --cold: from nothing, the base image included) and a rebuild."""
    flavour = request.plan().flavour
    specs = images_for(flavour)
    if cold:
        for tag in [s.tag for s in specs] + [flavour.base_image]:
            try:
                client.images.remove(tag, force=True)
            except docker.errors.ImageNotFound:
                pass
    started = time.monotonic()
    build_images(client, specs, progress)
    first = time.monotonic() - started
    started = time.monotonic()
    build_images(client, specs, progress)
    again = time.monotonic() - started
    kind = "cold build (base and role images made from nothing)" if cold else "build"
    return f"{kind}: {first:.1f} s\nrebuild with nothing changed: {again:.2f} s"


def _login_and_list_http(url: str) -> None:
    OxSession.login(url, "testuser", "secret").folders()


def _login_and_list_ajp(address: tuple[str, int]) -> None:
    body = b"name=testuser&password=secret"
    login = ajp.ForwardRequest(
        method="POST",
        uri="/ajax/login",
        server_name="web",
        headers=[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", str(len(body))),
        ],
        attributes={"query_string": "action=login", "route": "OX1"},
    )
    answer = ajp_request(address, login, body)
    session = json.loads(answer.body)["session"]
    cookies = "; ".join(v.split(";")[0] for k, v in answer.headers if k == "Set-Cookie")
    folders = ajp.ForwardRequest(
        method="GET",
        uri="/ajax/folders",
        server_name="web",
        headers=[("cookie", cookies)],
        attributes={"query_string": f"action=list&parent=9&session={session}", "route": "OX1"},
    )
    if ajp_request(address, folders).status != 200:
        raise RuntimeError("folder list over AJP failed")


def _rate(work: Callable[[], None], seconds: float, clients: int) -> float:
    deadline = time.monotonic() + seconds
    counts = [0] * clients

    def loop(i: int) -> None:
        while time.monotonic() < deadline:
            work()
            counts[i] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(loop, range(clients)))
    return sum(counts) / (time.monotonic() - started)


def bench_oxnode(
    client: docker.DockerClient,
    request: LabRequest,
    progress: Progress,
    seconds: float = 5.0,
    clients: int = 4,
) -> str:
    """Login + folder list against one groupware node, over HTTP and over AJP13."""
    gtid = replace(request, topology="gtid")
    with Lab(gtid, LabOptions(name="bench-ox"), progress=progress, client=client) as lab:
        node = lab.start_groupware().nodes[0]
        http = _rate(lambda: _login_and_list_http(node.url), seconds, clients)
        over_ajp = _rate(lambda: _login_and_list_ajp((node.ip, 8009)), seconds, clients)
    return "\n".join(
        [
            f"login + folder list on {node.name} ({request.flavour} GTID, {clients} clients, "
            f"{seconds:g} s each):",
            f"  over HTTP (8080)  {http:7.1f} login+list/s",
            f"  over AJP13 (8009) {over_ajp:7.1f} login+list/s",
        ]
    )


def bench_failover(client: docker.DockerClient, request: LabRequest, progress: Progress) -> str:
    """Kill the Galera writer under a write workload; print the write gap for the chosen
    failover profile (`--profile ox` for OX's published settings)."""
    from lab.chaos_scenarios import writer_kill

    galera = replace(request, topology="galera")
    with Lab(galera, LabOptions(name="bench-failover"), progress=progress, client=client) as lab:
        run = writer_kill(lab, seed=1)
    kept = run.verdict("no-acknowledged-write-lost")
    lines = [
        f"writer kill ({request.flavour}, failover profile {run.profile}; clients insert "
        "side by side through HAProxy's write listener):"
    ]
    for probe in run.probes:
        lines += [
            f"  {probe['client']}:",
            f"    write gap (kill to first acknowledged write on {probe['new_writer']}) "
            f"{probe['write_gap_s']:6.2f} s; errors {probe['errors']}, unknown outcome "
            f"{probe['unknown']}",
        ]
    for row in run.stock:
        gap = "never recovered" if row["gap_s"] is None else f"{row['gap_s']:6.1f} s"
        lines.append(
            f"  {row['client']}: gap {gap} (1 s reports), restarts {row['restarts']}, "
            f"errors {row['errors']}, reconnects {row['reconnects']}"
        )
    lines.append(
        f"  acknowledged {kept.stats['acknowledged']}, acknowledged but lost "
        f"{len(kept.anomalies.get('lost-write', []))}"
    )
    return "\n".join(lines)
