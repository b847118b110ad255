"""The list-append checker against a brute-force reference on generated histories.

The reference tries every serial order of the committed transactions and asks whether
one explains every read (a read sees exactly the appends of the transactions before it,
then its own). On histories whose transactions all overlap in time (so real-time
findings, stale reads and inferred lost writes, cannot arise) and whose final read shows
every committed append (so every version order is known), the checker must find no
anomaly exactly when such an order exists: a clean verdict on a history no serial order
explains is a missed anomaly, a finding on one that an order explains is a false alarm.
Histories come from a serial execution, then one read is corrupted (or not) the ways a
broken cluster corrupts them: a stale or future snapshot, a lost or an aborted element,
garbage, a duplicate, a reordering.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.chaos.checkers.list_append import check_list_append
from lab.chaos.history import FINAL, TXN, History, Op
from tests.unit.budget import examples

KEYS = 2
Mop = list[Any]  # ["append", key, value] | ["r", key, list | None]


def explains(order: list[list[Mop]]) -> bool:
    """Whether running the transactions in this order gives every read it recorded."""
    state: dict[int, list[int]] = {key: [] for key in range(KEYS)}
    for txn in order:
        for f, key, value in txn:
            if f == "append":
                state[key] = [*state[key], value]
            elif value is not None and value != state[key]:
                return False
    return True


def serializable(committed: list[list[Mop]], unknown: Sequence[list[Mop]] = ()) -> bool:
    """Some serial order of the committed transactions, and of any of the unknown
    (info: they may or may not have happened), explains every read."""
    for size in range(len(unknown) + 1):
        for happened in itertools.combinations(unknown, size):
            chosen = [*committed, *happened]
            if any(explains(list(order)) for order in itertools.permutations(chosen)):
                return True
    return False


@st.composite
def histories(draw: st.DrawFn) -> tuple[History, bool]:
    """(history, serializable per the reference)"""
    counter = itertools.count(1)
    shapes = draw(
        st.lists(
            st.tuples(
                st.lists(
                    st.tuples(st.sampled_from(["append", "r"]), st.integers(0, KEYS - 1)),
                    min_size=1,
                    max_size=3,
                ),
                st.sampled_from(["ok", "ok", "ok", "fail", "info"]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    txns: list[tuple[list[Mop], str]] = [
        ([[f, key, next(counter) if f == "append" else None] for f, key in mops], outcome)
        for mops, outcome in shapes
    ]
    committed = [mops for mops, outcome in txns if outcome == "ok"]
    unknown = [mops for mops, outcome in txns if outcome == "info"]
    for mops in unknown:  # nobody saw what an unanswered transaction read
        for mop in mops:
            mop[2] = None if mop[0] == "r" else mop[2]
    happened = [mops for mops in unknown if draw(st.booleans())]
    state: dict[int, list[int]] = {key: [] for key in range(KEYS)}
    snapshots = [dict(state)]
    for mops in draw(st.permutations([*committed, *happened])):
        for mop in mops:
            f, key, _ = mop
            if f == "append":
                state[key] = [*state[key], mop[2]]
            elif not any(mops is u for u in unknown):
                mop[2] = list(state[key])
        snapshots.append(dict(state))
    reads = [mop for mops in committed for mop in mops if mop[0] == "r"]
    broken: bool = draw(st.booleans())
    if reads and broken:
        corrupt(draw, draw(st.sampled_from(reads)), snapshots, txns)
    final = [["r", key, list(state[key])] for key in range(KEYS)]
    ops = [(0, TXN, mops, outcome, 0.0, 1.0) for mops, outcome in txns]
    history = History.of([*ops, (FINAL, TXN, final, "ok", 0.0, 1.0)])
    return history, serializable([*committed, final], unknown)


def corrupt(draw: st.DrawFn, read: Mop, snapshots: list[dict[int, list[int]]], txns: Any) -> None:
    key, seen = read[1], list(read[2])
    aborted = [
        m[2]
        for mops, outcome in txns
        if outcome == "fail"
        for m in mops
        if m[0] == "append" and m[1] == key
    ]
    ways = ["snapshot", "garbage"] + (["drop", "duplicate", "reverse"] if seen else [])
    ways += ["aborted"] if aborted else []
    way = draw(st.sampled_from(ways))
    if way == "snapshot":  # the key as of another point of the serial order
        seen = list(draw(st.sampled_from(snapshots))[key])
    elif way == "garbage":
        seen = [*seen, 999]
    elif way == "drop":
        seen.pop(draw(st.integers(0, len(seen) - 1)))
    elif way == "duplicate":
        seen = [*seen, seen[0]]
    elif way == "reverse":
        seen = seen[::-1]
    else:
        seen = [*seen, draw(st.sampled_from(aborted))]
    read[2] = seen


def described(history: History) -> str:
    return "\n".join(f"  {op.index} {op.outcome} {op.value}" for op in history.ops)


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_the_checker_finds_an_anomaly_exactly_when_no_serial_order_explains_the_history(
    case: tuple[History, bool],
) -> None:
    history, explained = case
    verdict = check_list_append(history)
    if explained:
        assert not verdict.anomalies, (
            f"a false alarm: this history has a serial order, yet {verdict.summary()}\n"
            + described(history)
        )
    else:
        assert verdict.anomalies, (
            "a missed anomaly: no serial order explains this history, yet the checker "
            f"found nothing\n{described(history)}"
        )


def test_the_reference_itself_tells_a_serial_history_from_a_broken_one() -> None:
    """The reference is code too: one history it must accept and one it must refuse."""
    t1: list[Mop] = [["append", 0, 1]]
    t2: list[Mop] = [["r", 0, [1]], ["append", 0, 2]]
    assert serializable([t2, t1]), "t1 then t2 explains both"
    assert not serializable([[["r", 0, [1]]], [["r", 0, []]], [["r", 0, [1, 2]]]]), (
        "[1] and [1, 2] are read, but nobody appends"
    )
    assert not explains([t2, t1]) and explains([t1, t2]), "order matters"
    assert serializable([t2], unknown=[t1]), "an unknown append may have happened"
    assert serializable([[["r", 0, []]]], unknown=[t1]), "... or not"


@settings(max_examples=examples(50), deadline=None)
@given(histories())
def test_generated_histories_are_recorded_as_the_checker_reads_them(
    case: tuple[History, bool],
) -> None:
    """The generator's histories are well-formed: the history file's own validation
    (what `lab check` reads) accepts every operation."""
    from lab.chaos.history import check_value

    for op in case[0].ops:
        assert isinstance(op, Op)
        check_value(op)
