"""A chaos run's history: every operation a workload client performed, with start and end
times and its outcome, written as JSON lines so checkers (and people) can read it later,
and `lab check` can judge it again after a checker is fixed.

Outcomes follow Jepsen: `ok` (acknowledged), `fail` (certainly did not happen: refused
before anything was sent, or rolled back), `info` (sent but unanswered: it may or may not
have happened). A checker must never count an `info` operation as lost or as done.

The file, one JSON object a line (docs/chaos.md, "History files"):
  {"meta": {...}}     first, optional: scenario, profile, seed and the checks the run
                      judged with (checker, parameters, forbidden anomalies)
  {"fault": {...}}    name, target, start, end: a nemesis event
  {"probe": {...}}    kind plus data: what the lab observed beside the clients
                      (clustercheck samples, filestore inventories)
  {...}               an operation: process, f, value, start, end, outcome, node, error
Final reads, made once the lab has healed, are operations of process FINAL (-1).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from lab.infra.errors import LabError

OUTCOMES = ("ok", "fail", "info")
# Errors of a working service (a certification conflict, a business rule such as
# insufficient funds) start with this; they do not mark an outage.
CONFLICT = "conflict: "
FINAL = -1  # the process that makes the final reads after the last fault is healed
TXN = "txn"  # a list-append transaction: [["append", key, value] | ["r", key, list|null], ...]
INSERT = "insert"  # the insert workload: the number inserted
READ_INSERTS = "read-inserts"  # the final read of the insert workload's numbers


class HistoryFormatError(LabError):
    """A history file that is not in the lab's format; the message names file and line."""


@dataclass
class Op:
    """One operation. `value` is what the workload sent and, for reads, what it saw."""

    index: int
    process: int
    f: str
    value: Any
    start: float
    end: float
    outcome: str
    node: str = ""
    error: str = ""

    def describe(self, width: int = 160) -> str:
        value = str(self.value)
        value = value if len(value) <= width else value[: width - 3] + "..."
        return f"op {self.index} (client {self.process}, {self.f} {self.outcome}: {value})"


@dataclass
class Fault:
    """A nemesis event, shaded on the report's timeline."""

    name: str
    target: str
    start: float
    end: float | None = None


