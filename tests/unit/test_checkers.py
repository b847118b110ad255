"""Checker self-tests: a crafted history with a known anomaly must make the checker
fire and name the operations; a clean history must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.chaos.checkers.bank import check_bank
from lab.chaos.checkers.list_append import READ_COMMITTED_ANOMALIES, check_list_append
from lab.chaos.history import Fault, History, recovery_time


def txn(*mops: tuple[str, int, object]) -> list[list[object]]:
    return [list(m) for m in mops]


def a(key: int, value: int) -> tuple[str, int, object]:
    return ("append", key, value)


def r(key: int, seen: list[int] | None) -> tuple[str, int, object]:
    return ("r", key, seen)


def test_serial_list_append_history_is_valid() -> None:
    history = History.of(
        [
            (0, "txn", txn(a(1, 1), r(1, [1])), "ok"),
            (1, "txn", txn(r(1, [1]), a(1, 2), a(2, 1)), "ok"),
            (0, "txn", txn(r(1, [1, 2]), r(2, [1])), "ok"),
            (1, "txn", txn(a(2, 2)), "info"),  # unknown: may or may not have happened
            (0, "txn", txn(a(3, 1)), "fail"),
        ]
    )
    verdict = check_list_append(history)
    assert verdict.valid(), verdict.summary()
    assert verdict.stats["unknown"] == 1


@pytest.mark.parametrize(
    ("kind", "ops"),
    [
        (  # dirty write: x orders T0 before T1, y orders T1 before T0
            "G0",
            [
                (0, "txn", txn(a(1, 1), a(2, 1)), "ok"),
                (1, "txn", txn(a(1, 2), a(2, 2)), "ok"),
                (2, "txn", txn(r(1, [1, 2]), r(2, [2, 1])), "ok"),
            ],
        ),
        (  # aborted read
            "G1a",
            [(0, "txn", txn(a(1, 1)), "fail"), (1, "txn", txn(r(1, [1])), "ok")],
        ),
        (  # intermediate read: T0 appended 1 then 2 to the same key
            "G1b",
            [(0, "txn", txn(a(1, 1), a(1, 2)), "ok"), (1, "txn", txn(r(1, [1])), "ok")],
        ),
        (  # circular information flow: each read the other's write
            "G1c",
            [
                (0, "txn", txn(a(1, 1), r(2, [1])), "ok"),
                (1, "txn", txn(a(2, 1), r(1, [1])), "ok"),
            ],
        ),
        (  # lost update: both read [] and appended
            "G-single",
            [
                (0, "txn", txn(r(1, []), a(1, 1)), "ok"),
                (1, "txn", txn(r(1, []), a(1, 2)), "ok"),
                (2, "txn", txn(r(1, [1, 2])), "ok"),
            ],
        ),
        (  # write skew: each read both keys empty and wrote one
            "G2-item",
            [
                (0, "txn", txn(r(1, []), r(2, []), a(1, 1)), "ok"),
                (1, "txn", txn(r(1, []), r(2, []), a(2, 1)), "ok"),
                (2, "txn", txn(r(1, [1]), r(2, [1])), "ok"),
            ],
        ),
        (
            "incompatible-order",
            [
                (0, "txn", txn(a(1, 1)), "ok"),
                (1, "txn", txn(a(1, 2)), "ok"),
                (2, "txn", txn(r(1, [1, 2])), "ok"),
                (3, "txn", txn(r(1, [2, 1])), "ok"),
            ],
        ),
        (
            "duplicate",
            [(0, "txn", txn(a(1, 1)), "ok"), (1, "txn", txn(r(1, [1, 1])), "ok")],
        ),
        (  # T1 began after T0's append was acknowledged, yet missed it
            "stale-read",
            [(0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0), (1, "txn", txn(r(1, [])), "ok", 2.0, 2.5)],
        ),
    ],
)
def test_list_append_checker_finds_each_anomaly(kind: str, ops: list[tuple[object, ...]]) -> None:
    verdict = check_list_append(History.of(ops))
    assert kind in verdict.anomalies, f"expected {kind}: {verdict.summary()}"
    assert "op " in verdict.anomalies[kind][0], "the verdict names the operations"


def test_lost_update_is_named_and_cycle_printed() -> None:
    verdict = check_list_append(
        History.of(
            [
                (0, "txn", txn(r(1, []), a(1, 1)), "ok"),
                (1, "txn", txn(r(1, []), a(1, 2)), "ok"),
                (2, "txn", txn(r(1, [1, 2])), "ok"),
            ]
        )
    )
    assert "lost-update" in verdict.anomalies, verdict.summary()
    cycle = verdict.anomalies["G-single"][0]
    assert cycle.startswith("cycle: ") and "-rw->" in cycle and "-ww->" in cycle, cycle
    assert verdict.valid(READ_COMMITTED_ANOMALIES), "lost update is allowed at read committed"
    assert not verdict.valid()


def test_bank_checker() -> None:
    clean = History.of(
        [
            (0, "transfer", {"from": 0, "to": 1, "amount": 5}, "ok"),
            (1, "read", {"0": 5, "1": 15}, "ok"),
            (1, "read", {"0": 10, "1": 0}, "fail"),  # a failed read says nothing
        ]
    )
    assert check_bank(clean, accounts=2, total=20).valid()
    broken = History.of(
        [
            (1, "read", {"0": 5, "1": 10}, "ok"),
            (1, "read", {"0": -5, "1": 25}, "ok"),
        ]
    )
    verdict = check_bank(broken, accounts=2, total=20)
    assert "op 0" in verdict.anomalies["wrong-total"][0], verdict.summary()
    assert "op 1" in verdict.anomalies["negative-balance"][0], verdict.summary()


def test_history_round_trips_and_measures_recovery(tmp_path: Path) -> None:
    history = History.of(
        [
            (0, "txn", txn(a(1, 1)), "ok", 0.0, 0.1),
            (0, "txn", txn(a(1, 2)), "info", 1.0, 3.0),
            (0, "txn", txn(a(1, 3)), "ok", 3.2, 3.5),
        ]
    )
    fault = Fault("kill", "galera1", 1.0, 2.0)
    history.faults.append(fault)
    loaded = History.load(history.save(tmp_path / "history.jsonl"))
    assert loaded.ops == history.ops and loaded.faults == history.faults
    assert recovery_time(loaded, fault) == pytest.approx(2.5)


def test_lost_acknowledged_append_is_found_and_unknown_ones_are_not() -> None:
    from lab.chaos.checkers.writes import check_lost_appends

    history = History.of(
        [
            (0, "txn", txn(a(1, 1)), "ok"),
            (1, "txn", txn(a(1, 2)), "info"),  # may be lost: not a violation
            (0, "txn", txn(a(1, 3)), "ok"),
        ]
    )
    assert check_lost_appends(history, {1: [1, 3]}).valid()
    verdict = check_lost_appends(history, {1: [1]})
    assert verdict.anomalies["lost-write"] == [
        "op 2 (client 0, txn ok: [['append', 1, 3]]): 3 missing from key 1"
    ]


def test_health_truth_checker_fires_on_a_200_that_cannot_write() -> None:
    from lab.chaos.checkers.health_truth import Sample, check_health_truth

    good = [Sample(0.0, "galera1", 200, True, 0.01), Sample(0.2, "galera2", 503, None, 0.0)]
    assert check_health_truth(good).valid()
    caught = Sample(0.3, "galera3", 200, False, 0.1, "WSREP not ready", status_after=503)
    assert check_health_truth([*good, caught]).valid(), "a check that turned 503 did not lie"
    bad = [*good, Sample(0.4, "galera3", 200, False, 5.0, "timed out", status_after=200)]
    verdict = check_health_truth(bad)
    assert verdict.anomalies["healthy-but-unwritable"] == [
        "galera3 at 0.40s: clustercheck 200 before and after a write that failed: timed out"
    ]
    from lab.chaos.history import Fault

    frozen_peer = [Fault("freeze-server", "galera2", 0.1, 0.3)]
    verdict = check_health_truth(bad, frozen_peer, grace_s=0.5)
    assert list(verdict.anomalies) == ["stalled-by-peer"], "a frozen peer stalls every write"
    paused_peer = [Fault("pause", "galera2", 0.1, 0.3)]
    assert list(check_health_truth(bad, paused_peer, grace_s=0.5).anomalies) == ["stalled-by-peer"]
    too_late = check_health_truth(bad, frozen_peer, grace_s=0.05)
    assert list(too_late.anomalies) == ["healthy-but-unwritable"], "past the eviction grace"
    for fault in ("desync", "kill", "partition", "lying-donor"):
        other = [Fault(fault, "galera2", 0.1, 0.3)]
        assert list(check_health_truth(bad, other, grace_s=0.5).anomalies) == [
            "healthy-but-unwritable"
        ], f"a {fault} of another node does not stall every write: no excuse"
    on_itself = [Fault("freeze-server", "galera3", 0.1, 0.3)]
    assert list(check_health_truth(bad, on_itself, grace_s=0.5).anomalies) == [
        "healthy-but-unwritable"
    ]


def test_health_truth_excuses_a_frozen_peers_rejoin_only_while_it_is_seen_not_ready() -> None:
    """After a freeze the evicted peer rejoins, and flow control can stall every write
    until it is Synced (seen on real runs ~8 and ~19 s after the freeze ended). The
    excuse needs evidence in the recorded samples: the frozen peer's own check not
    ready while the write hung."""
    from lab.chaos.checkers.health_truth import Sample, check_health_truth
    from lab.chaos.history import Fault

    stalled = Sample(8.0, "galera1", 200, False, 5.0, "timed out", status_after=200)
    rejoining = Sample(9.0, "galera3", 503, None, 0.0)
    back = Sample(9.0, "galera3", 200, True, 0.01)
    freeze = [Fault("freeze-server", "galera3", 1.0, 3.0)]
    excused = check_health_truth([stalled, rejoining], freeze, grace_s=1.0)
    assert list(excused.anomalies) == ["stalled-by-peer"], excused.summary()
    assert (
        "while galera3 rejoined after its freeze-server" in excused.anomalies["stalled-by-peer"][0]
    )
    lie = check_health_truth([stalled, back], freeze, grace_s=1.0)
    assert list(lie.anomalies) == ["healthy-but-unwritable"], "the peer was Synced: a lie"
    desync = [Fault("desync", "galera3", 1.0, 3.0)]
    assert list(check_health_truth([stalled, rejoining], desync, grace_s=1.0).anomalies) == [
        "healthy-but-unwritable"
    ], "a desynced peer does not stall others: no excuse"
    later = [Fault("pause", "galera3", 10.0, 12.0)]
    assert list(check_health_truth([stalled, rejoining], later, grace_s=1.0).anomalies) == [
        "healthy-but-unwritable"
    ], "a freeze that began after the write excuses nothing"


def test_health_truth_reports_a_write_its_own_nodes_freeze_caught_in_flight() -> None:
    """Seen in a full run: galera3's check said 200 at 11.06 s, just before the SIGSTOP
    recorded at 11.00 s landed (a stopped server answers no check); the write waited
    through the 5 s freeze and failed on waking, evicted ("Not connected to Primary").
    The freeze, not the check, decided that write: reported, not a lie. A write begun
    after the freeze ended that fails while the check says 200 is still a lie."""
    from lab.chaos.checkers.health_truth import Sample, check_health_truth
    from lab.chaos.history import Fault

    def failed(at: float, latency: float = 5.0) -> Sample:
        return Sample(at, "galera3", 200, False, latency, "1180 Not connected", status_after=200)

    freeze = [Fault("freeze-server", "galera3", 11.0, 16.1)]
    caught = check_health_truth([failed(11.06)], freeze)
    assert list(caught.anomalies) == ["frozen-mid-write"], caught.summary()
    assert (
        "in flight when its own freeze-server (11.00s to 16.10s) hit"
        in (caught.anomalies["frozen-mid-write"][0])
    )
    paused = check_health_truth([failed(11.06)], [Fault("pause", "galera3", 11.0, 16.1)])
    assert list(paused.anomalies) == ["frozen-mid-write"], "docker pause freezes it the same"
    at_its_start = check_health_truth([failed(10.0, latency=1.0)], freeze)
    assert list(at_its_start.anomalies) == ["frozen-mid-write"], "in flight when it landed"
    before = check_health_truth([failed(10.0, latency=0.99)], freeze)
    assert list(before.anomalies) == ["healthy-but-unwritable"], "failed before the freeze"
    at_its_end = check_health_truth([failed(16.1)], freeze)
    assert list(at_its_end.anomalies) == ["frozen-mid-write"], "begun as it was lifted"
    after = check_health_truth([failed(16.11)], freeze)
    assert list(after.anomalies) == ["healthy-but-unwritable"], "begun after: a lie"
    other_node = check_health_truth([failed(11.06)], [Fault("desync", "galera3", 11.0, 16.1)])
    assert list(other_node.anomalies) == ["healthy-but-unwritable"], "a desync is no freeze"
    unhealed = check_health_truth([failed(11.06)], [Fault("freeze-server", "galera3", 11.0)])
    assert list(unhealed.anomalies) == ["frozen-mid-write"], "a freeze still in force"


def test_session_and_file_checkers() -> None:
    from lab.chaos.checkers.groupware import check_files, check_sessions

    clean = History.of(
        [
            (0, "login", {}, "ok"),
            (0, "upload", {"size": 1, "sha256": "a", "doc": "7"}, "ok"),
            (0, "download", {"doc": "7", "sha256": "a", "got_sha256": "a"}, "ok"),
        ]
    )
    assert check_sessions(clean).valid() and check_files(clean).valid()
    broken = History.of(
        [
            (0, "login", {}, "ok"),
            (0, "download", {"doc": "7", "sha256": "a", "got_sha256": "b"}, "ok"),
            (0, "login", {}, "ok"),
        ]
    )
    assert "op 2" in check_sessions(broken).anomalies["session-lost"][0]
    assert "op 1" in check_files(broken).anomalies["corrupt-file"][0]


def test_storage_error_and_kept_insert_checkers() -> None:
    from lab.chaos.checkers.filestore import check_storage_errors
    from lab.chaos.checkers.writes import check_inserts_kept

    history = History.of(
        [
            (0, "insert", 1, "ok", 0.0, 0.1),
            (0, "insert", 2, "ok", 4.5, 4.6),  # within 1 s of the fault at 5.0
            (1, "upload", {}, "fail", 5.5, 5.6),
            (1, "download", {}, "fail", 5.7, 5.8),
        ]
    )
    history.ops[2].error = "FLS-0010: The file storage is not available (upload)"
    history.ops[3].error = "SVL-0001: internal error"
    verdict = check_storage_errors(history, 5.0, 9.0)
    assert (
        list(verdict.anomalies) == ["unclear-error"]
        and "op 3" in verdict.anomalies["unclear-error"][0]
    ), verdict.summary()
    kept = check_inserts_kept(history, {1}, fault_at=5.0, window_s=1.0)
    assert list(kept.anomalies) == ["lost-in-replication-window"], kept.summary()
    assert list(check_inserts_kept(history, set(), 5.0, window_s=None).anomalies) == ["lost-write"]


def test_read_your_writes_checker() -> None:
    from lab.chaos.checkers.groupware import check_read_your_writes

    history = History.of(
        [
            (0, "create-folder", {"title": "a"}, "ok", 0.0, 0.1),
            (0, "list-folders", {"titles": ["a"]}, "ok", 0.2, 0.3),
            (1, "list-folders", {"titles": []}, "ok", 0.2, 0.3),  # another user: fine
            (0, "create-folder", {"title": "b"}, "ok", 1.0, 1.1),
            (0, "list-folders", {"titles": ["a"]}, "ok", 1.05, 1.2),  # concurrent: fine
            (0, "list-folders", {"titles": ["a"]}, "ok", 1.5, 1.6),  # misses b
        ]
    )
    verdict = check_read_your_writes(history)
    assert len(verdict.anomalies["stale-read"]) == 1, verdict.summary()
    assert (
        "op 5" in verdict.anomalies["stale-read"][0] and "'b'" in verdict.anomalies["stale-read"][0]
    )


def test_folder_cache_drops_a_store_older_than_an_invalidation() -> None:
    """The race the lagging-slave scenario found: read (old), invalidate, store (old)."""
    from lab.oxnode.api import FolderCache

    cache = FolderCache()
    generation = cache.generation(1)  # a reader misses the cache and reads the database
    cache.invalidate(1)  # meanwhile a writer commits a new folder and invalidates
    cache.put((1, 3), [{"title": "old"}], generation)  # the reader stores what it read
    assert cache.get((1, 3)) is None, "the stale listing must not be cached"
    cache.put((1, 3), [{"title": "new"}], cache.generation(1))
    assert cache.get((1, 3)) == [{"title": "new"}]


def test_clean_concurrent_history_with_unknown_writes_is_valid() -> None:
    """No false positives: overlapping transactions, reads of an append whose
    transaction's outcome is unknown (it committed after all), a read concurrent with an
    append that misses it, and an unknown append nobody saw."""
    history = History.of(
        [
            (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
            (1, "txn", txn(r(1, [])), "ok", 0.5, 1.5),  # concurrent with the append: not stale
            (2, "txn", txn(a(1, 2)), "info", 1.1, 3.0),  # unknown, yet read below: it committed
            (0, "txn", txn(r(1, [1, 2]), a(2, 1)), "ok", 3.1, 3.5),
            (1, "txn", txn(a(2, 2)), "info", 3.6, 4.0),  # unknown and never seen
            (2, "txn", txn(r(2, [1])), "ok", 4.5, 4.6),  # misses the unknown append: fine
            (0, "txn", txn(a(3, 1), r(3, [1]), a(3, 2), r(3, [1, 2])), "ok", 5.0, 5.5),
        ]
    )
    verdict = check_list_append(history)
    assert verdict.anomalies == {}, verdict.summary()


def test_reading_a_failed_transactions_append_is_g1a_and_it_stays_out_of_the_graph() -> None:
    """A failed transaction did not happen: reading its element is G1a, and it must not
    take part in dependency cycles (here it would close a G-single cycle)."""
    history = History.of(
        [
            (0, "txn", txn(a(1, 1)), "fail"),
            (1, "txn", txn(r(1, [1]), a(2, 1)), "ok"),
            (2, "txn", txn(a(2, 2), r(1, [])), "ok"),
            (3, "txn", txn(r(2, [1, 2])), "ok"),
        ]
    )
    verdict = check_list_append(history)
    assert set(verdict.anomalies) == {"G1a"}, verdict.summary()


@pytest.mark.parametrize(
    ("ops", "why"),
    [
        ([(0, "txn", txn(a(1, 1), r(1, [])), "ok")], "does not see its own append"),
        (
            [(0, "txn", txn(a(1, 5)), "ok"), (1, "txn", txn(a(1, 1), r(1, [1, 5])), "ok")],
            "its own append is not last",
        ),
        (
            [
                (0, "txn", txn(a(1, 1)), "ok"),
                (1, "txn", txn(r(1, [1]), a(1, 2), r(1, [1])), "ok"),
            ],
            "a later read misses its own append",
        ),
        (
            [
                (0, "txn", txn(a(1, 1), a(1, 2)), "ok"),
                (1, "txn", txn(r(1, [1, 2]), r(1, [1])), "ok"),
            ],
            "a later read lost what an earlier read saw",
        ),
    ],
)
def test_internal_inconsistency_is_forbidden(ops: list[tuple[object, ...]], why: str) -> None:
    verdict = check_list_append(History.of(ops))
    assert "internal" in verdict.anomalies, f"{why}: {verdict.summary()}"
    assert not verdict.valid(READ_COMMITTED_ANOMALIES), f"{why} must fail the run"


def test_garbage_read_is_a_violation() -> None:
    verdict = check_list_append(
        History.of([(0, "txn", txn(a(1, 1)), "ok"), (1, "txn", txn(r(1, [1, 99])), "ok")])
    )
    assert "garbage-read" in verdict.anomalies, verdict.summary()
    assert not verdict.valid(READ_COMMITTED_ANOMALIES), "a value nobody wrote fails the run"


def test_unknown_append_missing_later_is_not_a_stale_read() -> None:
    history = History.of(
        [(0, "txn", txn(a(1, 1)), "info", 0.0, 1.0), (1, "txn", txn(r(1, [])), "ok", 2.0, 2.5)]
    )
    assert "stale-read" not in check_list_append(history).anomalies


def test_every_cycle_class_of_one_component_is_reported() -> None:
    """One strongly connected component holding a G0 cycle (T0/T1 ordered both ways),
    a G1c cycle (wr edges) and a G-single cycle: each class is named, not only G0."""
    history = History.of(
        [
            (0, "txn", txn(a(1, 1), a(2, 1), r(3, [1]), r(5, [1])), "ok"),
            (1, "txn", txn(a(1, 2), a(2, 2), a(3, 1), r(4, [])), "ok"),
            (2, "txn", txn(a(4, 1), a(5, 1)), "ok"),
            (3, "txn", txn(r(1, [1, 2]), r(2, [2, 1]), r(4, [1])), "ok"),
        ]
    )
    verdict = check_list_append(history)
    assert {"G0", "G1c", "G-single"} <= set(verdict.anomalies), verdict.summary()


def test_bank_checker_finds_money_created_and_missing_accounts() -> None:
    created = History.of([(1, "read", {"0": 15, "1": 10}, "ok")])
    verdict = check_bank(created, accounts=2, total=20)
    assert "wrong-total" in verdict.anomalies, f"money created: {verdict.summary()}"
    missing = History.of([(1, "read", {"0": 20}, "ok")])
    verdict = check_bank(missing, accounts=2, total=20)
    assert "wrong-accounts" in verdict.anomalies, f"an account vanished: {verdict.summary()}"
    extra = History.of([(1, "read", {"0": 10, "1": 10, "2": 0}, "ok")])
    assert "wrong-accounts" in check_bank(extra, accounts=2, total=20).anomalies


@pytest.mark.parametrize(
    ("code", "sent", "at_commit", "outcome"),
    [
        (2003, False, False, "fail"),  # cannot connect: nothing sent
        (1213, True, False, "fail"),  # deadlock in a statement: rolled back
        (1205, True, False, "fail"),  # lock wait timeout: rolled back
        (1047, True, False, "fail"),  # non-Primary before COMMIT: refused
        (1213, True, True, "fail"),  # certification failure at COMMIT: rolled back
        (1047, True, True, "info"),  # lost the Primary while committing: may have committed
        (1180, True, True, "info"),  # error during COMMIT: may have committed
        (2013, True, True, "info"),  # connection lost at COMMIT
        (2013, True, False, "info"),  # connection lost after sending
    ],
)
def test_failed_transaction_outcomes(code: int, sent: bool, at_commit: bool, outcome: str) -> None:
    from lab.chaos.clients.workloads import outcome_of

    assert outcome_of(code, sent, at_commit) == outcome


def test_seeing_other_commits_between_own_reads_is_a_finding_not_a_violation() -> None:
    """Read committed allows it, and InnoDB at REPEATABLE READ shows it after the
    transaction's own update (seen in real Galera runs): r [] ... append 3 ... r [1, 2, 3]."""
    history = History.of(
        [
            (0, "txn", txn(a(1, 1), a(1, 2)), "ok", 0.1, 0.2),
            (1, "txn", txn(r(1, []), r(1, []), a(1, 3), r(1, [1, 2, 3])), "ok", 0.0, 0.5),
            (2, "txn", txn(r(1, [])), "ok", 0.0, 0.05),
            (2, "txn", txn(r(1, [1, 2, 3])), "ok", 1.0, 1.1),
        ]
    )
    verdict = check_list_append(history)
    assert "non-repeatable-read" in verdict.anomalies, verdict.summary()
    assert "internal" not in verdict.anomalies, verdict.summary()
    assert verdict.valid(READ_COMMITTED_ANOMALIES), "allowed at the flavours' isolation"


