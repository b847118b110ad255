"""OX's replication monitor, as OX does it: every write transaction of a context bumps
that context's row in replicationMonitor inside the same transaction, and the node
remembers the value in memory (per node). A later read first asks the slave for the
counter; if the slave has not yet reached the remembered value, the read goes to the
master instead (counted, like OX's MBean "MasterInsteadOfSlave")."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


def slave_is_current(expected: int | None, seen_on_slave: int | None) -> bool:
    """The decision: no write remembered on this node, or the slave has seen it."""
    if expected is None:
        return True
    return seen_on_slave is not None and seen_on_slave >= expected


@dataclass
class ReplicationMonitor:
    enabled: bool
    _expected: dict[tuple[str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    master_instead_of_slave: int = 0
    slave_reads: int = 0
    slave_unreachable: int = 0
    master_reads_without_slave: int = 0

    def remember(self, key: tuple[str, int], counter: int) -> None:
        with self._lock:
            if counter > self._expected.get(key, -1):
                self._expected[key] = counter

    def expected(self, key: tuple[str, int]) -> int | None:
        with self._lock:
            return self._expected.get(key)

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def counters(self) -> dict[str, int | bool]:
        return {
            "enabled": self.enabled,
            "slave_reads": self.slave_reads,
            "master_instead_of_slave": self.master_instead_of_slave,
            "slave_unreachable": self.slave_unreachable,
            "master_reads_without_slave": self.master_reads_without_slave,
        }
