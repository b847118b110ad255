"""A lab: one topology's containers on one network, brought up in parallel where the
guide allows it and torn down by label. Used by the CLI (`lab up`, kept until `lab down`)
and by the pytest plugin (one lab per session and xdist worker, removed at the end)."""

from __future__ import annotations

import ipaddress
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial

import docker
import docker.errors
import pymysql
import requests
from testcontainers.core.network import Network

from lab.infra.docker_env import (
    LABEL_KEEP,
    LABEL_LAB,
    LABEL_NODE,
    LABEL_ROLE,
    LABEL_RUN,
    RunIdentity,
    connect,
    remove_run,
    sweep_stale,
)
from lab.infra.errors import FlavourUnavailable, ImageError, LabError, StartupError
from lab.infra.nodes import ComposeProject, Node
from lab.infra.testcontainers_adapter import adopted_network, docker_network
from lab.infra.waiting import poll
from lab.roles.db.galera import GaleraCluster, GaleraNode, GaleraPlan
from lab.roles.db.galera_config import GaleraSettings
from lab.roles.db.gtid import GtidNode, GtidPair, GtidPlan
from lab.roles.db.node import NotReady
from lab.roles.dblb.front import DatabaseFront, Dblb, DblbPair, HaproxySetup, floating_address
from lab.roles.dblb.haproxy_config import (
    READ_PORT,
    WRITE_PORT,
    render_gtid_haproxy_cfg,
    render_haproxy_cfg,
    render_local_haproxy_cfg,
)
from lab.roles.groupware.client import OxSession
from lab.roles.groupware.cluster import OX_NODES, USER, DbHosts, OxCluster
from lab.roles.images import (
    build_images,
    build_standin_images,
    db_image,
    dblb_image,
    groupware_images,
    images_for,
    missing_images,
    registry_unavailable_reason,
)
from lab.roles.web.front_end import CA_FILE, Member, WebNode
from lab.spec.flavours import get_flavour
from lab.spec.operator import parsers
from lab.spec.operator.placement import (
    database_files,
    groupware_files,
    haproxy_setup,
    operator_notes,
    pair_members,
    seed_blockers,
    web_files,
)
from lab.spec.operator.syntax import require_valid_syntax
from lab.spec.plan import Plan
from lab.spec.topology import TOPOLOGIES, LabRequest