def test_a_g2_item_cycle_is_simple_not_one_rw_edge_walked_twice() -> None:
    """One rw and one ww edge between two transactions is G-single; walking it twice
    must not be reported as a G2-item with two rw edges (found on a real run)."""
    verdict = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1), a(2, 1)), "ok"),
                (1, "txn", txn(r(2, []), a(2, 2)), "ok"),
                (2, "txn", txn(r(2, [1, 2])), "ok"),
            ]
        )
    )
    assert "G-single" in verdict.anomalies, verdict.summary()
    assert "G2-item" not in verdict.anomalies, verdict.summary()


def test_a_pooled_connection_dropped_before_maxidletime_is_forbidden() -> None:
    from lab.chaos.checkers.pool import check_pool_reuse
    from lab.chaos.checkers.registry import CHECKERS

    kept = History.of([(0, "reuse", 55.0, "ok", 0.0, 0.1), (1, "reuse", 55.0, "ok", 0.0, 0.1)])
    assert check_pool_reuse(kept).valid(), "both connections answered after 55 s idle"
    dropped = History.of([(0, "reuse", 55.0, "ok", 0.0, 0.1), (1, "reuse", 55.0, "fail", 0, 1)])
    verdict = check_pool_reuse(dropped)
    assert list(verdict.anomalies) == ["dropped-idle-connection"]
    assert verdict.stats == {"reused": 1, "dropped": 1}
    assert not verdict.valid(CHECKERS["pooled-connections-usable"].forbidden)
    assert not check_pool_reuse(History.of([])).valid(), "no reuse means nothing was checked"


