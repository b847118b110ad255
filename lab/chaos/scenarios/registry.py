"""The registry of chaos scenarios: the CLI's choices, `lab chaos list`, the chaos tests
and docs/chaos.md's scenario table all come from (or are checked against) it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from lab.chaos.history import History
from lab.chaos.nemesis.hosts import FaultJournal
from lab.chaos.runner import (
    CONTAINERS,
    SSH,
    ChaosRun,
    ClientChoice,
    clients_chosen,
    record_stock,
    settle,
    stock_clients,
    stock_running,
    sysbench_chosen,
)
from lab.chaos.scenarios import hosts
from lab.chaos.scenarios.dblb import (
    dblb_kill,
    dblb_local_kill,
    dblb_local_writer,
    dblb_pair_kill,
    dblb_vrrp_cut,
    dns_round_robin,
    jdbc_round_robin,
)
from lab.chaos.scenarios.galera import (
    STORM_CONNECTIONS,
    STORM_NODES,
    galera_crash,
    galera_crash_flush0,
    galera_nemesis,
    galera_partition,
    health_truth,
    pause,
    pool_idle,
    reader_kill,
    reconnect_storm,
    writer_kill,
)
from lab.chaos.scenarios.groupware import filestore_outage, oxgw_kill, rolling_restart
from lab.chaos.scenarios.gtid import gtid_master_kill, lagging_slave
from lab.infra.errors import LabError
from lab.operator.lint import explain
from lab.roles.db.consistency import CHECKSUMS, node_checksums
from lab.roles.db.node import DbNode, NotReady
from lab.roles.health import SETTLE_BEFORE_FAULT_S
from lab.roles.system import Lab
from lab.verify.target import Target


@dataclass(frozen=True)
class Scenario:
    """One chaos scenario: the CLI's choices, `lab chaos list`, the chaos tests and the
    docs/chaos.md's scenario table all come from (or are checked against) this registry."""

    name: str
    topology: str
    fault: str
    proves: str
    run: Callable[[Lab, int], ChaosRun]
    dblb: str = "single"  # the load balancer option its lab runs with (`--dblb`)
    # lint rules whose findings name the operator's settings behind this scenario's figure
    explained_by: tuple[str, ...] = ()
    runs_sysbench: bool = False  # it runs sysbench itself, whatever --client says
    # the same scenario on the operator's hosts over SSH (None: its faults need Docker),
    # and the roles it needs there beyond the Galera layout's
    on_hosts: Callable[[Target, int, FaultJournal], ChaosRun] | None = None
    hosts_need: tuple[str, ...] = ()

    @property
    def transports(self) -> tuple[str, ...]:
        """What its faults can travel by: the lab's containers, and SSH hosts if it says so."""
        return (CONTAINERS, SSH) if self.on_hosts else (CONTAINERS,)

    @property
    def lab(self) -> str:
        """Its lab as a person types it: the topology, and the --dblb option if not single."""
        return self.topology + ("" if self.dblb == "single" else f" --dblb {self.dblb}")


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "writer-kill",
            "galera",
            "SIGKILL of the Galera node holding HAProxy's write role",
            "writes move to a backup, nothing acknowledged is lost; the write gap per "
            "failover profile",
            writer_kill,
            explained_by=("HA004", "HA005"),
            runs_sysbench=True,
            on_hosts=hosts.writer_kill,
        ),
        Scenario(
            "pause",
            "galera",
            "docker pause (freeze) of a non-writer Galera node past the eviction timeout",
            "the frozen node is evicted; writes stall at most until then and resume; "
            "nothing acknowledged is lost",
            pause,
            explained_by=("HA005",),
            on_hosts=hosts.freeze,
        ),
        Scenario(
            "pool-idle",
            "galera",
            "none: OX's pooled connections sit idle for maxIdleTime less 5 s",
            "every pooled connection still answers: the balancer keeps idle connections "
            "as long as OX's pool does",
            pool_idle,
            explained_by=("HA001",),
        ),
        Scenario(
            "reader-kill",
            "galera",
            "SIGKILL of a Galera node that serves reads, not writes",
            "every reader reads again; the worst read gap per client kind (OX's pool, the "
            "aggressive client) through the read listener",
            reader_kill,
            explained_by=("HA004", "HA005"),
        ),
        Scenario(
            "reconnect-storm",
            "galera",
            f"SIGKILL of the Galera writer under {STORM_NODES} OX pools of "
            f"{STORM_CONNECTIONS} busy connections each",
            "every pooled client writes again on a survivor, nothing acknowledged is lost; "
            "lab status, HAProxy's stats and clustercheck answer within 5 s throughout; "
            "aborted connects, queued sessions and connection headroom measured",
            reconnect_storm,
            explained_by=("HA004", "HA005"),
        ),
        Scenario(
            "galera-nemesis",
            "galera",
            "seeded random kills, pauses and partitions of Galera nodes, one at a time",
            "list-append: no G0/G1a/G1b/G1c, garbage or internally inconsistent read, "
            "nothing acknowledged lost; G-single, G2-item, lost updates, stale reads "
            "reported as findings",
            galera_nemesis,
        ),
        Scenario(
            "partition",
            "galera",
            "one Galera node cut off from the other two (iptables)",
            "the minority goes non-Primary, refuses writes, leaves HAProxy's rotation and "
            "rejoins by IST; the bank's total never changes",
            galera_partition,
            on_hosts=hosts.partition,
        ),
        Scenario(
            "health-truth",
            "galera",
            "desync, SIGSTOP of mysqld, docker pause",
            "every clustercheck 200 can write; a stall caused by a frozen peer (until it "
            "is evicted, and while it is seen rejoining) is reported as stalled-by-peer, "
            "a write the node's own freeze caught in flight as frozen-mid-write",
            health_truth,
            explained_by=("HA003",),
        ),
        Scenario(
            "dblb-kill",
            "galera",
            "SIGKILL of HAProxy",
            "measured as the single point of failure it is: nothing is served until it "
            "is back; the bank's total never changes",
            dblb_kill,
        ),
        Scenario(
            "dblb-pair-kill",
            "galera",
            "SIGKILL of the active HAProxy of the keepalived pair",
            "keepalived moves the floating address to the other HAProxy; the write gap "
            "per client and the takeover time are measured; the bank's total never changes",
            dblb_pair_kill,
            dblb="keepalived",
        ),
        Scenario(
            "dblb-vrrp-cut",
            "galera",
            "VRRP between the pair cut (iptables drops protocol 112 on the standby)",
            "report-only: both HAProxies hold the floating address and the lab reports "
            "the split brain (one-address-holder fails); one holder again after the heal",
            dblb_vrrp_cut,
            dblb="keepalived",
        ),
        Scenario(
            "dns-round-robin",
            "galera",
            "the HAProxy holding the floating address frozen (docker pause); a stock "
            "client connects through a DNS name with both HAProxies' addresses",
            "report-only: the floating address serves again after keepalived's takeover "
            "while the name keeps handing out the dead address (why the guide rules DNS "
            "round robin out)",
            dns_round_robin,
            dblb="keepalived",
        ),
        Scenario(
            "jdbc-round-robin",
            "galera",
            "one Galera node cut off from the others (iptables); a stock client takes the "
            "nodes in turn, one per connect, as a JDBC driver's host list does",
            "report-only: HAProxy's read listener serves on while the rotation keeps "
            "reaching the non-Primary node (why the guide advises against the driver's "
            "round robin: no health checks)",
            jdbc_round_robin,
        ),
        Scenario(
            "dblb-local-writer",
            "guide-galera",
            "SIGKILL of the Galera writer, then its return, under inserts through both "
            "groupware nodes' own HAProxies",
            "both instances follow clustercheck's one writer away and back; never two "
            "writers at once (one-writer), nothing acknowledged is lost",
            dblb_local_writer,
            dblb="local",
        ),
        Scenario(
            "dblb-local-kill",
            "guide-galera",
            "SIGKILL of oxgw01's own HAProxy under browsers through Apache",
            "only oxgw01's users see errors (OX's DBP-0001, HTTP 503) and Apache's balancer "
            "(failonstatus=503) moves them to oxgw02; no session lost, files intact",
            dblb_local_kill,
            dblb="local",
        ),
        Scenario(
            "galera-crash",
            "galera",
            "SIGKILL of all three Galera nodes at once",
            "recovery bootstraps from the highest seqno; with "
            "innodb_flush_log_at_trx_commit=1 nothing acknowledged is lost",
            galera_crash,
            explained_by=("DB001",),
        ),
        Scenario(
            "galera-crash-flush0",
            "galera",
            "the same with innodb_flush_log_at_trx_commit=0",
            "report-only: nodes recover to different seqnos and the lost acknowledged "
            "writes are listed",
            galera_crash_flush0,
        ),
        Scenario(
            "gtid-master-kill",
            "gtid",
            "SIGKILL of the GTID master, then `lab promote`",
            "reads go on from the slave; writes resume on the promoted slave; nothing "
            "acknowledged is lost outside the replication window",
            gtid_master_kill,
        ),
        Scenario(
            "oxgw-kill",
            "guide",
            "SIGKILL of oxgw01 under browsers through Apache",
            "users move to oxgw02 and stay logged in; files download byte-identical; no "
            "metadata without its file",
            oxgw_kill,
        ),
        Scenario(
            "rolling-restart",
            "guide",
            "oxgw01 restarted, then oxgw02 once oxgw01 serves",
            "no session lost, files intact, read-your-writes",
            rolling_restart,
        ),
        Scenario(
            "lagging-slave",
            "guide",
            "the GTID slave stops applying for 8 s under browsers",
            "read-your-writes: OX's replication monitor sends a user's reads to the "
            "master while the slave lags",
            lagging_slave,
            explained_by=("OX001",),
        ),
        Scenario(
            "filestore-outage",
            "guide",
            "the NFS server stopped",
            "file operations fail with OX's FLS error, folders keep working, uploads "
            "work again after the heal; no partial or orphan file once every node has "
            "settled (a broken upload's partial file is removed when the server answers)",
            filestore_outage,
            on_hosts=hosts.filestore_outage,
            hosts_need=("web", "groupware", "filestore"),
        ),
    )
}