@dataclass
class History:
    """Thread-safe recorder shared by a workload's clients; times are seconds since `t0`."""

    ops: list[Op] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    probes: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    # process -> client kind (ox-pool, aggressive, browser): figures are per kind
    clients: dict[int, str] = field(default_factory=dict)
    t0: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def record(
        self,
        process: int,
        f: str,
        value: Any,
        start: float,
        outcome: str,
        node: str = "",
        error: str = "",
    ) -> Op:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not one of {OUTCOMES}")
        with self._lock:
            op = Op(len(self.ops), process, f, value, start, self.now(), outcome, node, error)
            self.ops.append(op)
            return op

    def acked(self, f: str | None = None) -> int:
        """How many operations (of kind `f`) were acknowledged so far."""
        return sum(op.outcome == "ok" and (f is None or op.f == f) for op in self.ops)

    def fault(self, name: str, target: str) -> Fault:
        fault = Fault(name, target, self.now())
        with self._lock:
            self.faults.append(fault)
        return fault

    def healed(self, fault: Fault) -> None:
        fault.end = self.now()

    def last_heal(self) -> float | None:
        """The time.monotonic() moment the last fault was healed (None: none was)."""
        ends = [f.end for f in self.faults if f.end is not None]
        return self.t0 + max(ends) if ends else None

    def probe(self, kind: str, **data: Any) -> None:
        """Record an observation of the lab's (not a client operation)."""
        with self._lock:
            self.probes.append({"kind": kind, "at": round(self.now(), 3), **data})

    def final(self, f: str, value: Any) -> Op:
        """A final read, made once the lab has healed: what checkers compare with."""
        now = self.now()
        return self.record(FINAL, f, value, now, "ok", "final read")

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**self.meta, "clients": self.clients} if self.clients else self.meta
        lines = [json.dumps({"meta": meta}, default=str)] if meta else []
        lines += [json.dumps({"fault": asdict(f)}) for f in self.faults]
        lines += [json.dumps({"probe": p}, default=str) for p in self.probes]
        lines += [json.dumps(asdict(op), default=str) for op in self.ops]
        path.write_text("\n".join(lines) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> History:
        """Read a history file; anything not in the format is a HistoryFormatError that
        names the file and line."""
        try:
            text = path.read_text()
        except OSError as exc:
            raise HistoryFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
        history = cls(t0=0.0)
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                history._add_line(line)
            except (ValueError, TypeError, KeyError) as exc:
                raise HistoryFormatError(f"{path}:{number}: {exc}") from None
        return history

    def _add_line(self, line: str) -> None:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        if "meta" in record:
            self.meta = dict(record["meta"])
            clients = self.meta.pop("clients", {})
            self.clients = {int(process): str(kind) for process, kind in clients.items()}
        elif "fault" in record:
            fault = Fault(**record["fault"])
            _number(fault.start, "fault start")
            self.faults.append(fault)
        elif "probe" in record:
            if not isinstance(record["probe"], dict) or "kind" not in record["probe"]:
                raise ValueError("a probe needs a kind")
            self.probes.append(record["probe"])
        else:
            missing = [k for k in ("process", "f", "start", "end", "outcome") if k not in record]
            if missing:
                raise ValueError(f"operation without {', '.join(missing)}")
            if record["outcome"] not in OUTCOMES:
                raise ValueError(f"outcome {record['outcome']!r} is not one of {OUTCOMES}")
            if not isinstance(record["process"], int) or not isinstance(record["f"], str):
                raise ValueError("process must be an integer and f a string")
            unknown = set(record) - {f.name for f in fields(Op)}
            if unknown:
                raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
            record.setdefault("index", len(self.ops))
            record.setdefault("value", None)
            op = Op(**record)
            _number(op.start, "start")
            _number(op.end, "end")
            check_value(op)
            self.ops.append(op)

    @classmethod
    def of(cls, ops: Iterable[tuple[Any, ...]]) -> History:
        """A crafted history for checker self-tests: (process, f, value, outcome) or
        (process, f, value, outcome, start, end) tuples, in order."""
        history = cls(t0=0.0)
        for i, row in enumerate(ops):
            process, f, value, outcome, *times = row
            start, end = times if times else (float(i), float(i) + 0.5)
            history.ops.append(Op(i, process, f, value, start, end, outcome))
        return history


def outage(op: Op) -> bool:
    """An operation that did not get service: failed or unknown, but not refused by a
    working service (a certification conflict, insufficient funds)."""
    return op.outcome != "ok" and not op.error.startswith(CONFLICT)


def recovery_time(history: History, fault: Fault, f: str | None = None) -> float | None:
    """Seconds from the fault's start until clients had service again: the end of the
    first `ok` operation (of kind `f`) begun after the first failure clients saw once
    the fault started. 0.0: no client noticed; None: service never came back."""
    relevant = [op for op in history.ops if f is None or op.f == f]
    failures = [op.end for op in relevant if outage(op) and op.end >= fault.start]
    if not failures:
        return 0.0
    noticed = min(failures)
    after = [op.end for op in relevant if op.outcome == "ok" and op.start >= noticed]
    return min(after) - fault.start if after else None


def epoch_of(history: History, at: float) -> float:
    """The host's clock at history time `at` (histories count seconds from t0): how
    other evidence stamped in host time (Docker's log times, sysbench's reports) lines
    up with the operations."""
    return time.time() - (history.now() - at)


def client_of(history: History, op: Op) -> str:
    """The client kind that made `op` (histories without kinds: "client")."""
    return history.clients.get(op.process, "client")


def counts(history: History) -> dict[str, int]:
    return {outcome: sum(op.outcome == outcome for op in history.ops) for outcome in OUTCOMES}


def check_value(op: Op) -> None:
    """The value of the functions checkers read (txn, insert, read-inserts) in the shape
    they read it; ValueError saying what is wrong. Other functions' values are the
    workload's own business."""
    if op.f == TXN:
        if not isinstance(op.value, list):
            raise ValueError(f"a txn's value must be a list of micro-operations, not {op.value!r}")
        for mop in op.value:
            _micro_operation(mop, final=op.process == FINAL)
    elif op.f == INSERT and op.outcome == "ok":
        _integer(op.value, "an insert's value")
    elif op.f == READ_INSERTS:
        if not isinstance(op.value, list):
            raise ValueError(f"read-inserts must read a list of numbers, not {op.value!r}")
        for value in op.value:
            _integer(value, "a number read-inserts read")


def _micro_operation(mop: object, final: bool) -> None:
    if not (isinstance(mop, list) and len(mop) == 3 and mop[0] in ("append", "r")):
        raise ValueError(
            f'a micro-operation is ["append", key, value] or ["r", key, list], not {mop!r}'
        )
    f, key, value = mop
    _integer(key, f"the key of {mop!r}")
    if f == "append":
        _integer(value, f"the appended value of {mop!r}")
    elif value is None:
        if final:
            raise ValueError(f"a final read must hold the list it read, not {mop!r}")
    elif isinstance(value, list):
        for element in value:
            _integer(element, f"an element of {mop!r}")
    else:
        raise ValueError(f"a read's value is a list (or null: nothing read), not {mop!r}")


def _integer(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, not {value!r}")


def _number(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}")
