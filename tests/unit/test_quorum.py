"""Restoring a Galera cluster's Primary Component the documented way: bootstrap the most
advanced node, never one that lacks transactions, and only when no node is Primary; a
node that does not rejoin is restarted. And heal_lab, which a chaos run and the shared
labs' fixtures call, reaches for it only when quick health does not come back."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from lab.chaos.nemesis import leftovers
from lab.infra.errors import LabError, StartupError
from lab.roles.db import quorum
from lab.roles.db.quorum import BOOTSTRAP_SQL, most_advanced, restore_primary
from lab.roles.health import Unhealthy


def _status(cluster_status: str, committed: int | str) -> dict[str, str]:
    return {"wsrep_cluster_status": cluster_status, "wsrep_last_committed": str(committed)}


def test_the_most_advanced_node_is_bootstrapped() -> None:
    statuses = {
        "galera1": _status("Disconnected", 120),
        "galera2": _status("non-Primary", 125),
        "galera3": _status("non-Primary", 124),
    }
    assert most_advanced(statuses) == "galera2", "the highest wsrep_last_committed"


def test_one_transaction_more_decides() -> None:
    statuses = {"galera1": _status("non-Primary", 100), "galera2": _status("non-Primary", 101)}
    assert most_advanced(statuses) == "galera2"
    statuses["galera1"] = _status("non-Primary", 101)
    assert most_advanced(statuses) == "galera1", "a tie: the first by name"


def test_no_bootstrap_while_a_node_is_primary() -> None:
    statuses = {"galera1": _status("Primary", 90), "galera2": _status("non-Primary", 130)}
    assert most_advanced(statuses) is None, "a second Primary component would split the data"


def test_a_node_that_does_not_answer_is_not_chosen() -> None:
    statuses = {"galera1": None, "galera2": _status("non-Primary", 7)}
    assert most_advanced(statuses) == "galera2"
    statuses["galera3"] = {"wsrep_cluster_status": "non-Primary", "wsrep_last_committed": "x"}
    assert most_advanced(statuses) == "galera2", "an unreadable seqno counts as the lowest"
    with pytest.raises(LabError, match="no Galera node answers"):
        most_advanced({"galera1": None})


@dataclass
class FakeNode:
    name: str
    status: dict[str, str]
    rejoins: bool = True
    sql_run: list[str] = field(default_factory=list)
    restarted: bool = False

    def not_running(self) -> str | None:
        return None

    def wsrep_status(self) -> dict[str, str]:
        return self.status

    def sql(self, statement: str, timeout_s: int = 30) -> str:
        self.sql_run.append(statement)
        return ""

    def stop(self) -> None:
        self.restarted = True

    def start(self) -> None:
        pass


@dataclass
class FakeCluster:
    nodes: list[FakeNode]

    def node(self, name: str) -> FakeNode:
        return next(n for n in self.nodes if n.name == name)

    def wait_synced(self, node: FakeNode, timeout: float = 0) -> dict[str, str]:
        if not (node.rejoins or node.restarted):
            raise StartupError(f"{node.name} not Synced")
        return node.status


def test_restoring_bootstraps_the_most_advanced_and_restarts_a_node_that_stays_out() -> None:
    cluster = FakeCluster(
        [
            FakeNode("galera1", _status("Disconnected", 120), rejoins=False),
            FakeNode("galera2", _status("non-Primary", 125)),
            FakeNode("galera3", _status("non-Primary", 124)),
        ]
    )
    said: list[str] = []
    lines = restore_primary(cluster, said.append)  # type: ignore[arg-type]
    assert cluster.node("galera2").sql_run == [BOOTSTRAP_SQL]
    assert cluster.node("galera3").sql_run == [] and cluster.node("galera1").sql_run == []
    assert [n.name for n in cluster.nodes if n.restarted] == ["galera1"]
    assert (
        lines
        == said
        == [
            "galera2: pc.bootstrap=YES (most advanced, wsrep_last_committed 125)",
            f"galera1: restarted (had not rejoined within {quorum.REJOIN_S:.0f} s)",
        ]
    )


def test_a_primary_cluster_is_left_alone() -> None:
    cluster = FakeCluster([FakeNode(f"galera{i}", _status("Primary", 5)) for i in (1, 2, 3)])
    assert restore_primary(cluster, lambda _: None) == []  # type: ignore[arg-type]
    assert all(not n.sql_run and not n.restarted for n in cluster.nodes)


def _lab(healthy_after: int, galera: Any) -> Any:
    """A lab whose health returns after `healthy_after` waits (a large number: never)."""
    waits: list[float] = []

    def wait_healthy(timeout: float = 90.0, not_before: float = 0.0) -> None:
        waits.append(timeout)
        if len(waits) <= healthy_after:
            raise Unhealthy("timed out: galera2: wsrep_cluster_status is non-Primary")

    return SimpleNamespace(nodes=lambda: [], wait_healthy=wait_healthy, galera=galera, waits=waits)


def test_heal_lab_leaves_a_lab_that_recovers_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    restored: list[object] = []

    def restore(cluster: object, say: object) -> list[str]:
        restored.append(cluster)
        return []

    monkeypatch.setattr(leftovers, "restore_primary", restore)
    lab = _lab(0, galera=object())
    assert leftovers.heal_lab(lab).healed == []
    assert restored == [] and lab.waits == [leftovers.QUICK_HEALTH_S]


def test_heal_lab_restores_the_quorum_when_health_does_not_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(leftovers, "restore_primary", lambda c, say: ["galera2: pc.bootstrap"])
    healing = leftovers.heal_lab(_lab(1, galera=object()))
    assert healing.healed == ["galera2: pc.bootstrap"]


def test_heal_lab_without_galera_says_what_is_left() -> None:
    healing = leftovers.heal_lab(_lab(1, galera=None))
    assert healing.healed == [] and "non-Primary" in healing.failed[0]