Progress = Callable[[str], None]


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
        run = self.run
        assert run is not None
        plan = self.plan
        topology, flavour, profile = plan.topology, plan.flavour, plan.profile
        if create:
            self.network = create_network(run)
        network = self.network
        assert network is not None
        ox_user_host = mysql_host_mask(network)
        started = time.monotonic()
        db_files = database_files(plan)
        launch_dblb = partial(self.launch_dblb, haproxy_setup(plan, haproxy_config_for(plan)))
        # The lab's haproxy.cfg needs no database to start (its servers resolve at run
        # time), so HAProxy starts beside the databases, which follow the guide's order
        # among themselves. An operator's resolves its servers at start: it waits. The
        # groupware containers, the filestore and Apache start after the databases:
        # started beside them, the filestore-outage scenario failed after the guide's
        # balancer tests (uploads back only after 101 s), and passed with this order.
        early = plan.dblb_nodes and plan.file("dblb", "haproxy_cfg") is None
        with ThreadPoolExecutor(max_workers=1) as pool:
            dblb = pool.submit(launch_dblb) if early else None
            if topology.galera_members:
                galera_plan = GaleraPlan(
                    settings=GaleraSettings(
                        flavour=flavour,
                        profile=profile,
                        members=topology.galera_members,
                        sst_method=plan.sst_method,
                        provider_path=self.options.provider_path,
                    ),
                    image=db_image(flavour).tag,
                    create_sst_user=self.options.create_sst_user,
                    files=db_files,
                    join=self.join_mode(),
                )
                self.galera = GaleraCluster.start(
                    run, network, ox_user_host, galera_plan, self.progress
                )
            if topology.gtid_pair:
                master, slave = topology.gtid_pair
                gtid_plan = GtidPlan(
                    flavour, db_image(flavour).tag, master, slave, self.options.max_lag_s, db_files
                )
                self.gtid = GtidPair.start(run, network, ox_user_host, gtid_plan, self.progress)
            self.timings["databases_ready"] = time.monotonic() - started
            if dblb:
                self.dblb = dblb.result()
            elif plan.dblb_nodes:
                self.dblb = launch_dblb()
            if self.dblb:
                self.wait_writable()
                self.timings["dblb_serving_writes"] = time.monotonic() - started
            if topology.groupware:
                self.start_groupware()
                self.timings["groupware_ready"] = time.monotonic() - started
                self.start_web(self.options.front_end)
                self.timings["web_ready"] = time.monotonic() - started

    def launch_dblb(self, setup: HaproxySetup) -> DatabaseFront:
        """HAProxy in front of the databases: one node, or (`--dblb keepalived`) the pair
        with the floating address on the lab network's highest host address."""
        assert self.run and self.network
        image = dblb_image(self.plan.flavour).tag
        if self.plan.dblb != "keepalived":
            return Dblb.launch(self.run, self.network, image, setup)
        subnet = ipaddress.ip_network(network_subnet(self.network))
        vip = floating_address(str(subnet))
        run, network = self.run, self.network
        with ThreadPoolExecutor(max_workers=2) as pool:
            members = list(
                pool.map(
                    lambda member: Dblb.launch(run, network, image, setup, member),
                    pair_members(self.plan, vip, subnet.prefixlen),
                )
            )
        return DblbPair(members, vip)

    def haproxies(self) -> list[Dblb]:
        """Every HAProxy instance: dblb, the pair's members, or the groupware nodes' own."""
        if self.dblb:
            return self.dblb.nodes
        if self.request.dblb != "local":
            return []
        if self.ox:
            return [Dblb(node.container) for node in self.ox.nodes]
        if self.client and self.run:  # a kept lab found again by its labels
            labels = [f"{LABEL_RUN}={self.run.run_id}", f"{LABEL_ROLE}=oxnode"]
            found = self.client.containers.list(filters={"label": labels})
            return sorted((Dblb(c) for c in found), key=lambda n: n.name)
        return []

    def join_mode(self) -> str:
        """The plan's join mode, unless the operator's files rule the seeded state out:
        then the guide's path, saying why."""
        blockers = seed_blockers(self.plan) if self.plan.join == "seeded" else []
        for blocker in blockers:
            self.progress(f"{blocker}: the nodes join by SST (the guide's path), not seeded")
        return "sst" if blockers else self.plan.join

    def start_groupware(
        self, clustering: bool = True, replication_monitor: bool = True
    ) -> OxCluster:
        """oxgw01/oxgw02 on this lab's network, set up by the guide's sequence, with the
        databases as the guide registers them (GTID: master and slave; Galera: HAProxy's
        write and read listeners) and the NFS filestore."""
        return self.set_up_groupware(self.launch_groupware(clustering), replication_monitor)

    def launch_groupware(self, clustering: bool = True) -> OxCluster:
        """The groupware nodes' and the filestore's containers (no database needed)."""
        assert self.client and self.run and self.network
        exports = self.plan.file("filestore", "exports")
        local = self.plan.dblb == "local"
        return OxCluster.launch(
            self.client,
            self.run,
            self.network,
            clustering=clustering,
            exports=parsers.exports(exports.text) if exports else (),
            host_map=self.plan.host_map(),
            haproxy_cfg=haproxy_config_for(self.plan) if local else None,
        )

    def set_up_groupware(self, cluster: OxCluster, replication_monitor: bool = True) -> OxCluster:
        """The guide's admin sequence on launched nodes, once the databases serve."""

        def listeners(host: str) -> DbHosts:
            return DbHosts(f"{host}:{WRITE_PORT}", f"{host}:{READ_PORT}")

        if self.plan.dblb == "local":  # the guide: "OX is then connecting to the local HAproxy"
            hosts = listeners("127.0.0.1")
            # each node's HAProxy started with its container, before the databases
            # served: its writer is UP only after `rise` checks, and the guide's first
            # admin command connects through it
            for node in cluster.nodes:
                self.wait_writable(Dblb(node.container))
        elif self.plan.dblb == "keepalived" and self.dblb:  # the pair's floating address
            hosts = listeners(self.dblb.ip)
        elif self.gtid:  # the guide registers master and slave themselves
            hosts = DbHosts(self.gtid.master.name, self.gtid.slave.name)
        else:
            hosts = listeners("dblb")
        cluster.guide_setup(hosts, replication_monitor, groupware_files(self.plan), self.progress)
        self.ox = cluster
        if self.gtid:
            self.gtid.wait_caught_up()  # the admin commands' writes reach the slave too
        return cluster

    def start_web(self, protocol: str = "ajp") -> WebNode:
        """The guide's Apache front end over the groupware nodes; HTTPS from the run's CA,
        balancer-manager for the Docker host (the lab's admin) only. Apache resolves its
        members when it first forwards to them, so it may start before they serve."""
        assert self.client and self.run and self.network
        members = [Member(name, route) for name, route in OX_NODES]
        gateway = _gateway(self.network)
        self.web = WebNode.launch(
            self.client,
            self.run,
            self.network,
            members,
            [gateway],
            self.run.ca_file(),
            protocol,
            web_files(self.plan),
            fail_on_503=self.plan.dblb == "local",
        )
        return self.web

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
        """What keeps the lab from its healthy steady state (empty when healthy): every
        node passes the guide's verification table and HAProxy has every server UP."""
        problems: list[str] = []
        if self.galera:
            size = len(self.galera.nodes)
            for node in self.galera.nodes:
                try:
                    problems += [f"{node.name}: {p}" for p in node.verification_failures(size)]
                except NotReady as exc:
                    problems.append(str(exc))
        if self.gtid:
            try:
                status = self.gtid.slave.replica_status() or {}
            except NotReady as exc:
                status = {"error": str(exc)}
            running = {
                k: v for k, v in status.items() if k.endswith(("_IO_Running", "_SQL_Running"))
            }
            if list(running.values()) != ["Yes", "Yes"]:
                problems.append(f"{self.gtid.slave.name}: replication threads {running or status}")
        for haproxy in self.haproxies():
            problems += [
                f"HAProxy {b.listener}/{b.server} on {haproxy.name} is {b.status}"
                for b in haproxy.backends()
                if b.status != "UP"
                and not (self.request.dblb == "local" and b.listener == "db-write")
            ]
        if isinstance(self.dblb, DblbPair):
            holders = [m.name for m in self.dblb.holders()]
            if len(holders) != 1:
                problems.append(f"{self.dblb.vip} is held by {' and '.join(holders) or 'nobody'}")
        return problems

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
        )

    def wait_healthy(self, timeout: float = 90.0) -> None:
        """Poll until health_problems() is empty; the error lists what still is not."""
        last: list[str] = []

        def healthy() -> bool:
            nonlocal last
            last = self.health_problems()
            return not last

        try:
            poll(
                healthy,
                timeout=timeout,
                what="the lab to be healthy",
                interval=0.3,
                retry_on=(requests.RequestException,),
            )
        except StartupError as exc:
            raise StartupError(f"{exc}: " + "; ".join(last)) from None

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
        )
        lab = cls(request, LabOptions(name=name, keep=True), client=client)
        lab.run = RunIdentity(run_id, name, True)
        galera = sorted(
            (GaleraNode(c) for c in containers if c.labels.get(LABEL_ROLE) == "galera"),
            key=lambda n: n.name,
        )
        lab.galera = GaleraCluster(galera) if galera else None
        gtid = {
            c.labels.get(LABEL_NODE): c for c in containers if c.labels.get(LABEL_ROLE) == "gtid"
        }
        topology = TOPOLOGIES.get(request.topology)
        if gtid and topology and topology.gtid_pair:
            dialect = get_flavour(request.flavour).dialect
            master, slave = (GtidNode(gtid[n], dialect) for n in topology.gtid_pair)
            lab.gtid = GtidPair(master, slave)
        for c in containers:
            if c.labels.get(LABEL_ROLE) == "web":
                # from the container, always: a file left by an earlier lab of the same
                # name (a compose lab's run id repeats) would name another CA
                lab.web = WebNode(c, lab.run.ca_file())
                ca = lab.web.exec(["cat", CA_FILE]).output
                with open(lab.web.ca_path, "w", encoding="ascii") as f:
                    f.write(ca)
        dblb = sorted(
            (Dblb(c) for c in containers if c.labels.get(LABEL_ROLE) == "dblb"),
            key=lambda n: n.name,
        )
        if len(dblb) > 1:
            network = client.networks.list(filters={"label": f"{LABEL_RUN}={run_id}"})
            subnet = network[0].attrs["IPAM"]["Config"][0]["Subnet"] if network else ""
            lab.dblb = DblbPair(dblb, floating_address(subnet))
        else:
            lab.dblb = dblb[0] if dblb else None
        return lab

    def down(self) -> None:
        """Remove everything this lab's run created (by label), and nothing else."""
        if self.client is not None and self.run is not None:
            remove_run(self.client, self.run.run_id)  # the CA file too

    def nodes(self) -> list[Node]:
        return [
            *(self.galera.nodes if self.galera else []),
            *(self.gtid.nodes if self.gtid else []),
            *(self.dblb.nodes if self.dblb else []),
            *(self.ox.nodes if self.ox else []),
            *([self.ox.filestore] if self.ox and self.ox.filestore else []),
            *([self.web] if self.web else []),
        ]

    def logs(self, tail: int = 200) -> dict[str, str]:
        return {node.name: node.logs(tail=tail) for node in self.nodes()}

    def __enter__(self) -> Lab:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()