def run_registered(name: str, lab: Lab, seed: int, clients: ClientChoice | None = None) -> ChaosRun:
    """Run scenario `name` on `lab` with the chosen clients (None: those chosen around
    the call, e.g. by pytest's --client; the CLI and the chaos tests alike); on
    the operator's files, the run names their settings that lint relates to it."""
    scenario = SCENARIOS[name]
    with contextlib.ExitStack() as chosen:
        if clients is not None:
            chosen.enter_context(clients_chosen(clients))
        # sysbench beside the scenario's own clients, when chosen (writer-kill always
        # runs it itself, as one of the clients whose gap it compares)
        stock = stock_clients(lab) if sysbench_chosen() and not scenario.runs_sysbench else []
        with stock_running(stock):
            run = scenario.run(lab, seed)
        record_stock(run, stock)
    if lab.galera or lab.gtid:
        checksum_nodes(lab, run.history)
        run.judge("nodes-consistent")
    run.explanations = explain(lab.plan, scenario.explained_by)
    return run


def run_on_hosts(
    name: str,
    target: Target,
    seed: int,
    journal: FaultJournal,
    say: Callable[[str], None],
    settle_s: float = SETTLE_BEFORE_FAULT_S,
) -> ChaosRun:
    """Scenario `name` on the operator's hosts over SSH: refused where its faults need
    Docker, the layout is not Galera's or a role it needs has no hosts; then prepared
    (hosts answer, leftovers healed, cluster healthy, a passing problem waited out for
    `settle_s`) and run."""
    scenario = SCENARIOS[name]
    if scenario.on_hosts is None:
        on_ssh = ", ".join(s.name for s in SCENARIOS.values() if s.on_hosts)
        raise LabError(
            f"scenario {name!r} needs faults an SSH host does not offer; on hosts: {on_ssh}"
        )
    if target.layout != "galera":
        raise LabError(
            f"{name} on hosts needs the Galera layout; {target.source} is {target.layout}"
        )
    missing = [r for r in scenario.hosts_need if not target.role(r)]
    if missing:
        raise LabError(
            f"{name} on hosts needs hosts in {', '.join(missing)}; {target.source} has none"
        )
    hosts.prepared(target, journal, say, settle_s)
    return scenario.on_hosts(target, seed, journal)