def test_observable_under_load_flags_silence_and_slowness() -> None:
    """An instrument that failed or answered after the deadline during the storm is a
    violation; a run that sampled nothing checked nothing."""
    from lab.chaos.checkers.observability import OBSERVED, check_observable

    history = History(t0=0.0)
    history.probes += [
        {"kind": OBSERVED, "at": 1.0, "what": "lab status", "ok": True, "seconds": 0.8},
        {"kind": OBSERVED, "at": 2.0, "what": "HAProxy stats", "ok": False, "error": "timed out"},
        {"kind": OBSERVED, "at": 3.0, "what": "clustercheck galera2", "ok": True, "seconds": 6.0},
    ]
    verdict = check_observable(history, deadline_s=5.0)
    assert len(verdict.anomalies["unanswered"]) == 2, verdict.anomalies
    assert "HAProxy stats at 2.0 s: timed out" in verdict.anomalies["unanswered"][0]
    assert verdict.stats == {"samples": 3, "answered": 1}
    assert "not-observed" in check_observable(History(t0=0.0), 5.0).anomalies


# -- reads longer than one element: the edges come from the right element ------------------


def test_g1c_fires_when_the_reads_are_longer_than_one_element() -> None:
    """wr edges come from the *last* element of a read: T1 read key 2 as [1, 2] (T2's 2
    last), T2 read key 1 as [1, 2] (T1's 2 last). T0's first elements make every read
    two long, so an edge taken from the first element would miss the cycle."""
    verdict = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1), a(2, 1)), "ok"),
                (1, "txn", txn(a(1, 2), r(2, [1, 2])), "ok"),
                (2, "txn", txn(a(2, 2), r(1, [1, 2])), "ok"),
            ]
        )
    )
    assert "G1c" in verdict.anomalies, f"circular information flow: {verdict.summary()}"
    assert "op 1" in verdict.anomalies["G1c"][0] and "op 2" in verdict.anomalies["G1c"][0]
    assert "op 0" not in verdict.anomalies["G1c"][0], "T0 is not on the cycle"
    assert not verdict.valid(READ_COMMITTED_ANOMALIES), "G1c is forbidden at read committed"