def haproxy_config_for(plan: Plan) -> str:
    """The lab's haproxy.cfg for the plan's topology, failover profile and load balancer
    option (`local`: one HAProxy per groupware node, the writer chosen by the cluster)."""
    if plan.topology.gtid_pair:
        return render_gtid_haproxy_cfg(*plan.topology.gtid_pair, plan.profile)
    if plan.dblb == "local":
        return render_local_haproxy_cfg(plan.topology.galera_members, plan.profile)
    return render_haproxy_cfg(plan.topology.galera_members, plan.profile)


def find_lab_runs(client: docker.DockerClient, name: str) -> set[str]:
    """Run ids of kept labs called `name` that still have resources."""
    filters = {"label": [f"{LABEL_LAB}={name}", f"{LABEL_KEEP}=1"]}
    found = client.containers.list(all=True, filters=filters)
    found += client.networks.list(filters=filters)
    return {
        r.attrs.get("Labels", r.attrs.get("Config", {}).get("Labels", {}))[LABEL_RUN] for r in found
    }


def _gateway(network: Network) -> str:
    net = docker_network(network)
    return str(net.attrs["IPAM"]["Config"][0].get("Gateway", "127.0.0.1"))


def create_network(run: RunIdentity) -> Network:
    """The lab's own bridge network, labelled like its containers."""
    network = Network(docker_network_kw={"labels": run.labels()})
    network.name = run.resource_name("net")
    return network.create()


def network_subnet(network: Network) -> str:
    """The lab network's subnet as Docker assigned it ('172.18.0.0/16')."""
    return str(docker_network(network).attrs["IPAM"]["Config"][0]["Subnet"])


def mysql_host_mask(network: Network) -> str:
    """The lab network as a MySQL host pattern ('172.18.0.0/255.255.0.0'): the OX user
    may connect from the lab's own hosts (and the Docker host's gateway), nowhere else."""
    subnet = ipaddress.ip_network(network_subnet(network))
    return f"{subnet.network_address}/{subnet.netmask}"
