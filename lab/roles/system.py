"""A lab: one topology's containers on one network, brought up in parallel where the
guide allows it and torn down by label. Used by the CLI (`lab up`, kept until `lab down`)
and by the pytest plugin (one lab per session and xdist worker, removed at the end)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import docker
import docker.errors
import pymysql
import requests
from testcontainers.core.network import Network

from lab.infra.docker_env import (
    LABEL_KEEP,
    LABEL_LAB,
    LABEL_RUN,
    RunIdentity,
    connect,
    remove_run,
    sweep_stale,
)
from lab.infra.errors import FlavourUnavailable, ImageError, LabError
from lab.infra.network import create_network
from lab.infra.nodes import ComposeProject, Node
from lab.infra.testcontainers_adapter import adopted_network
from lab.infra.waiting import poll
from lab.operator.placement import (
    operator_notes,
)
from lab.operator.syntax import require_valid_syntax
from lab.plan.resolved import Plan
from lab.plan.topology import LabRequest
from lab.roles.db.galera import GaleraCluster
from lab.roles.db.gtid import GtidPair
from lab.roles.db.role import DATABASES
from lab.roles.db.storage import DEFAULT_STORAGE, STORAGE_LABEL
from lab.roles.dblb.front import DatabaseFront
from lab.roles.dblb.role import LOAD_BALANCER
from lab.roles.groupware.client import OxError, OxSession
from lab.roles.groupware.cluster import USER, OxCluster
from lab.roles.groupware.role import GROUPWARE
from lab.roles.health import wait_healthy
from lab.roles.images import (
    build_images,
    build_standin_images,
    groupware_images,
    images_for,
    missing_images,
    registry_unavailable_reason,
)
from lab.roles.role import Role
from lab.roles.web.front_end import WebNode
from lab.roles.web.role import WEB

Progress = Callable[[str], None]
# the guide's roles in its order: each launches, attaches, reports problems and nodes
ROLES: tuple[Role, ...] = (DATABASES, LOAD_BALANCER, GROUPWARE, WEB)


def stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class LabOptions:
    """Knobs beyond the request that tests turn (the guide's common mistakes)."""

    name: str = "default"
    keep: bool = False  # True for `lab up`: survives the process, removed by `lab down`
    build_missing_images: bool = True
    create_sst_user: bool = True
    provider_path: str | None = None
    max_lag_s: float = 10.0  # GTID: replcheck takes a slave lagging more out of reads
    front_end: str = "ajp"  # the guide's mod_proxy_ajp, or "http" (mod_proxy_http)
    # role containers from their stand-in images, SSH beside the service (lab/verify/standin.py)
    standin_hosts: bool = False
    # set by a compose file's setup service: configure its containers, create none
    compose: ComposeProject | None = None


@dataclass
class Lab:
    request: LabRequest
    options: LabOptions = field(default_factory=LabOptions)
    progress: Progress = stderr_progress
    client: docker.DockerClient | None = None
    run: RunIdentity | None = None
    galera: GaleraCluster | None = None
    gtid: GtidPair | None = None
    dblb: DatabaseFront | None = None  # one HAProxy or the keepalived pair
    timings: dict[str, float] = field(default_factory=dict)
    network: Network | None = None
    ox: OxCluster | None = None
    web: WebNode | None = None

    @cached_property
    def plan(self) -> Plan:
        """The request resolved once (raises ConfigError before Docker is touched)."""
        return self.request.plan()

    # -- bringing up ---------------------------------------------------------------------

    def up(self) -> Lab:
        """Validate, sweep stale runs, build missing images, then start the topology.

        Anything half-started is removed before the error propagates.
        """
        plan = self.plan
        notes = operator_notes(plan)  # ConfigError if their files keep the cluster from forming
        client = self.client = self.client or connect()
        compose = self.options.compose
        if compose:
            return self._set_up_compose(compose)
        sweep_stale(client)
        if self.options.keep and find_lab_runs(client, self.options.name):
            raise LabError(
                f"lab {self.options.name!r} is already up; `lab status` shows it, "
                "`lab down` removes it"
            )
        self._ensure_images(client)
        require_valid_syntax(plan, client)  # the operator's files, by the real tools
        for note in notes:
            self.progress(note)
        self.run = RunIdentity.new(
            self.options.name,
            self.options.keep,
            standin=self.options.standin_hosts,
            aliases=tuple(
                (node, alias) for alias, node in plan.host_map().items() if alias != node
            ),
            topology=plan.topology.name,
            flavour=plan.flavour.name,
            profile=plan.profile.name,
            sst=plan.sst_method,
            join=plan.join,
            dblb=plan.dblb,
            storage=plan.storage,
            config=str(plan.project.path) if plan.project else "",
            files=json.dumps(plan.records()),  # `lab status` shows them per node
        )
        started = time.monotonic()
        try:
            self._start_topology()
        except BaseException:
            self.down()
            raise
        self.timings["up"] = time.monotonic() - started
        return self

    def _set_up_compose(self, compose: ComposeProject) -> Lab:
        """The same steps on the containers a compose file started (lab/compose.py); on
        failure they stay for `docker-compose logs`, as compose's own containers do."""
        assert self.client is not None
        network = self.client.networks.get(compose.network)
        labels = network.attrs.get("Labels") or {}
        self.run = RunIdentity(labels[LABEL_RUN], labels[LABEL_LAB], True, compose=compose)
        self.network = adopted_network(network)
        started = time.monotonic()
        self._start_topology(create=False)
        self.timings["up"] = time.monotonic() - started
        return self

    def _ensure_images(self, client: docker.DockerClient) -> None:
        """Build what is missing or stale (an up-to-date image costs one API call)."""
        flavour = self.plan.flavour
        reason = registry_unavailable_reason(client, flavour)
        if reason:
            raise FlavourUnavailable(reason)
        specs = images_for(flavour)
        if self.plan.topology.groupware:
            specs += groupware_images()
        if self.options.standin_hosts:
            build_standin_images(client, specs, self.progress)
            return
        if self.options.build_missing_images:
            build_images(client, specs, self.progress)
            return
        missing = missing_images(client, specs)
        if missing:
            raise ImageError(f"missing images: {', '.join(missing)}; run `lab images build`")

    def _start_topology(self, create: bool = True) -> None:
        """The roles in the guide's order: the databases (HAProxy beside them where it
        can start without them), the load balancer serving writes, the groupware nodes
        with their filestore, then Apache."""
        run = self.run
        assert run is not None
        plan = self.plan
        if create:
            self.network = create_network(run)
        started = time.monotonic()
        # The lab's haproxy.cfg needs no database to start (its servers resolve at run
        # time), so HAProxy starts beside the databases, which follow the guide's order
        # among themselves. An operator's resolves its servers at start: it waits. The
        # groupware containers, the filestore and Apache start after the databases:
        # started beside them, the filestore-outage scenario failed after the guide's
        # balancer tests (uploads back only after 101 s), and passed with this order.
        early = plan.dblb_nodes and plan.file("dblb", "haproxy_cfg") is None
        with ThreadPoolExecutor(max_workers=1) as pool:
            dblb = pool.submit(LOAD_BALANCER.launch, self) if early else None
            DATABASES.launch(self)
            self.timings["databases_ready"] = time.monotonic() - started
            if dblb:
                self.dblb = dblb.result()
            elif plan.dblb_nodes:
                self.dblb = LOAD_BALANCER.launch(self)
            if self.dblb:
                self.wait_writable()
                self.timings["dblb_serving_writes"] = time.monotonic() - started
            if plan.topology.groupware:
                GROUPWARE.launch(self)
                self.timings["groupware_ready"] = time.monotonic() - started
                WEB.launch(self, self.options.front_end)
                self.timings["web_ready"] = time.monotonic() - started

    def wait_writable(self, front: DatabaseFront | None = None, timeout: float = 60.0) -> str:
        """Poll until a write through the write listener of `front` (default: the lab's
        dblb) commits; returns the writer."""
        dblb = front or self.dblb
        assert dblb is not None

        def write() -> str:
            with dblb.connect(write=True, timeout=2) as conn, conn.cursor() as cur:
                cur.execute("CREATE DATABASE IF NOT EXISTS oxlab_ready")
                cur.execute("SELECT @@hostname")
                return str(cur.fetchone()[0])

        return poll(
            write,
            timeout=timeout,
            what="HAProxy's write listener to accept writes",
            retry_on=(pymysql.err.MySQLError, OSError),
        )

    def health_problems(self) -> list[str]:
        """What keeps the lab from its healthy steady state (empty when healthy), role by
        role: every database node passes the guide's verification table, HAProxy has
        every server UP."""
        return [problem for role in ROLES for problem in role.problems(self)]

    def balance_front_end(self, timeout: float = 30.0) -> None:
        """Both groupware nodes serving and Apache handing new sessions to both: a node
        an earlier test or chaos run stopped or killed stays in Err for the guide's
        retry=60 seconds, so whatever measures routing starts from here."""
        assert self.ox and self.web
        ox, web = self.ox, self.web
        for node in ox.nodes:
            node.wait_serving()

        def routes_to_both() -> bool:
            # reset on every try: a worker Apache's pooled AJP connection to a node that
            # was restarted puts back into Err would otherwise stay there for retry=60
            web.reset_balancer()
            routes = {
                OxSession.login(
                    web.https_url, USER["name"], USER["password"], verify=web.ca_path
                ).route
                for _ in range(6)
            }
            return routes == {node.route for node in ox.nodes}

        poll(
            routes_to_both,
            timeout=timeout,
            what="Apache to route new sessions to both groupware nodes",
            # a login just after a fault can meet a pooled connection the fault broke
            # (OX's DBP-0001) or a worker Apache has not retried yet: not yet, not failed
            retry_on=(OxError, requests.RequestException),
        )

    def problems_now(self) -> list[str]:
        """health_problems(), with HAProxy's stats page not answering as one more problem
        instead of an exception: what a wait polls and what a stalled run reports."""
        try:
            return self.health_problems()
        except requests.RequestException as exc:  # a stats page not answering (yet)
            return [f"HAProxy's stats page: {exc}"]

    def describe_health(self) -> str:
        """One line for an error message: the problems found right now, or healthy."""
        return "the lab: " + ("; ".join(self.problems_now()) or "healthy")

    def wait_healthy(self, timeout: float = 90.0, not_before: float = 0.0) -> None:
        """Poll until health_problems() is empty (seen at `not_before` or later); the
        error lists what still is not (roles/health.py: the wait the hosts get too)."""
        wait_healthy(
            self.problems_now, timeout=timeout, what="the lab to be healthy", not_before=not_before
        )

    # -- finding again, tearing down ------------------------------------------------------

    @classmethod
    def attach(cls, name: str, client: docker.DockerClient | None = None) -> Lab:
        """The kept lab called `name` (started by `lab up`), rebuilt from its labels."""
        client = client or connect()
        runs = find_lab_runs(client, name)
        if not runs:
            raise LabError(f"no lab {name!r} is up; `lab up` starts one")
        run_id = sorted(runs)[-1]
        containers = client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})
        labels = containers[0].labels if containers else {}
        request = LabRequest(
            topology=labels.get("ox-lab.topology", "galera"),
            flavour=labels.get("ox-lab.flavour", "?"),
            profile=labels.get("ox-lab.profile", "?"),
            sst_method=labels.get("ox-lab.sst", "?"),
            join=labels.get("ox-lab.join", "?"),
            dblb=labels.get("ox-lab.dblb", "single"),
            storage=labels.get(STORAGE_LABEL, DEFAULT_STORAGE),
        )
        lab = cls(request, LabOptions(name=name, keep=True), client=client)
        lab.run = RunIdentity(run_id, name, True)
        for role in ROLES:
            role.attach(lab, containers)
        return lab

    def down(self) -> None:
        """Remove everything this lab's run created (by label), and nothing else."""
        if self.client is not None and self.run is not None:
            remove_run(self.client, self.run.run_id)  # the CA file too

    def nodes(self) -> list[Node]:
        return [node for role in ROLES for node in role.nodes(self)]

    def logs(self, tail: int = 200) -> dict[str, str]:
        return {node.name: node.logs(tail=tail) for node in self.nodes()}

    def __enter__(self) -> Lab:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()


def find_lab_runs(client: docker.DockerClient, name: str) -> set[str]:
    """Run ids of kept labs called `name` that still have resources."""
    filters = {"label": [f"{LABEL_LAB}={name}", f"{LABEL_KEEP}=1"]}
    found = client.containers.list(all=True, filters=filters)
    found += client.networks.list(filters=filters)
    return {
        r.attrs.get("Labels", r.attrs.get("Config", {}).get("Labels", {}))[LABEL_RUN] for r in found
    }
