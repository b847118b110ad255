"""`lab bench suite`: the README's test command, timed per test directory.

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
from dataclasses import dataclass
from pathlib import Path

import pytest


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
        return "\n".join(lines)


def run_suite(args: list[str], workdir: Path) -> SuiteRun:
    """The test suite as the README's test command runs it (pytest ARGS), timed."""
    record = workdir / ".suite-timing.json"
    command = [sys.executable, "-m", "pytest", *args]
    started = time.monotonic()
    code = subprocess.call(
        [*command, "-p", "lab.suite_timing", f"--suite-timing={record}"], cwd=workdir
    )
    wall = time.monotonic() - started
    rows = json.loads(record.read_text()) if record.exists() else {}
    record.unlink(missing_ok=True)
    return SuiteRun(["pytest", *args], wall, code, rows)
