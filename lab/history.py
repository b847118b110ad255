"""A chaos run's history: every operation a workload client performed, with start and end
times and its outcome, written as JSON lines so checkers (and people) can read it later.

Outcomes follow Jepsen: `ok` (acknowledged), `fail` (certainly did not happen: refused
before anything was sent, or rolled back), `info` (sent but unanswered: it may or may not
have happened). A checker must never count an `info` operation as lost or as done.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("ok", "fail", "info")
# Errors of a working service (a certification conflict, a business rule such as
# insufficient funds) start with this; they do not mark an outage.
CONFLICT = "conflict: "


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

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"fault": asdict(f)}) for f in self.faults]
        lines += [json.dumps(asdict(op)) for op in self.ops]
        path.write_text("\n".join(lines) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> History:
        history = cls(t0=0.0)
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if "fault" in record:
                history.faults.append(Fault(**record["fault"]))
            else:
                history.ops.append(Op(**record))
        return history

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


def recovery_time(history: History, fault: Fault, f: str | None = None) -> float | None:
    """Seconds from the fault's start until clients had service again: the end of the
    first `ok` operation (of kind `f`) begun after the first failure clients saw once
    the fault started. 0.0: no client noticed; None: service never came back."""
    relevant = [op for op in history.ops if f is None or op.f == f]
    failures = [
        op.end
        for op in relevant
        if op.outcome != "ok" and op.end >= fault.start and not op.error.startswith(CONFLICT)
    ]
    if not failures:
        return 0.0
    noticed = min(failures)
    after = [op.end for op in relevant if op.outcome == "ok" and op.start >= noticed]
    return min(after) - fault.start if after else None


def counts(history: History) -> dict[str, int]:
    return {outcome: sum(op.outcome == outcome for op in history.ops) for outcome in OUTCOMES}