def test_read_skew_with_a_wr_edge_is_a_finding_at_read_committed() -> None:
    """T2 read key 1 before T1's append and key 2 after it: rw T2->T1, wr T1->T2, a
    cycle with one rw edge (G-single, read skew). Read committed allows it, so the run
    stays valid, and it is neither G1c nor G2-item."""
    verdict = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1), a(2, 1)), "ok", 0.0, 0.5),
                (1, "txn", txn(a(1, 2), a(2, 2)), "ok", 1.0, 3.0),  # concurrent with T2
                (2, "txn", txn(r(1, [1]), r(2, [1, 2])), "ok", 1.5, 2.5),
                (3, "txn", txn(r(1, [1, 2]), r(2, [1, 2])), "ok", 4.0, 4.5),
            ]
        )
    )
    assert set(verdict.anomalies) == {"G-single"}, verdict.summary()
    cycle = verdict.anomalies["G-single"][0]
    assert "-rw->" in cycle and "-wr->" in cycle, cycle
    assert verdict.valid(READ_COMMITTED_ANOMALIES), "read skew is allowed at read committed"


def test_a_read_of_a_longer_prefix_orders_after_the_writer_of_its_last_element() -> None:
    """rw edges go to the writer of the element right after the read's prefix: T3 read
    [1] and T2 appended 2 (the next element), not T1's 3."""
    verdict = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1)), "ok"),
                (1, "txn", txn(a(1, 2), r(2, [])), "ok"),
                (2, "txn", txn(a(1, 3), a(2, 1)), "ok"),
                (3, "txn", txn(r(1, [1, 2]), r(2, [1])), "ok"),
                (4, "txn", txn(r(1, [1, 2, 3])), "ok"),
            ]
        )
    )
    # T3 read key 1 as [1, 2]: rw T3 -> T2 (appended 3); wr T2 -> T3 (key 2): G-single
    assert "G-single" in verdict.anomalies, verdict.summary()
    assert verdict.anomalies["G-single"][0].count("op 3") >= 1
    assert verdict.valid(READ_COMMITTED_ANOMALIES), verdict.summary()


