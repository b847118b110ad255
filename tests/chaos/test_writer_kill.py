"""Before rollout: kill the Galera node that holds HAProxy's write role while a client
writes through the write listener. Writes must move to a backup and nothing
acknowledged may be lost. The write gap is printed (and benchmarked by
`lab bench failover [--profile ox]`), not asserted: timing is a figure, not a verdict."""

from __future__ import annotations

import pytest

from lab.chaos import Op, kill_writer, longest_stall, lost_writes, pause_node, write_gap
from lab.lab import Lab

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.docker]


def test_writer_kill_moves_writes_and_loses_nothing(healthy_lab: Lab) -> None:
    result = kill_writer(healthy_lab)
    print(
        f"write gap after killing {result.killed}: {result.gap_s:.2f} s "
        f"(profile {result.profile}), {result.unknown} operation(s) of unknown outcome"
    )
    assert result.new_writer != result.killed, "writes moved to a backup"
    assert result.lost == [], f"acknowledged writes lost: {result.lost[:5]}"
    assert result.acked > 20


def test_checkers_fire_on_crafted_histories() -> None:
    history = [
        Op(1, 0.0, 0.1, "ok", "galera1"),
        Op(2, 0.2, 0.3, "info"),
        Op(3, 0.4, 2.5, "ok", "galera2"),
        Op(4, 2.6, 2.7, "fail"),
    ]
    assert lost_writes(history, {1, 3}) == [], "a clean history passes"
    assert [op.value for op in lost_writes(history, {3})] == [1], "an acked write missing fires"
    assert lost_writes(history, {1}) == [history[2]]
    assert write_gap(history, 0.15, "galera1") == pytest.approx(2.35), "unknown is not ok"


def test_frozen_node_stalls_writes_at_most_until_evicted(healthy_lab: Lab) -> None:
    """Flow control waits for a frozen member until the evs timeouts evict it; then the
    two others go on. Nothing acknowledged is lost and the node rejoins after unpause."""
    result = pause_node(healthy_lab)
    print(
        f"longest write stall with {result.paused} frozen: {result.longest_stall_s:.2f} s "
        f"(profile {result.profile}; evicted: {result.evicted})"
    )
    assert result.lost == [], f"acknowledged writes lost: {result.lost[:5]}"
    assert result.acked > 20, "writes went on around the frozen node"


def test_longest_stall_is_measured_between_acknowledged_writes() -> None:
    history = [
        Op(1, 0.0, 1.0, "ok"),
        Op(2, 1.0, 4.0, "ok"),
        Op(3, 4.0, 4.5, "info"),
        Op(4, 4.5, 5.0, "ok"),
    ]
    assert longest_stall(history, 0.5, 6.0) == pytest.approx(3.0)