def checksum_nodes(lab: Lab, history: History) -> None:
    """After the scenario, the chunk checksums of every database node that should hold
    the same data: all Galera nodes; the GTID master and its slave once caught up (a
    slave the scenario detached, e.g. by promotion, is not compared)."""
    nodes: list[DbNode] = []
    if lab.galera:
        settle(lab, history)
        nodes = list(lab.galera.nodes)
    elif lab.gtid:
        try:
            replicating = lab.gtid.slave.replica_status() is not None
        except NotReady:
            replicating = False
        if replicating:
            lab.gtid.wait_caught_up()
            nodes = [lab.gtid.master, lab.gtid.slave]
        else:  # promoted: the old master is out of rotation until rebuilt by hand
            nodes = [lab.gtid.slave]
    sums = {n.name: node_checksums(n, galera=lab.galera is not None) for n in nodes}
    history.probe(CHECKSUMS, nodes=sums)


def markdown_table() -> str:
    """docs/chaos.md's scenario table (a unit test keeps the page equal to it)."""
    rows = ["| scenario | topology | runs on | fault | what it proves |", "|---|---|---|---|---|"]
    rows += [
        f"| `{s.name}` | {s.lab} | {', '.join(s.transports)} | {s.fault} | {s.proves} |"
        for s in SCENARIOS.values()
    ]
    return "\n".join(rows)
