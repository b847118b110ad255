"""A dependency-graph checker for the list-append workload, in the spirit of Jepsen's Elle.

What it forbids and what it only reports: the lab's flavours run InnoDB at their default
isolation (REPEATABLE READ, whose reads are snapshots but whose locking reads and
writes see the latest version, and Galera certifies only write sets), so they promise
read committed and no more across a cluster. Forbidden (FORBIDDEN, any flavour):
G0, G1a, G1b, G1c, incompatible orders, duplicates, garbage reads (a value nobody ever
appended) and internal inconsistency (a transaction that does not see its own appends
or its own earlier reads). Reported as findings, allowed at that isolation level:
G-single, G2-item, lost updates, stale reads and non-repeatable reads inside a
transaction (Jepsen's 2026 MariaDB Galera report found them; a flavour run at
SERIALIZABLE would forbid them too).

Each transaction is a list of micro-operations ["append", key, value] or ["r", key, list].
Appended values are unique per key, so a read's list names exactly which transactions
it saw, and the longest read of a key gives the key's version order. From that order:

  ww  T1 appended the element just before T2's element on the same key
  wr  T2 read a list whose last element T1 appended
  rw  T1 read a list, and T2 appended the element that came next (T1 did not see it)

A cycle of such edges is an anomaly no serializable execution has, classified as Adya
does: only ww edges: G0 (dirty write); ww and wr: G1c (circular information flow);
exactly one rw: G-single (read skew, lost update); more: G2-item (write skew). Outside
cycles it finds aborted reads (G1a: a failed transaction's element was read), intermediate
reads (G1b: a list ending in an element its writer later followed with another),
incompatible orders (two reads of a key that are not prefixes of one another), duplicate
elements, lost updates (two committed transactions read the same version of a key and
both appended to it), stale reads (a transaction missed an append that had been
acknowledged before it began) and lost writes without a final read: an acknowledged
append that no read ever shows, although a read shows an element appended by a
transaction that began after it was acknowledged (lists only grow, so that read's state
came after the append's).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from lab.chaos.checkers import Verdict
from lab.chaos.history import TXN, History, Op

# Prohibited even at read committed: what any MySQL flavour must never show.
READ_COMMITTED_ANOMALIES = (
    "G0",
    "G1a",
    "G1b",
    "G1c",
    "incompatible-order",
    "duplicate",
    "garbage-read",
    "internal",
    "lost-write",
)

Edge = tuple[int, int, str]  # from op index, to op index, ww/wr/rw


def _mops(op: Op) -> list[tuple[str, int, Any]]:
    return [(str(m[0]), int(m[1]), m[2]) for m in op.value]


def check_list_append(history: History) -> Verdict:
    verdict = Verdict("list-append")
    txns = [op for op in history.ops if op.f == TXN]
    by_index = {op.index: op for op in txns}
    writer: dict[tuple[int, int], Op] = {}
    final_append: dict[tuple[int, int], int] = {}  # (txn, key) -> its last appended value
    for op in txns:
        for f, key, value in _mops(op):
            if f == "append":
                writer[(key, int(value))] = op
                final_append[(op.index, key)] = int(value)

    reads: list[tuple[Op, int, list[int]]] = [
        (op, key, [int(v) for v in value])
        for op in txns
        if op.outcome == "ok"
        for f, key, value in _mops(op)
        if f == "r" and value is not None
    ]
    _internal(txns, verdict)
    orders = _version_orders(reads, verdict)
    _aborted_and_intermediate_reads(reads, writer, final_append, verdict)
    edges = _edges(reads, orders, writer)
    _cycles(edges, by_index, verdict)
    _lost_updates(txns, verdict)
    _stale_reads(reads, txns, verdict)
    _lost_writes(reads, txns, writer, verdict)
    verdict.stats = {
        "transactions": len(txns),
        "ok": sum(op.outcome == "ok" for op in txns),
        "unknown": sum(op.outcome == "info" for op in txns),
        "keys": len(orders),
        "edges": len(edges),
    }
    return verdict


def _internal(txns: list[Op], verdict: Verdict) -> None:
    """Within one committed transaction, a read of a key ends with the transaction's own
    appends since its last read of that key, and extends that earlier read (lists only
    grow): anything else is `internal`, forbidden at every isolation level. A later read
    that also shows other transactions' appends committed meanwhile is a
    `non-repeatable-read`: allowed at read committed, and InnoDB's documented exception
    at REPEATABLE READ (a transaction's update applies to the latest committed version,
    which its later reads then see), so only a finding. A read that shows an element
    the transaction appends only later (its own future) is `internal` too."""
    for op in txns:
        if op.outcome != "ok":
            continue
        last_read: dict[int, list[int]] = {}
        appended: dict[int, list[int]] = defaultdict(list)  # since the last read of the key
        # per key, what the transaction has still to append at this point of it
        future: dict[int, set[int]] = defaultdict(set)
        for f, key, value in _mops(op):
            if f == "append":
                future[key].add(int(value))
        for f, key, value in _mops(op):
            if f == "append":
                appended[key].append(int(value))
                future[key].discard(int(value))
                continue
            if value is None:
                continue
            seen = [int(v) for v in value]
            own = appended[key]
            earlier = last_read.get(key)
            ends_with_own = not own or seen[len(seen) - len(own) :] == own
            extends_earlier = earlier is None or seen[: len(earlier)] == earlier
            ahead = sorted(future[key].intersection(seen))
            if ahead:
                verdict.add(
                    "internal",
                    f"{op.describe()} read key {key} as {seen}, with {ahead[0]}, which it "
                    "appends only later",
                )
            elif not (ends_with_own and extends_earlier):
                expected = f"{earlier} + " if earlier is not None else "a list ending in "
                verdict.add(
                    "internal",
                    f"{op.describe()} read key {key} as {seen}, its own earlier read and "
                    f"appends make {expected}{own}",
                )
            elif earlier is not None and seen != earlier + own:
                verdict.add(
                    "non-repeatable-read",
                    f"{op.describe()} read key {key} as {earlier}, then as {seen} "
                    f"(its own appends: {own})",
                )
            last_read[key] = seen
            appended[key] = []


def _version_orders(
    reads: list[tuple[Op, int, list[int]]], verdict: Verdict
) -> dict[int, list[int]]:
    """Per key, the longest read, provided every read of the key is a prefix of it."""
    longest: dict[int, tuple[Op, list[int]]] = {}
    for op, key, seen in reads:
        if len(set(seen)) != len(seen):
            verdict.add("duplicate", f"{op.describe()} read key {key} with a repeated element")
        if key not in longest or len(seen) > len(longest[key][1]):
            longest[key] = (op, seen)
    for op, key, seen in reads:
        other, order = longest[key]
        if order[: len(seen)] != seen:
            verdict.add(
                "incompatible-order",
                f"key {key}: {op.describe()} read {seen}, {other.describe()} read {order}",
            )
    return {key: order for key, (_, order) in longest.items()}


def _aborted_and_intermediate_reads(
    reads: list[tuple[Op, int, list[int]]],
    writer: dict[tuple[int, int], Op],
    final_append: dict[tuple[int, int], int],
    verdict: Verdict,
) -> None:
    for op, key, seen in reads:
        for value in seen:
            source = writer.get((key, value))
            if source is None:
                verdict.add(
                    "garbage-read", f"{op.describe()} read {value} on key {key}, never appended"
                )
            elif source.outcome == "fail" and source is not op:
                verdict.add(
                    "G1a",
                    f"{op.describe()} read {value} on key {key} from failed {source.describe()}",
                )
        if seen:
            source = writer.get((key, seen[-1]))
            if source and source is not op and final_append.get((source.index, key)) != seen[-1]:
                verdict.add(
                    "G1b",
                    f"{op.describe()} read key {key} ending in {seen[-1]}, an intermediate "
                    f"state of {source.describe()}",
                )


def _edges(
    reads: list[tuple[Op, int, list[int]]],
    orders: dict[int, list[int]],
    writer: dict[tuple[int, int], Op],
) -> set[Edge]:
    edges: set[Edge] = set()

    def add(a: Op | None, b: Op | None, kind: str) -> None:
        if a is not None and b is not None and a is not b and "fail" not in (a.outcome, b.outcome):
            edges.add((a.index, b.index, kind))

    for key, order in orders.items():
        for before, after in itertools.pairwise(order):
            add(writer.get((key, before)), writer.get((key, after)), "ww")
    for op, key, seen in reads:
        order = orders[key]
        if seen:
            add(writer.get((key, seen[-1])), op, "wr")
        if len(seen) < len(order):
            add(op, writer.get((key, order[len(seen)])), "rw")
    return edges


def _cycles(edges: set[Edge], by_index: dict[int, Op], verdict: Verdict) -> None:
    """For each strongly connected component, one example cycle of every class it holds
    (a component with a G0 cycle may hold a G1c and a G-single cycle too; each is its
    own finding, and a report naming only the strongest would hide the others)."""
    for component in _sccs(edges):
        inside = {e for e in edges if e[0] in component and e[1] in component}
        found = {
            "G0": _find_cycle({e for e in inside if e[2] == "ww"}),
            "G1c": _cycle_through(inside, {"ww", "wr"}, "wr", 1),
            "G-single": _g_single(inside),
            "G2-item": _cycle_through(inside, {"ww", "wr", "rw"}, "rw", 2),
        }
        for kind, cycle in found.items():
            if cycle:
                verdict.add(kind, _explain(cycle, by_index))


RW_EDGES_TRIED = 200  # bounds the search on huge components; a cycle is still reported


def _g_single(edges: set[Edge]) -> list[Edge] | None:
    """A cycle with exactly one rw edge: rw a->b, then b back to a over ww/wr only."""
    plain = _adjacency({e for e in edges if e[2] != "rw"})
    for a, b, kind in sorted(e for e in edges if e[2] == "rw")[:RW_EDGES_TRIED]:
        path = _path_counting(plain, b, a, "", 0)
        if path is not None:
            return [(a, b, kind), *path]
    return None


def _cycle_through(
    edges: set[Edge], kinds: set[str], counted: str, at_least: int
) -> list[Edge] | None:
    """A cycle over edges of `kinds` with at least `at_least` edges of kind `counted`:
    an edge of that kind a->b, then a path b->a with the rest of the count."""
    usable = {e for e in edges if e[2] in kinds}
    out = _adjacency(usable)
    for a, b, kind in sorted(e for e in usable if e[2] == counted)[:RW_EDGES_TRIED]:
        path = _path_counting(out, b, a, counted, at_least - 1)
        # the search may pass a transaction twice to make up the count; only a simple
        # cycle is an anomaly (the same rw edge walked twice is one G-single, not G2)
        if path is not None and _simple([(a, b, kind), *path]):
            return [(a, b, kind), *path]
    return None


def _simple(cycle: list[Edge]) -> bool:
    starts = [edge[0] for edge in cycle]
    return len(set(starts)) == len(starts)


def _adjacency(edges: set[Edge]) -> dict[int, list[Edge]]:
    out: dict[int, list[Edge]] = defaultdict(list)
    for edge in sorted(edges):
        out[edge[0]].append(edge)
    return out


def _path_counting(
    out: dict[int, list[Edge]], source: int, target: int, counted: str, need: int
) -> list[Edge] | None:
    """Shortest path source->target using at least `need` edges of kind `counted`
    (breadth-first over (node, count so far), the count capped at `need`)."""
    start = (source, 0)
    came: dict[tuple[int, int], tuple[tuple[int, int], Edge] | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for state in frontier:
            node, count = state
            if node == target and count >= need:
                path = []
                step = came[state]
                while step is not None:
                    previous, edge = step
                    path.append(edge)
                    step = came[previous]
                return path[::-1]
            for edge in out[node]:
                nxt = (edge[1], min(need, count + (edge[2] == counted)))
                if nxt not in came:
                    came[nxt] = (state, edge)
                    following.append(nxt)
        frontier = following
    return None


def _find_cycle(edges: set[Edge]) -> list[Edge] | None:
    """Some cycle among `edges`: any edge inside a strongly connected component closes
    one, so one search suffices."""
    for component in _sccs(edges):
        a, b, kind = min(e for e in edges if e[0] in component and e[1] in component)
        path = _path_counting(_adjacency(edges), b, a, "", 0)
        if path is not None:
            return [(a, b, kind), *path]
    return None


def _sccs(edges: Iterable[Edge]) -> list[set[int]]:
    """Strongly connected components with more than one member (iterative Tarjan)."""
    graph: dict[int, list[int]] = defaultdict(list)
    for a, b, _ in edges:
        graph[a].append(b)
        graph.setdefault(b, [])
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[set[int]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if child < len(successors):
                work.append((node, child + 1))
                succ = successors[child]
                if succ not in index:
                    work.append((succ, 0))
                elif succ in on_stack:
                    low[node] = min(low[node], index[succ])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _explain(cycle: list[Edge], by_index: dict[int, Op]) -> str:
    steps = [f"{by_index[a].describe()} -{kind}-> " for a, _, kind in cycle]
    return "cycle: " + "".join(steps) + by_index[cycle[0][0]].describe()


def _lost_updates(txns: list[Op], verdict: Verdict) -> None:
    """Two committed transactions read the same version of a key and both appended to
    it: one's append was made without seeing the other's (P4, lost update)."""
    seen_by: dict[tuple[int, tuple[int, ...]], list[Op]] = defaultdict(list)
    for op in txns:
        if op.outcome != "ok":
            continue
        read_first: dict[int, tuple[int, ...]] = {}  # the version read before appending
        written: set[int] = set()
        for f, key, value in _mops(op):
            if f == "r" and key not in written and value is not None:
                read_first.setdefault(key, tuple(int(v) for v in value))
            elif f == "append":
                written.add(key)
        for key, version in read_first.items():
            if key in written:
                seen_by[(key, version)].append(op)
    for (key, version), ops in sorted(seen_by.items()):
        if len(ops) > 1:
            names = ", ".join(op.describe() for op in ops)
            verdict.add(
                "lost-update", f"key {key} version {list(version)} read and appended by {names}"
            )


def _stale_reads(reads: list[tuple[Op, int, list[int]]], txns: list[Op], verdict: Verdict) -> None:
    """A read missed an append acknowledged before the reading transaction began."""
    acknowledged: dict[int, list[tuple[float, int, Op]]] = defaultdict(list)
    for op in txns:
        if op.outcome == "ok":
            for f, key, value in _mops(op):
                if f == "append":
                    acknowledged[key].append((op.end, int(value), op))
    for op, key, seen in reads:
        present = set(seen)
        missed = [
            w for end, value, w in acknowledged[key] if end < op.start and value not in present
        ]
        if missed:
            verdict.add(
                "stale-read",
                f"{op.describe()} read key {key} without {missed[0].describe()}, acknowledged "
                f"{op.start - missed[0].end:.3f}s before it began",
            )


def _lost_writes(
    reads: list[tuple[Op, int, list[int]]],
    txns: list[Op],
    writer: dict[tuple[int, int], Op],
    verdict: Verdict,
) -> None:
    """An acknowledged append that no other transaction ever read, although some read
    of its key shows an element whose transaction began after the append was
    acknowledged: that read's state is later than the append's, so the append is gone.
    Needs no final read (a final read, when there is one, is a read like any other)."""
    shown: dict[int, set[int]] = defaultdict(set)
    # per key, the read element whose transaction began last: (its begin, reader, value)
    latest: dict[int, tuple[float, Op, int]] = {}
    for op, key, seen in reads:
        for v in seen:
            w = writer.get((key, v))
            if w is not op:
                shown[key].add(v)
            if w is not None and (key not in latest or w.start > latest[key][0]):
                latest[key] = (w.start, op, v)
    for op in txns:
        if op.outcome != "ok":
            continue
        for f, key, value in _mops(op):
            if f != "append" or int(value) in shown[key] or key not in latest:
                continue
            began, reader, v = latest[key]
            if began > op.end:
                verdict.add(
                    "lost-write",
                    f"{op.describe()} appended {value} to key {key}, acknowledged; no read "
                    f"shows it, yet {reader.describe()} shows {v}, appended by a transaction "
                    "begun after that acknowledgement",
                )