def test_intermediate_and_aborted_reads_in_longer_lists() -> None:
    g1b = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1)), "ok"),
                (1, "txn", txn(a(1, 2), a(1, 3)), "ok"),
                (2, "txn", txn(r(1, [1, 2])), "ok"),
            ]
        )
    )
    assert "G1b" in g1b.anomalies, f"[1, 2] ends in T1's intermediate state: {g1b.summary()}"
    g1a = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1)), "fail"),
                (1, "txn", txn(a(1, 2)), "ok"),
                (2, "txn", txn(r(1, [1, 2])), "ok"),
            ]
        )
    )
    assert "G1a" in g1a.anomalies, f"the first element came from a failed txn: {g1a.summary()}"
    clean = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1), a(1, 2)), "ok"),
                (1, "txn", txn(a(1, 3)), "ok"),
                (2, "txn", txn(r(1, [1, 2, 3])), "ok"),
            ]
        )
    )
    assert clean.valid(), f"a read ending in a final append is fine: {clean.summary()}"


def test_incompatible_orders_of_longer_reads() -> None:
    verdict = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1)), "ok"),
                (1, "txn", txn(a(1, 2)), "ok"),
                (2, "txn", txn(a(1, 3)), "ok"),
                (3, "txn", txn(r(1, [1, 2, 3])), "ok"),
                (4, "txn", txn(r(1, [1, 3])), "ok"),  # same length prefix? no: skips 2
            ]
        )
    )
    assert "incompatible-order" in verdict.anomalies, verdict.summary()
    prefixes = check_list_append(
        History.of(
            [
                (0, "txn", txn(a(1, 1)), "ok"),
                (1, "txn", txn(a(1, 2)), "ok"),
                (3, "txn", txn(r(1, [1, 2])), "ok"),
                (4, "txn", txn(r(1, [1])), "ok"),
                (5, "txn", txn(r(1, [])), "ok"),
            ]
        )
    )
    assert "incompatible-order" not in prefixes.anomalies, prefixes.summary()


# -- lost writes without a final read ------------------------------------------------------


