"""Benchmarks that print figures (never timed assertions in tests): how long the lab
takes to come up compared with the floor, and how long image builds take."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import docker
import docker.errors

from lab.infra.docker_env import RunIdentity, remove_run
from lab.infra.errors import LabError
from lab.infra.network import create_network, mysql_host_mask
from lab.oxnode import ajp
from lab.oxnode.listeners import ajp_request
from lab.plan.topology import LabRequest
from lab.roles.db.galera import GaleraCluster, GaleraPlan
from lab.roles.db.galera_config import JOIN_MODES, GaleraSettings
from lab.roles.groupware.client import OxSession
from lab.roles.groupware.role import GROUPWARE
from lab.roles.images import build_images, db_image, groupware_images, images_for
from lab.roles.system import Lab, LabOptions, Progress

BENCH_NAME = "bench"  # its labs never take the name of a lab the operator keeps

if TYPE_CHECKING:
    from lab.chaos.runner import ChaosRun


def measure_floor(
    client: docker.DockerClient, request: LabRequest, progress: Progress, name: str = BENCH_NAME
) -> float:
    """The floor: the Galera nodes alone (from the seeded state, or the guide's bootstrap
    and serial SST joins, as the request's join mode says), on a network made before the
    clock starts; no HAProxy, no waiting for a write through it."""
    lab_plan = request.plan()
    run = RunIdentity.new(f"{name}-floor", keep=False)
    network = create_network(run)
    try:
        plan = GaleraPlan(
            settings=GaleraSettings(
                flavour=lab_plan.flavour,
                profile=lab_plan.profile,
                members=lab_plan.topology.galera_members,
                sst_method=lab_plan.sst_method,
            ),
            image=db_image(lab_plan.flavour).tag,
            join=lab_plan.join,
        )
        started = time.monotonic()
        GaleraCluster.start(run, network, mysql_host_mask(network), plan, progress)
        return time.monotonic() - started
    finally:
        remove_run(client, run.run_id)


def measure_lab(
    client: docker.DockerClient, request: LabRequest, progress: Progress, name: str = BENCH_NAME
) -> dict[str, float]:
    """One lab up and down; its timings (seconds since the start of `up`)."""
    with Lab(request, LabOptions(name=name), progress=progress, client=client) as lab:
        pass  # up and down: the timings are what is measured
    return lab.timings


@dataclass(frozen=True)
class UpFigure:
    what: str
    seconds: float
    floor: float | None = None
    detail: str = ""


def bench_up(
    client: docker.DockerClient,
    request: LabRequest,
    progress: Progress,
    repeat: int = 1,
    name: str = BENCH_NAME,
) -> str:
    """In one run, images cached: the Galera lab from the seeded state and by the guide's
    SST joins, each beside its floor (measured right before it); the GTID pair; the
    guide; the guide on Galera. With repeat > 1, the median of each."""
    flavour = request.plan().flavour
    build_images(client, [*images_for(flavour), *groupware_images()], progress)

    def up(wanted: LabRequest) -> float:
        return statistics.median(
            measure_lab(client, wanted, progress, name)["up"] for _ in range(repeat)
        )

    def floor(wanted: LabRequest) -> float:
        return statistics.median(
            measure_floor(client, wanted, progress, name) for _ in range(repeat)
        )

    figures = []
    if "galera" in flavour.topologies:
        for join in JOIN_MODES:
            galera = replace(request, topology="galera", join=join)
            galera_floor = floor(galera)
            figures.append(UpFigure(f"galera, --join {join}", up(galera), galera_floor))
    gtid = [
        measure_lab(client, replace(request, topology="gtid"), progress, name)
        for _ in range(repeat)
    ]
    figures.append(
        UpFigure(
            "gtid",
            statistics.median(t["up"] for t in gtid),
            detail=f"pair replicating (the guide's dumps incl.) "
            f"{statistics.median(t['databases_ready'] for t in gtid):.1f} s",
        )
    )
    for topology in ("guide", "guide-galera"):
        if topology in flavour.topologies:
            seconds = up(replace(request, topology=topology))
            figures.append(UpFigure(topology, seconds, detail="front end serving HTTPS"))
    return render_up(request, figures, repeat)


def render_up(request: LabRequest, figures: list[UpFigure], repeat: int) -> str:
    """The figures as a table that fits 100 columns."""
    runs = "one run each" if repeat == 1 else f"median of {repeat} runs each"
    lines = [
        f"lab up on {request.flavour}, failover profile {request.profile}, SST method "
        f"{request.sst_method};",
        f"images cached, {runs}, in this order on this host:",
        f"  {'lab':<22} {'up':>7} {'floor':>7} {'up/floor':>9}  notes",
    ]
    for f in figures:
        floor = f"{f.floor:6.1f}s" if f.floor else ""
        ratio = f"{f.seconds / f.floor:9.2f}" if f.floor else ""
        note = f.detail or ("floor: the Galera nodes alone" if f.floor else "")
        lines.append(f"  {f.what:<22} {f.seconds:6.1f}s {floor:>7} {ratio:>9}  {note}")
    lines.append("  up: `lab up` until HAProxy's write listener commits a write (galera, gtid)")
    lines.append("      or the front end serves HTTPS (guide, guide-galera)")
    return "\n".join(lines)


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
        raise LabError("folder list over AJP failed")


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
    name: str = BENCH_NAME,
) -> str:
    """Login + folder list against one groupware node, over HTTP and over AJP13."""
    gtid = replace(request, topology="gtid")
    with Lab(gtid, LabOptions(name=f"{name}-ox"), progress=progress, client=client) as lab:
        node = GROUPWARE.launch(
            lab,
        ).nodes[0]
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


def bench_failover(
    client: docker.DockerClient, request: LabRequest, progress: Progress, name: str = BENCH_NAME
) -> str:
    """Kill the Galera writer under a write workload; print the write gap for the chosen
    failover profile (`--profile ox` for OX's published settings)."""
    from lab.chaos.scenarios.galera import writer_kill

    galera = replace(request, topology="galera")
    with Lab(galera, LabOptions(name=f"{name}-failover"), progress=progress, client=client) as lab:
        run = writer_kill(lab, seed=1)
    return failover_figures(run, request.flavour)


def failover_figures(run: ChaosRun, flavour: str) -> str:
    """The writer kill's figures per client: the workload clients' probes (those naming
    a client; the run also keeps evidence probes that do not), the stock clients' rows,
    and what the no-acknowledged-write-lost check found."""
    kept = run.verdict("no-acknowledged-write-lost")
    lines = [
        f"writer kill ({flavour}, failover profile {run.profile}; clients insert "
        "side by side through HAProxy's write listener):"
    ]
    for probe in run.probes:
        if "client" not in probe:
            continue  # the gap's evidence, not a client's figure
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


MEASURED_PAGE = Path("docs/measured.md")


def record(page: Path, what: str, figures: str, context: str) -> None:
    """Write `figures` (what `lab bench WHAT` printed) into the page between the markers
    `<!-- lab bench WHAT -->` and `<!-- /lab bench WHAT -->`, replacing the last run's,
    with `context` (when, which host, which settings) above; a page without the
    section gets it appended, a page that does not exist is made."""
    start, end = f"<!-- lab bench {what} -->", f"<!-- /lab bench {what} -->"
    block = f"{start}\n`lab bench {what}`, {context}:\n\n```text\n{figures.rstrip()}\n```\n{end}"
    text = page.read_text() if page.exists() else "# Measured\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
