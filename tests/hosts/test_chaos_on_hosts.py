"""Chaos over SSH on stand-in hosts: the scenario's verdict from the recorded history,
every fault healed in finally and journaled on the control node, a fault left by a
crashed run healed by the next run before it starts, an unhealthy cluster refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.chaos.nemesis.firewall import cut_off
from lab.chaos.nemesis.hosts import FaultJournal, heal_pending, service_killed
from lab.chaos.scenarios.hosts import Refused
from lab.chaos.scenarios.place import settled
from lab.chaos.scenarios.registry import run_on_hosts
from lab.plan.failover import eviction_of, provider_options
from lab.verify.standin import StandinCluster
from lab.verify.target import Target, target_from_inventory
from tests.hosts.test_verify_hosts import broken, sh

pytestmark = [pytest.mark.hosts, pytest.mark.docker, pytest.mark.chaos]


@pytest.fixture
def target(standin_cluster: StandinCluster) -> Target:
    return target_from_inventory(standin_cluster.inventory, standin_cluster.credentials)


@pytest.fixture
def journal(tmp_path: Path) -> FaultJournal:
    return FaultJournal(tmp_path / "fault-journal.jsonl")


@pytest.fixture
def host_named(target: Target) -> Iterator[object]:
    yield lambda name: next(h for h in target.hosts if h.name == name)


def service_active(cluster: StandinCluster, node: str) -> bool:
    return cluster.nodes[node].exec(["lab-service", "status"]).exit_code == 0


def test_writer_kill_over_ssh_moves_writes_and_loses_nothing(
    target: Target, journal: FaultJournal, standin_cluster: StandinCluster
) -> None:
    said: list[str] = []
    run = run_on_hosts("writer-kill", target, 1, journal, said.append)
    assert not run.violations(), run.violations()
    gaps = [p for p in run.probes if "write_gap_s" in p]
    assert len(gaps) == 2, "one figure per client kind (OX's pool, the aggressive client)"
    killed = gaps[0]["killed"]
    assert all(p["new_writer"] != killed for p in gaps), gaps
    assert journal.pending() == [], "the kill was healed and journaled as healed"
    assert service_active(standin_cluster, killed), f"{killed}'s database started again"


def test_a_frozen_server_over_ssh_is_held_past_the_clusters_own_eviction_time(
    target: Target, journal: FaultJournal, standin_cluster: StandinCluster
) -> None:
    """The lab's pause body on hosts: the hold comes from the cluster's running
    wsrep_provider_options (not a lab profile), the frozen node is evicted, writes go on
    and nothing acknowledged is lost."""
    run = run_on_hosts("pause", target, 2, journal, print)
    assert not run.violations(), run.violations()
    [probe] = [p for p in run.probes if "paused" in p]
    running = sh(standin_cluster.nodes["galera1"], "mysql -N -e 'SELECT @@wsrep_provider_options'")
    expected = eviction_of(provider_options(running))
    assert probe["eviction_s"] == expected, f"the hosts' own options say {expected} s: {probe}"
    assert probe["evicted"], f"held past {probe['eviction_s']} s, the cluster evicted it: {probe}"
    assert run.transport == "SSH hosts" and journal.pending() == [], "healed and journaled"


def test_nfs_server_stopped_over_ssh_fails_files_cleanly_and_loses_none(
    target: Target, journal: FaultJournal, standin_cluster: StandinCluster
) -> None:
    """The guide's filestore host loses its NFS server under browsers going through the
    operator's front end as the operator's test user: uploads fail with OX's FLS error
    (not an internal error), nobody is logged out, uploads work again after the start,
    and every file downloads as it was uploaded."""
    run = run_on_hosts("filestore-outage", target, 3, journal, print)
    assert not run.violations(), run.violations()
    verdicts = {v.checker: v for v in run.verdicts}
    assert set(verdicts) >= {"sessions-kept", "files-intact", "clear-storage-errors"}, verdicts
    [probe] = run.probes
    print(f"filestore-outage over SSH: {probe}; {run.measurements}")
    assert probe["stopped"] == "filestore" and probe["upload_recovery_s"] is not None, probe
    failed_uploads = [op for op in run.history.ops if op.f == "upload" and op.outcome == "fail"]
    assert failed_uploads, "uploads during the outage must fail: the NFS server was really down"
    assert journal.pending() == [], "the stop was healed and journaled as healed"
    assert service_active(standin_cluster, "filestore"), "the NFS server started again"


def test_a_fault_is_healed_when_the_test_body_fails(
    target: Target, journal: FaultJournal, standin_cluster: StandinCluster, host_named: object
) -> None:
    galera3 = host_named("galera3")  # type: ignore[operator]
    with pytest.raises(RuntimeError, match="the test failed mid-fault"):
        with service_killed(galera3, journal):
            assert not service_active(standin_cluster, "galera3"), "killed"
            raise RuntimeError("the test failed mid-fault")
    assert service_active(standin_cluster, "galera3"), "started again by the fault's finally"
    assert journal.pending() == []
    settled(target)  # galera3 Synced and HAProxy's checks risen: the next test starts healthy


def test_the_next_run_heals_what_a_crashed_run_left(
    target: Target, journal: FaultJournal, standin_cluster: StandinCluster, host_named: object
) -> None:
    """A run that died mid-partition (its process killed: no finally ran) left iptables
    rules and an unhealed journal entry; the next run heals them first and says so."""
    galera3 = host_named("galera3")  # type: ignore[operator]
    peers = [h for h in target.role("galera") if h.name != "galera3"]
    addresses = [peer.address for peer in peers]
    journal.injected(galera3, "partition", cut_off(addresses, "-D", marked=True))
    node = standin_cluster.nodes["galera3"]
    sh(node, cut_off(addresses, "-I", marked=True))
    try:
        lines = heal_pending(target.hosts, journal)
        assert lines == ["healed partition on galera3, left by an earlier run"], lines
        rules = sh(node, "iptables -S")
        assert "oxlab-fault" not in rules, rules
        assert journal.pending() == []
    finally:
        node.exec(["sh", "-c", "iptables -S | grep -q oxlab-fault && iptables -F || true"])
    settled(target)  # galera3 Synced and HAProxy's checks risen: the next test starts healthy


def test_an_unhealthy_cluster_is_refused_before_any_fault(
    target: Target, journal: FaultJournal, standin_cluster: StandinCluster
) -> None:
    """A desync set by hand does not pass by itself: the refusal is the same after any
    settle time, so this test waits 2 s for it rather than the 20 s a rising server gets."""
    with broken(
        standin_cluster.nodes["galera2"],
        "mysql -e 'SET GLOBAL wsrep_desync = ON'",
        "mysql -e 'SET GLOBAL wsrep_desync = OFF'",
    ):
        with pytest.raises(Refused, match=r"galera2: wsrep status: .*Donor/Desynced"):
            run_on_hosts("writer-kill", target, 1, journal, print, settle_s=2.0)
    assert not journal.path.exists(), "nothing injected, nothing journaled"


def test_faults_on_hosts_need_the_explicit_flag(standin_cluster: StandinCluster) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab.cli",
            "chaos",
            "run",
            "writer-kill",
            "--inventory",
            str(standin_cluster.inventory),
            "--credentials",
            str(standin_cluster.credentials),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().endswith(
        "add --allow-faults-on-hosts to run them (lab verify checks without faults)"
    ), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
