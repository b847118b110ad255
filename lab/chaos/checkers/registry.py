"""Every checker by name, as a chaos run judges its history and as `lab check` judges a
recorded one again: the same function, the same parameters, the same forbidden kinds,
so a checker fix can be replayed on the histories operators kept.

A run's checks are written into its history's meta line; `lab check` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.chaos.checkers import Verdict
from lab.chaos.checkers.bank import check_bank
from lab.chaos.checkers.confined import check_failures_confined
from lab.chaos.checkers.consistency import check_nodes_consistent
from lab.chaos.checkers.filestore import check_storage_errors_in, filestore_consistency_in
from lab.chaos.checkers.floating import check_one_holder, check_unchecked_rotation
from lab.chaos.checkers.groupware import check_files, check_read_your_writes, check_sessions
from lab.chaos.checkers.health_truth import check_health_truth_in
from lab.chaos.checkers.list_append import READ_COMMITTED_ANOMALIES, check_list_append
from lab.chaos.checkers.observability import check_observable
from lab.chaos.checkers.pool import check_pool_reuse
from lab.chaos.checkers.writers import check_one_writer
from lab.chaos.checkers.writes import check_writes_kept
from lab.chaos.history import FINAL, READ_INSERTS, TXN, History
from lab.infra.errors import ConfigError, lookup

RUN_DEFAULT = "default"  # Check.of: the checker's own forbidden kinds
Forbidden = tuple[str, ...] | None  # kinds that fail a run; None: every kind


@dataclass(frozen=True)
class Checker:
    name: str
    judge: Callable[..., Verdict]  # (history, **params) -> Verdict
    forbidden: Forbidden
    summary: str
    needs: tuple[str, ...] = ()  # parameters without a default (from the meta line)


CHECKERS: dict[str, Checker] = {
    c.name: c
    for c in (
        Checker(
            "list-append",
            check_list_append,
            READ_COMMITTED_ANOMALIES,
            "Elle-style dependency cycles, aborted/intermediate/garbage reads, internal "
            "consistency; G-single, G2-item, lost updates, stale and non-repeatable reads "
            "are findings",
        ),
        Checker(
            "no-acknowledged-write-lost",
            check_writes_kept,
            ("lost-write", "no-final-read"),
            "every acknowledged append or insert is in the final read",
        ),
        Checker(
            "bank",
            check_bank,
            None,
            "every read of all balances has every account and the starting total",
            needs=("accounts", "total"),
        ),
        Checker(
            "one-address-holder",
            check_one_holder,
            ("split-brain",),
            "at most one member of the dblb pair holds the floating address",
        ),
        Checker(
            "unchecked-rotation",
            check_unchecked_rotation,
            (),
            "report-only: connects of a rotation without health checks (DNS round robin, "
            "the JDBC driver's round robin) that reach a dead node after the checked "
            "path served again (the guide rules both out)",
            needs=("slow_s",),
        ),
        Checker(
            "failures-confined",
            check_failures_confined,
            ("other-users-failed", "not-moved"),
            "a fault on one groupware node fails only its users, and the balancer moves them",
            needs=("route",),
        ),
        Checker(
            "one-writer",
            check_one_writer,
            ("two-writers", "two-write-servers"),
            "independent HAProxies never write to two Galera nodes at once",
        ),
        Checker(
            "pooled-connections-usable",
            check_pool_reuse,
            None,
            "a connection idle for less than OX's maxIdleTime still answers",
        ),
        Checker(
            "nodes-consistent",
            check_nodes_consistent,
            ("data-differs",),
            "every database node holds the same rows (pt-table-checksum's chunk checksums)",
        ),
        Checker(
            "observable-under-load",
            check_observable,
            None,
            "lab status, HAProxy's stats and every survivor's clustercheck answer within "
            "the deadline during the fault",
            needs=("deadline_s",),
        ),
        Checker(
            "sessions-kept",
            check_sessions,
            None,
            "nobody logs in twice or sees a session error",
        ),
        Checker(
            "files-intact",
            check_files,
            None,
            "every download is byte-identical to its upload",
        ),
        Checker(
            "read-your-writes",
            check_read_your_writes,
            None,
            "a listing begun after one's own folder creation shows it",
        ),
        Checker(
            "clear-storage-errors",
            check_storage_errors_in,
            None,
            "file operations fail with OX's FLS error while the filestore is down",
        ),
        Checker(
            "filestore-consistent",
            filestore_consistency_in,
            None,
            "no partial file, orphan file or orphan metadata appeared",
        ),
        Checker(
            "health-check-truth",
            check_health_truth_in,
            ("healthy-but-unwritable",),
            "every clustercheck 200 can write (a frozen peer's stall is a finding)",
            needs=("grace_s",),
        ),
    )
}


@dataclass
class Check:
    """One checker applied to a run: what the history's meta line records."""

    checker: str
    params: dict[str, Any] = field(default_factory=dict)
    forbidden: Forbidden = None

    @classmethod
    def of(cls, name: str, forbidden: Forbidden | str = RUN_DEFAULT, **params: Any) -> Check:
        checker = lookup(CHECKERS, name, "checker")
        chosen = checker.forbidden if forbidden == RUN_DEFAULT else forbidden
        return cls(name, params, None if chosen is None else tuple(chosen))

    @classmethod
    def from_meta(cls, record: dict[str, Any]) -> Check:
        forbidden = record.get("forbidden")
        return cls(
            str(record["checker"]),
            dict(record.get("params") or {}),
            None if forbidden is None else tuple(forbidden),
        )

    def judge(self, history: History) -> Verdict:
        checker = lookup(CHECKERS, self.checker, "checker")
        missing = [p for p in checker.needs if p not in self.params]
        if missing:
            raise ConfigError(
                f"checker {self.checker} needs {', '.join(missing)} (a history the lab "
                "wrote has them in its meta line)"
            )
        return checker.judge(history, **self.params)

    def violated(self, verdict: Verdict) -> bool:
        return not verdict.valid(self.forbidden)


def checks_of(history: History, only: str | None = None) -> list[Check]:
    """The checks to replay: the run's own (meta line), or one named checker with the
    run's parameters for it when the run used it; without a meta line, the checks the
    history's operations allow (default_checks)."""
    recorded = [Check.from_meta(c) for c in history.meta.get("checks", [])]
    if only is None:
        return recorded or default_checks(history)
    same = [c for c in recorded if c.checker == only]
    return same or [Check.of(only)]


def default_checks(history: History) -> list[Check]:
    """For a history without a meta line: list-append over its transactions, and the
    lost-write check wherever a final read gives the state to compare with (a final read
    of the list-append keys, or of the inserted numbers)."""
    finals = {op.f for op in history.ops if op.process == FINAL}
    checks = [Check.of("list-append")] if any(op.f == TXN for op in history.ops) else []
    if finals & {TXN, READ_INSERTS}:
        checks.append(Check.of("no-acknowledged-write-lost"))
    if not checks:
        raise ConfigError(
            "the history has no meta line and no list-append transactions or final read: "
            f"choose a checker with --checker ({', '.join(CHECKERS)})"
        )
    return checks
