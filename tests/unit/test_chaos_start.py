"""A chaos run's clock starts once its workload is going (lab/chaos/runner.py): more
than STARTED_ACKS acknowledged operations; a workload that never gets going stops the run
with its last failures in the message, so the reader sees what the clients ran into."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from lab.chaos.history import History
from lab.chaos.runner import STARTED_ACKS, wait_started
from lab.infra.errors import StartupError


@dataclass
class Recorded:
    """A workload whose history is written by the test, not by clients."""

    history: History = field(default_factory=History)

    def setup(self) -> None: ...

    @contextlib.contextmanager
    def running(self) -> Iterator[Recorded]:
        yield self

    def acked(self, f: str | None = None) -> int:
        return self.history.acked(f)

    def ok(self, n: int) -> Recorded:
        for _ in range(n):
            self.history.record(1, "login", None, self.history.now(), "ok", "OX1")
        return self


def test_more_than_started_acks_is_going() -> None:
    wait_started(Recorded().ok(STARTED_ACKS + 1), timeout=0.0)


def test_exactly_started_acks_is_not_yet_going() -> None:
    with pytest.raises(StartupError, match="the workload to get going"):
        wait_started(Recorded().ok(STARTED_ACKS), timeout=0.0)


def test_a_workload_that_never_gets_going_says_its_last_failures() -> None:
    workload = Recorded().ok(1)
    for i in range(5):
        workload.history.record(
            i, "login", None, 0.0, "fail", "OX2", f"HTTP 503 from Apache, try {i}"
        )
    with pytest.raises(StartupError) as raised:
        wait_started(workload, timeout=0.0)
    said = str(raised.value)
    assert "try 4" in said and "try 2" in said and "on OX2" in said, said
    assert "try 1" not in said, "the last three failures, not the whole history"


def test_a_workload_with_no_operation_says_so() -> None:
    with pytest.raises(StartupError, match="no operation completed"):
        wait_started(Recorded(), timeout=0.0)
