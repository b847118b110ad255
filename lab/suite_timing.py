"""`lab bench suite`: the README's test command, timed per test directory; it also
refreshes `.test_durations` (pytest-split's --store-durations), which `--shard K/N` and
`--longest-first` split and order by, and prints the shards those figures give.

A pytest plugin (`-p lab.suite_timing --suite-timing FILE`) sums every test's setup,
call and teardown time per directory, on the controller (so under pytest-xdist too);
the bench command runs the suite with it, measures the whole wall time around it and
prints both. Under -n 2 the per-directory figures are time spent in tests, summed over
the workers, and add up to more than the wall time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab.suite_split import DURATIONS_FILE, Shard, estimate, read_durations, split


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--suite-timing", metavar="FILE", help="write per-directory times here")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--suite-timing")
    if path and not hasattr(config, "workerinput"):  # the controller sees every report
        config.pluginmanager.register(TimingRecorder(Path(path)), "suite-timing-recorder")


def directory_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else "."


class TimingRecorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        directory = directory_of(report.nodeid)
        self.seconds[directory] += report.duration
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes[directory][report.outcome] += 1
        elif report.when == "teardown" and report.outcome == "failed":
            self.outcomes[directory]["error"] += 1

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        rows = {d: {"seconds": s, **self.outcomes[d]} for d, s in sorted(self.seconds.items())}
        self.path.write_text(json.dumps(rows, indent=1))


@dataclass(frozen=True)
class SuiteRun:
    command: list[str]
    wall_s: float
    exit_code: int
    directories: dict[str, dict[str, float]]
    durations: dict[str, float] = field(default_factory=dict)

    def shard_lines(self, counts: tuple[int, ...] = (2, 3, 4, 8)) -> list[str]:
        """The longest shard for N runners by the durations just stored, and its share
        of the whole (what N runners would take, before each shard's own lab starts)."""
        tests = [_Named(nodeid) for nodeid in self.durations]
        total = estimate(tests, self.durations)
        if not total:
            return []
        lines = [
            f"  shards by {DURATIONS_FILE} ({len(tests)} tests, {total / 60:.1f} min in tests):"
        ]
        for count in counts:
            longest = max(
                split(tests, Shard(k, count), self.durations)[2] for k in range(1, count + 1)
            )
            share = longest / total
            lines.append(f"    --shard K/{count}: longest {longest / 60:.1f} min ({share:.2f})")
        return lines

    def render(self) -> str:
        lines = [
            f"`{' '.join(self.command)}`: exit {self.exit_code}, wall time "
            f"{self.wall_s / 60:.0f} min {self.wall_s % 60:02.0f} s",
            f"  {'directory':<20} {'tests':>6} {'failed':>7} {'time in tests':>14}",
        ]
        for directory, row in self.directories.items():
            tests = int(sum(v for k, v in row.items() if k != "seconds"))
            failed = int(row.get("failed", 0) + row.get("error", 0))
            seconds = row["seconds"]
            lines.append(
                f"  {directory:<20} {tests:>6} {failed:>7} "
                f"{seconds // 60:>8.0f} min {seconds % 60:02.0f} s"
            )
        lines.append(
            "  time in tests: setup + call + teardown, summed over xdist workers (a lab's start"
        )
        lines.append("  counts in the first test that uses it)")
        lines += self.shard_lines()
        return "\n".join(lines)


@dataclass(frozen=True)
class _Named:
    nodeid: str


def run_suite(args: list[str], workdir: Path) -> SuiteRun:
    """The test suite as the README's test command runs it (pytest ARGS), timed; each
    test's time goes into workdir's .test_durations (tests that did not run keep theirs,
    tests that no longer exist are dropped only on a whole run: no ARGS)."""
    record = workdir / ".suite-timing.json"
    durations = workdir / DURATIONS_FILE
    command = [sys.executable, "-m", "pytest", *args]
    store = ["--store-durations", f"--durations-path={durations}"]
    if not args:
        store.append("--clean-durations")
    started = time.monotonic()
    code = subprocess.call(
        [*command, "-p", "lab.suite_timing", f"--suite-timing={record}", *store], cwd=workdir
    )
    wall = time.monotonic() - started
    rows = json.loads(record.read_text()) if record.exists() else {}
    record.unlink(missing_ok=True)
    return SuiteRun(["pytest", *args], wall, code, rows, read_durations(durations))