def test_an_acknowledged_append_missing_from_a_later_state_is_lost_without_a_final_read() -> None:
    history = History.of(
        [
            (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
            (1, "txn", txn(a(1, 2)), "ok", 1.5, 2.0),  # begun after op 0 was acknowledged
            (2, "txn", txn(r(1, [2])), "ok", 3.0, 3.5),
        ]
    )
    verdict = check_list_append(history)
    assert "lost-write" in verdict.anomalies, verdict.summary()
    assert "op 0" in verdict.anomalies["lost-write"][0]
    assert not verdict.valid(READ_COMMITTED_ANOMALIES), "a lost acknowledged write is forbidden"


def test_a_lost_write_is_seen_past_a_concurrent_element_of_the_same_read() -> None:
    """The read shows T1's element (begun before T0's acknowledgement: no evidence) and
    T2's (begun after: evidence). Any later-begun element of the key is enough."""
    history = History.of(
        [
            (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
            (1, "txn", txn(a(1, 2)), "ok", 0.2, 0.5),
            (2, "txn", txn(a(1, 3)), "ok", 1.5, 2.0),
            (3, "txn", txn(r(1, [2, 3])), "ok", 3.0, 3.5),
        ]
    )
    verdict = check_list_append(history)
    assert "lost-write" in verdict.anomalies, verdict.summary()
    assert "shows 3" in verdict.anomalies["lost-write"][0], verdict.anomalies["lost-write"]


@pytest.mark.parametrize(
    ("ops", "why"),
    [
        (
            [
                (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
                (1, "txn", txn(a(1, 2)), "ok", 0.5, 2.0),  # concurrent with op 0
                (2, "txn", txn(r(1, [2])), "ok", 3.0, 3.5),
            ],
            "the later element's transaction began before the append was acknowledged: "
            "it may be ordered before it",
        ),
        (
            [
                (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
                (1, "txn", txn(a(1, 2)), "ok", 1.0, 2.0),  # begun at the instant of the ack
                (2, "txn", txn(r(1, [2])), "ok", 3.0, 3.5),
            ],
            "begun exactly at the acknowledgement is not after it",
        ),
        (
            [
                (0, "txn", txn(a(1, 1)), "info", 0.0, 1.0),
                (1, "txn", txn(a(1, 2)), "ok", 1.5, 2.0),
                (2, "txn", txn(r(1, [2])), "ok", 3.0, 3.5),
            ],
            "an unknown append may not have happened",
        ),
        (
            [
                (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
                (1, "txn", txn(a(1, 2)), "ok", 1.5, 2.0),
                (2, "txn", txn(r(1, [1, 2])), "ok", 3.0, 3.5),
            ],
            "the append was read",
        ),
        (
            [
                (0, "txn", txn(a(1, 1)), "ok", 0.0, 1.0),
                (1, "txn", txn(a(1, 2), a(2, 2)), "ok", 1.5, 2.0),
                (2, "txn", txn(r(2, [2])), "ok", 3.0, 3.5),
            ],
            "a later element of another key (the same value) says nothing about this key",
        ),
    ],
)
def test_no_lost_write_without_evidence(ops: list[tuple[object, ...]], why: str) -> None:
    verdict = check_list_append(History.of(ops))
    assert "lost-write" not in verdict.anomalies, f"{why}: {verdict.summary()}"


def test_a_balance_of_exactly_zero_is_allowed_below_zero_is_not() -> None:
    emptied = History.of([(1, "read", {"0": 0, "1": 20}, "ok")])
    assert check_bank(emptied, accounts=2, total=20).valid(), "an emptied account is fine"
    overdrawn = History.of([(1, "read", {"0": -1, "1": 21}, "ok")])
    verdict = check_bank(overdrawn, accounts=2, total=20)
    assert set(verdict.anomalies) == {"negative-balance"}, verdict.summary()


def test_bank_reads_of_unknown_outcome_say_nothing_and_transfers_are_counted() -> None:
    history = History.of(
        [
            (0, "transfer", {"from": 0, "to": 1, "amount": 5}, "ok"),
            (0, "transfer", {"from": 1, "to": 0, "amount": 5}, "info"),
            (0, "transfer", {"from": 1, "to": 0, "amount": 50}, "fail"),
            (1, "read", {"0": 99, "1": 99}, "info"),
            (1, "read", {"0": 15, "1": 5}, "ok"),
        ]
    )
    verdict = check_bank(history, accounts=2, total=20)
    assert verdict.valid(), verdict.summary()
    assert verdict.stats == {"reads": 1, "transfers_ok": 1, "transfers_unknown": 1}


def test_an_instrument_answering_exactly_at_the_deadline_answered() -> None:
    from lab.chaos.checkers.observability import OBSERVED, check_observable

    history = History(t0=0.0)
    history.probes += [
        {"kind": OBSERVED, "at": 1.0, "what": "lab status", "ok": True, "seconds": 5.0},
        {"kind": OBSERVED, "at": 2.0, "what": "lab status", "ok": True, "seconds": 5.001},
    ]
    verdict = check_observable(history, deadline_s=5.0)
    assert verdict.stats == {"samples": 2, "answered": 1}, verdict.summary()


def test_a_reused_connection_of_unknown_outcome_was_dropped() -> None:
    from lab.chaos.checkers.pool import REUSE, check_pool_reuse

    history = History.of([(0, REUSE, 55, "ok"), (1, REUSE, 55, "info")])
    verdict = check_pool_reuse(history)
    assert len(verdict.anomalies["dropped-idle-connection"]) == 1, verdict.summary()
    assert verdict.stats == {"reused": 1, "dropped": 1}


def test_replication_window_is_closed_at_both_ends_by_acknowledgement_time() -> None:
    """Only a write the dying master acknowledged within `window_s` before the kill may
    be lost as a finding; one acknowledged after the kill came from the promoted master
    (the GTID scenario's case: 9 s after), and losing it is a real lost write."""
    from lab.chaos.checkers.writes import check_inserts_kept

    fault_at, window = 5.0, 1.0
    cases = [
        (3.999, "lost-write", "just before the window opens"),
        (4.0, "lost-in-replication-window", "exactly at the window's start"),
        (4.5, "lost-in-replication-window", "inside the window"),
        (5.0, "lost-in-replication-window", "acknowledged exactly at the kill"),
        (5.001, "lost-write", "just after the kill: not the dead master's"),
        (14.0, "lost-write", "9 s after the kill: on the promoted master"),
    ]
    for acked_at, kind, why in cases:
        history = History.of([(0, "insert", 7, "ok", acked_at - 0.05, acked_at)])
        verdict = check_inserts_kept(history, set(), fault_at=fault_at, window_s=window)
        assert list(verdict.anomalies) == [kind], f"{why}: {verdict.summary()}"
        said = verdict.anomalies[kind][0]
        when = "after" if acked_at > fault_at else "before"
        expected = f"acknowledged {abs(fault_at - acked_at):.3f}s {when} the fault"
        assert said.endswith(expected), f"{why}: the report says when: {said}"
    spanning = History.of([(0, "insert", 7, "ok", 4.9, 5.2)])
    verdict = check_inserts_kept(spanning, set(), fault_at=fault_at, window_s=window)
    assert list(verdict.anomalies) == ["lost-write"], (
        "begun before the kill but acknowledged after it: the acknowledgement is what counts"
    )
    assert "0.200s after the fault" in verdict.anomalies["lost-write"][0], verdict.summary()
    kept = History.of([(0, "insert", 7, "ok", 14.0, 14.1)])
    assert not check_inserts_kept(kept, {7}, fault_at, window).anomalies, "a kept write is fine"


def test_check_writes_kept_takes_the_window_from_the_first_fault() -> None:
    """`lab check` replays the window from the history: its first fault closes it."""
    from lab.chaos.checkers.writes import check_writes_kept
    from lab.chaos.history import FINAL, READ_INSERTS, Fault

    history = History.of(
        [
            (0, "insert", 1, "ok", 4.4, 4.5),  # inside the window before the kill at 5.0
            (0, "insert", 2, "ok", 13.9, 14.0),  # after it: the promoted master's
            (FINAL, READ_INSERTS, [], "ok", 20.0, 20.0),
        ]
    )
    history.faults = [Fault("kill", "dbmaster", 5.0, 10.0), Fault("kill", "dbslave", 30.0)]
    verdict = check_writes_kept(history, window_s=1.0)
    assert verdict.anomalies.get("lost-in-replication-window", [""])[0].startswith("op 0"), (
        verdict.summary()
    )
    assert verdict.anomalies.get("lost-write", [""])[0].startswith("op 1"), verdict.summary()


def test_lost_appends_against_the_final_read_count_each_acknowledged_append() -> None:
    """A list-append history is judged against its final read: an acknowledged append
    missing from its key is lost; the stats count every acknowledged append once."""
    from lab.chaos.checkers.writes import check_writes_kept
    from lab.chaos.history import FINAL

    history = History.of(
        [
            (0, "txn", [["append", 1, 10], ["append", 2, 20]], "ok"),
            (1, "txn", [["append", 1, 11]], "ok"),
            (2, "txn", [["append", 3, 30]], "info"),  # unknown: never counted lost
            (3, "txn", [["append", 3, 31]], "fail"),
            (4, "txn", [["r", 1, [10]]], "ok"),
            (FINAL, "txn", [["r", 1, [10]], ["r", 2, [20]], ["r", 3, []]], "ok"),
        ]
    )
    verdict = check_writes_kept(history)
    assert list(verdict.anomalies) == ["lost-write"], verdict.summary()
    assert len(verdict.anomalies["lost-write"]) == 1, "only 11 of key 1 is missing"
    assert "11 missing from key 1" in verdict.anomalies["lost-write"][0], verdict.summary()
    assert verdict.stats == {"acknowledged_appends": 3}, verdict.stats
    nothing_read = History.of(
        [(0, "txn", [["append", 4, 40]], "ok"), (FINAL, "txn", [["r", 1, []]], "ok")]
    )
    lost = check_writes_kept(nothing_read)
    assert "40 missing from key 4" in lost.anomalies["lost-write"][0], (
        "a key the final read does not name at all lost its appends"
    )


def test_kept_inserts_stats_and_a_history_without_faults_or_final_read() -> None:
    from lab.chaos.checkers.writes import CHECKER, check_inserts_kept, check_writes_kept
    from lab.chaos.history import FINAL, READ_INSERTS

    history = History.of([(0, "insert", 1, "ok"), (0, "insert", 2, "ok"), (0, "insert", 3, "info")])
    verdict = check_inserts_kept(history, {1, 2, 9}, fault_at=5.0, window_s=1.0)
    assert verdict.checker == CHECKER == "no-acknowledged-write-lost"
    assert verdict.stats == {"acknowledged": 2, "present": 3}, verdict.stats
    no_fault = History.of(
        [(0, "insert", 1, "ok", 1.0, 1.1), (FINAL, READ_INSERTS, [7], "ok", 9.0, 9.0)]
    )
    lost = check_writes_kept(no_fault, window_s=1.0)
    assert list(lost.anomalies) == ["lost-write"], (
        f"without a fault there is no replication window: {lost.summary()}"
    )
    assert check_writes_kept(
        History.of([(0, "insert", 7, "ok"), (FINAL, READ_INSERTS, [7], "ok")])
    ).valid(), "a kept insert"
    none = check_writes_kept(History.of([(0, "insert", 1, "ok")]))
    assert none.anomalies == {"no-final-read": ["the history has no final read to compare with"]}, (
        none.summary()
    )


def test_a_transaction_reading_its_own_later_append_is_internal() -> None:
    """Found by the brute-force property: a read that shows what the same transaction
    appends only afterwards is no state any execution had (Elle's internal anomaly);
    the same read after the append is the transaction seeing its own write."""
    from lab.chaos.checkers.list_append import check_list_append

    future = History.of([(0, "txn", [["r", 0, [1]], ["append", 0, 1]], "ok")])
    verdict = check_list_append(future)
    assert list(verdict.anomalies) == ["internal"], verdict.summary()
    assert "with 1, which it appends only later" in verdict.anomalies["internal"][0]
    own = History.of([(0, "txn", [["append", 0, 1], ["r", 0, [1]]], "ok")])
    assert check_list_append(own).valid(), check_list_append(own).summary()
    failed = History.of([(0, "txn", [["r", 0, [1]], ["append", 0, 1]], "fail")])
    assert "internal" not in check_list_append(failed).anomalies, "a failed txn read nothing"


def test_every_checker_names_its_verdict_as_the_registry_does() -> None:
    """Reports, `lab check` and the forbidden kinds go by the checker's name: a verdict
    under another name would be judged against nobody's forbidden kinds."""
    from lab.chaos.checkers.registry import CHECKERS
    from lab.chaos.history import Fault

    params = {"accounts": 2, "total": 20, "slow_s": 1.0, "route": "OX1", "deadline_s": 1.0,
              "grace_s": 1.0}  # fmt: skip
    for name, checker in CHECKERS.items():
        history = History.of([(0, "noop", None, "ok", 0.0, 0.1), (0, "noop", None, "ok", 9, 9.1)])
        history.faults = [Fault("kill", "galera1", 1.0, 5.0)]
        verdict = checker.judge(history, **{p: params[p] for p in checker.needs})
        assert verdict.checker == name, f"{name}'s verdict says {verdict.checker!r}"


def test_the_groupware_checkers_count_what_the_report_shows() -> None:
    """The figures a report prints beside each verdict, on a history of every outcome."""
    from lab.chaos.checkers.groupware import check_files, check_read_your_writes, check_sessions

    history = History.of(
        [
            (0, "login", {}, "ok"),
            (1, "login", {}, "ok"),
            (0, "upload", {"doc": "1"}, "ok"),
            (0, "upload", {"doc": "2"}, "fail"),
            (1, "download", {"sha256": "a", "got_sha256": "a"}, "ok"),
            (1, "download", {"sha256": "a", "got_sha256": "b"}, "info"),  # unanswered
            (1, "download", {"sha256": "a", "got_sha256": "a"}, "fail"),
            (0, "list-folders", {"titles": []}, "ok"),
            (0, "list-folders", {"titles": []}, "fail"),
        ]
    )
    history.ops[6].error = "IFO-0300: not found"  # not a session error
    sessions = check_sessions(history)
    assert sessions.valid(), sessions.summary()
    assert sessions.stats == {"clients": 2, "requests_ok": 5, "requests_failed": 3}
    files = check_files(history)
    assert files.valid(), "an unanswered download's bytes are not judged"
    assert files.stats == {"uploads": 1, "downloads": 1}, files.stats
    listings = check_read_your_writes(history)
    assert listings.stats == {"listings": 2}, listings.stats


def test_a_session_error_and_a_second_login_are_each_a_lost_session() -> None:
    from lab.chaos.checkers.groupware import check_sessions

    history = History.of(
        [(0, "login", {}, "ok"), (0, "get", {}, "fail"), (1, "login", {}, "ok"),
         (1, "get", {}, "info"), (0, "login", {}, "fail"), (0, "login", {}, "ok")]
    )  # fmt: skip
    history.ops[1].error = "SES-0203: session expired"
    history.ops[3].error = "SES-0203: but unanswered"
    found = check_sessions(history).anomalies["session-lost"]
    assert len(found) == 2 and "SES-0203" in found[0] and "logged in again" in found[1], found


def test_one_writer_counts_overlaps_writer_changes_and_samples() -> None:
    from lab.chaos.checkers.writers import WRITE_SERVERS, check_one_writer
    from lab.chaos.history import FINAL

    history = History.of(
        [
            (0, "insert", 1, "ok", 0.0, 1.0),
            (1, "insert", 2, "ok", 0.5, 1.5),  # overlaps op 0, same node
            (2, "insert", 3, "ok", 2.0, 3.0),
            (3, "insert", 4, "ok", 2.5, 3.5),  # overlaps op 2 on another node
            (4, "insert", 5, "fail", 2.6, 2.7),  # failed: not a write
            (FINAL, "insert", 6, "ok", 2.6, 2.9),  # the final read is not a writer
            (5, "insert", 7, "ok", 3.0, 4.0),  # touches op 2's end: no overlap
        ]
    )
    for op, node in zip(history.ops, ["g1", "g1", "g1", "g2", "g2", "g2", "g1"], strict=True):
        op.node = node
    history.probes = [
        {"kind": WRITE_SERVERS, "at": 1.0, "instances": {"a": ["g1"], "b": ["g1"]}},
        {"kind": WRITE_SERVERS, "at": 2.0, "instances": {"a": ["g1"], "b": ["g2"]}},
        {"kind": "other", "at": 2.0},
    ]
    verdict = check_one_writer(history)
    assert len(verdict.anomalies["two-writers"]) == 2, verdict.summary()  # (2,3) and (3,6)
    assert "at 2.0 s" in verdict.anomalies["two-write-servers"][0]
    assert len(verdict.anomalies["two-write-servers"]) == 1
    assert verdict.stats == {
        "writes": 5,
        "overlapping_pairs": 2,
        "samples": 2,
        "writer_changes": 2,
    }, verdict.stats


def test_pool_reuse_verdicts_word_for_word() -> None:
    from lab.chaos.checkers.pool import REUSE, check_pool_reuse

    history = History.of(
        [(0, REUSE, 59.5, "ok"), (1, REUSE, 30, "fail"), (2, REUSE, 45, "info"), (3, "x", 1, "ok")]
    )
    history.ops[1].error = "2013 Lost connection"
    verdict = check_pool_reuse(history)
    assert verdict.anomalies == {
        "dropped-idle-connection": [
            "client 1: idle 30 s within OX's maxIdleTime, then 2013 Lost connection",
            "client 2: idle 45 s within OX's maxIdleTime, then info",
        ]
    }, verdict.anomalies
    assert verdict.stats == {"reused": 1, "dropped": 2}
    none = check_pool_reuse(History.of([(0, "x", 1, "ok")]))
    assert none.anomalies == {
        "no-reuse": ["no pooled connection was used again: nothing was checked"]
    }
    assert none.stats == {"reused": 0, "dropped": 0}


def test_observability_verdicts_word_for_word_at_the_deadline() -> None:
    from lab.chaos.checkers.observability import OBSERVED, check_observable

    history = History.of([])
    history.probes = [
        {"kind": OBSERVED, "what": "lab status", "at": 1.0, "ok": True, "seconds": 2.0},
        {"kind": OBSERVED, "what": "stats", "at": 2.0, "ok": True, "seconds": 2.01},
        {"kind": OBSERVED, "what": "clustercheck", "at": 3.0, "ok": False, "error": "refused"},
        {"kind": OBSERVED, "what": "clustercheck", "at": 4.0, "ok": False},
        {"kind": OBSERVED, "what": "status", "at": 5.0, "ok": True},  # no time: in time
        {"kind": "other", "what": "x", "at": 6.0, "ok": False},
    ]
    verdict = check_observable(history, deadline_s=2.0)
    assert verdict.anomalies == {
        "unanswered": [
            "stats at 2.0 s took 2.01 s (deadline 2.0 s)",
            "clustercheck at 3.0 s: refused",
            "clustercheck at 4.0 s: ?",
        ]
    }, verdict.anomalies
    assert verdict.stats == {"samples": 5, "answered": 2}, "exactly at the deadline: answered"
    nothing = check_observable(History.of([]), 1.0)
    assert nothing.anomalies == {
        "not-observed": ["nothing was sampled during the fault: nothing was checked"]
    }


def test_consistency_verdicts_word_for_word() -> None:
    from lab.chaos.checkers.consistency import check_nodes_consistent
    from lab.roles.db.consistency import CHECKSUMS

    history = History.of([])
    assert check_nodes_consistent(history).anomalies == {
        "not-checksummed": ["no checksums were taken: nothing was compared"]
    }
    history.probes = [{"kind": CHECKSUMS, "nodes": {}}]
    lone = check_nodes_consistent(history)
    assert lone.anomalies == {"single-node": ["only no node could be compared"]}
    history.probes = [
        {"kind": CHECKSUMS, "nodes": {"g1": {}, "g2": {}, "g3": {}}},  # an earlier one
        {"kind": CHECKSUMS, "nodes": {"g1": {}}},  # the last checksums count
    ]
    verdict = check_nodes_consistent(history)
    assert verdict.anomalies == {"single-node": ["only g1 could be compared"]}
    assert verdict.stats == {"nodes": 1, "chunks": 0}


def test_failures_confined_word_for_word() -> None:
    """A fault on OX1: users on OX2 must not fail, users on OX1 must end up elsewhere."""
    from lab.chaos.checkers.confined import check_failures_confined
    from lab.chaos.history import Fault

    rows: list[tuple[int, str, dict[str, str], str, float, float, str]] = [
        (1, "get", {}, "fail", 1.0, 1.1, "OX1"),  # moved: failed on OX1, then ok on OX2
        (1, "get", {}, "ok", 1.5, 1.6, "OX2"),
        (2, "get", {}, "ok", 1.2, 1.3, "OX1"),  # stuck: its last request failed on OX1
        (2, "get", {}, "fail", 1.7, 1.8, "OX1"),
        (3, "get", {}, "fail", 2.0, 2.1, "OX2"),  # another user failed: 4 of them
        (4, "get", {}, "info", 2.0, 2.1, "OX2"),
        (5, "get", {}, "fail", 2.0, 2.1, "OX2"),
        (6, "get", {}, "fail", 2.0, 2.1, "OX2"),
        (7, "get", {}, "fail", 2.0, 2.1, ""),  # no node known: not counted elsewhere
        (8, "get", {}, "fail", 9.5, 9.6, "OX2"),  # after the heal
    ]
    history = History.of([r[:6] for r in rows])
    for op, row in zip(history.ops, rows, strict=True):
        op.node = row[6]
    history.faults = [Fault("kill", "oxgw01", 1.0, 9.0)]
    verdict = check_failures_confined(history, "OX1")
    assert [line.split(" (")[0] for line in verdict.anomalies["other-users-failed"]] == [
        "op 4", "op 5", "op 6"
    ], "the first three named"  # fmt: skip
    assert verdict.anomalies["other-users-failed"][0].endswith("(session on OX2)")
    assert verdict.anomalies["not-moved"] == [
        f"process 2: still failing on OX1: {history.ops[3].describe()}"
    ]
    assert verdict.stats == {
        "failed_on_faulty_node": 2,
        "failed_elsewhere": 4,
        "users_moved": 1,
    }, verdict.stats
    history.faults = [Fault("kill", "oxgw01", 1.0)]  # never healed: to the last operation
    assert check_failures_confined(history, "OX1").stats["failed_elsewhere"] == 5


def test_one_holder_word_for_word_and_the_split_brains_length() -> None:
    from lab.chaos.checkers.floating import HOLDERS, check_one_holder

    history = History.of([])
    history.probes = [
        {"kind": HOLDERS, "at": 1.0, "address": "10.0.0.9", "holders": ["dblb1"]},
        {"kind": HOLDERS, "at": 2.04, "address": "10.0.0.9", "holders": ["dblb1", "dblb2"]},
        {"kind": HOLDERS, "at": 2.5, "address": "10.0.0.9", "holders": []},
        {"kind": HOLDERS, "at": 3.25, "address": "10.0.0.9", "holders": ["dblb2", "dblb1"]},
        {"kind": "other", "at": 4.0, "holders": ["x", "y"]},
    ]
    verdict = check_one_holder(history)
    assert verdict.anomalies == {
        "split-brain": ["from 2.0 s dblb1 and dblb2 both held 10.0.0.9 (2 of 4 samples)"],
        "no-address-holder": ["1 samples where nobody held it"],
    }, verdict.anomalies
    assert verdict.stats == {"samples": 4, "split_brain_samples": 2, "split_brain_ms": 1210}
    calm = History.of([])
    calm.probes = [{"kind": HOLDERS, "at": 1.0, "address": "a", "holders": ["dblb1"]}]
    assert check_one_holder(calm).stats == {
        "samples": 1,
        "split_brain_samples": 0,
        "split_brain_ms": 0,
    }


def test_unchecked_rotation_word_for_word_at_its_edges() -> None:
    """The checked path's first failure in the fault at 2.0 s, served again at 2.5 s:
    unchecked connects from then to the heal (both ends counted) that failed or waited
    exactly slow_s are counted; a checked connect that failed before the fault began
    does not start the count."""
    from lab.chaos.checkers.floating import (
        CHECKED_CLIENT,
        UNCHECKED_CLIENT,
        check_unchecked_rotation,
    )
    from lab.chaos.history import Fault

    c, u = CHECKED_CLIENT, UNCHECKED_CLIENT
    history = History.of(
        [
            (0, c, None, "fail", 0.0, 0.5),  # before the fault: not the takeover
            (0, c, None, "fail", 1.5, 2.0),  # the first failure in the fault
            (0, c, None, "ok", 2.5, 2.6),  # served again at 2.5
            (0, c, None, "fail", 4.0, 4.1),  # a later flap
            (1, u, None, "fail", 2.4, 2.45),  # before the checked path was back
            (1, u, None, "fail", 2.5, 2.6),  # exactly when it was back
            (1, u, None, "ok", 3.0, 4.0),  # waited exactly slow_s
            (1, u, None, "ok", 4.0, 4.99),  # just under slow_s
            (1, u, None, "info", 6.0, 6.1),  # exactly at the heal
            (1, u, None, "fail", 6.5, 6.6),  # after the heal
        ]
    )
    history.faults = [Fault("freeze", "dblb1", 1.0, 6.0)]
    verdict = check_unchecked_rotation(history, slow_s=1.0)
    assert verdict.anomalies == {
        "dead-address-used": [
            "3 of 4 unchecked connects failed or waited 1 s after the checked path served "
            "again; the last at 6.0 s, 0.0 s before the heal"
        ]
    }, verdict.anomalies
    assert verdict.stats == {
        "checked_back_after_ms": 1500,
        "unchecked_connects_after": 4,
        "unchecked_connects_bad": 3,
        "checked_connects_bad_after": 1,
    }, verdict.stats
    history.faults = [Fault("freeze", "dblb1", 1.0)]  # never healed: to the last operation
    assert check_unchecked_rotation(history, slow_s=1.0).stats["unchecked_connects_after"] == 5
