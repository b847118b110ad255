"""Flakes found, not waited for (issue 33).

`lab bench flakes -- -m chaos` runs the chosen tests again and again under three
conditions: `-n 0`, `-n 2`, and `-n 2` beside a CPU load (stress-ng, one worker pinned
to each core), so a test that fails one run in five shows up in an afternoon instead of
as a red nightly. Every run gets its own pytest-randomly seed and chaos seed, printed
with each failure so that it can be replayed; every test's outcome comes from pytest's
own JUnit XML report (lab.junit). The table is each test's pass rate per condition.

`python -m lab.flakes classify FIRST.xml RERUN.xml` is the nightly's rerun-once: a test
that failed and fails again is "failed", one that passes on the rerun is "flaky". The job
stays red either way (exit 1): the rerun classifies, it never turns red into green.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lab import junit
from lab.infra.errors import ConfigError, LabError
from lab.junit import Outcome

WIDTH = 100  # the terminal table's columns
SEED_BASE = 1000  # run i's pytest-randomly seed is SEED_BASE + i; its chaos seed is i


@dataclass(frozen=True)
class Condition:
    """How a run is made: xdist workers (0: none) and the added CPU load in percent."""

    workers: int
    load: int = 0

    @property
    def label(self) -> str:
        return f"-n {self.workers}" + (f" +{self.load}%" if self.load else "")

    def pytest_args(self) -> list[str]:
        return ["-n", str(self.workers)]  # -n 0: xdist's options stay known (--dist in addopts)


CONDITIONS = {"n0": Condition(0), "n2": Condition(2), "n2-load": Condition(2, load=50)}
FLAKE_TESTS = ["tests/chaos", "tests/hosts", "tests/integration"]  # the tests with timing


def conditions_named(names: str) -> list[Condition]:
    """`n0,n2-load` -> those conditions; an unknown name is one line listing the known."""
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in CONDITIONS]
    if unknown or not chosen:
        raise ConfigError(
            f"unknown flakes condition {', '.join(unknown) or repr(names)}; "
            f"known: {', '.join(CONDITIONS)}"
        )
    return [CONDITIONS[name] for name in chosen]


@dataclass(frozen=True)
class Run:
    condition: Condition
    index: int
    exit_code: int
    outcomes: list[Outcome]

    @property
    def seeds(self) -> str:
        return f"--randomly-seed={SEED_BASE + self.index} --chaos-seed={self.index}"


@dataclass
class FlakeReport:
    """Runs of the same tests; pass rates per test and condition, failures with seeds."""

    pytest_args: list[str]
    runs: list[Run] = field(default_factory=list)

    def conditions(self) -> list[Condition]:
        return list(dict.fromkeys(run.condition for run in self.runs))

    def rates(self) -> dict[str, dict[Condition, tuple[int, int]]]:
        """Each test's (passed, ran) per condition; a skip is not a run."""
        table: dict[str, dict[Condition, tuple[int, int]]] = {}
        for run in self.runs:
            for outcome in run.outcomes:
                if outcome.result == "skipped":
                    continue
                row = table.setdefault(outcome.nodeid, {})
                passed, ran = row.get(run.condition, (0, 0))
                row[run.condition] = (passed + (outcome.result == "passed"), ran + 1)
        return dict(sorted(table.items()))

    def flaky(self) -> list[str]:
        """Tests that failed at least once under some condition."""
        return [
            nodeid
            for nodeid, row in self.rates().items()
            if any(passed < ran for passed, ran in row.values())
        ]

    def broken_runs(self) -> list[Run]:
        """Runs that failed without a failing test (collection error, interrupted): the
        table cannot show them, the report must."""
        return [
            r
            for r in self.runs
            if r.exit_code not in (0, 1) or (r.exit_code == 1 and not _failed(r.outcomes))
        ]

    def render(self) -> str:
        conditions = self.conditions()
        cell = 10
        name_width = WIDTH - 2 - cell * len(conditions)
        lines = [
            f"lab bench flakes: `pytest {' '.join(self.pytest_args)}`, "
            f"{len(self.runs)} runs on {os.cpu_count()} cores",
            "  " + f"{'test':<{name_width}}" + "".join(f"{c.label:>{cell}}" for c in conditions),
        ]
        for nodeid, row in self.rates().items():
            cells = "".join(f"{_rate(row.get(c)):>{cell}}" for c in conditions)
            lines.append("  " + f"{_shorten(nodeid, name_width - 1):<{name_width}}" + cells)
        tests = len(self.rates())
        flaky = self.flaky()
        lines.append(f"  {tests} tests, {len(flaky)} failed at least once")
        for run in self.runs:
            for outcome in _failed(run.outcomes):
                lines.append(f"  FAILED {outcome.nodeid}")
                lines.append(f"    {run.condition.label}, run {run.index}: {run.seeds}")
                if outcome.message:
                    lines.append(f"    {_shorten(outcome.message, WIDTH - 4)}")
        for run in self.broken_runs():
            lines.append(
                f"  run {run.index} at {run.condition.label} ended with pytest exit "
                f"{run.exit_code} and no failing test ({run.seeds})"
            )
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        return 1 if self.flaky() or self.broken_runs() else 0


def _rate(passed_of: tuple[int, int] | None) -> str:
    return "-" if passed_of is None else f"{passed_of[0]}/{passed_of[1]}"


def _failed(outcomes: Sequence[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.result == "failed"]


def _shorten(text: str, width: int) -> str:
    """Keep the end of a test id (its name and parameters say which test it is)."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


@contextmanager
def cpu_load(percent: int) -> Iterator[None]:
    """stress-ng with one CPU worker pinned to each core at `percent` load, for the
    block's duration (none at 0)."""
    if not percent:
        yield
        return
    if not shutil.which("stress-ng"):
        raise ConfigError("the added CPU load needs stress-ng: apt-get install stress-ng")
    cores = os.cpu_count() or 1
    load = subprocess.Popen(
        [
            "stress-ng",
            "--cpu",
            str(cores),
            "--cpu-load",
            str(percent),
            "--quiet",
            "--taskset",
            f"0-{cores - 1}",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        load.terminate()
        load.wait()


def run_flakes(
    pytest_args: list[str],
    runs: int,
    conditions: Sequence[Condition],
    workdir: Path,
) -> FlakeReport:
    """`runs` runs of pytest ARGS under each condition, one after another."""
    report = FlakeReport(pytest_args)
    with tempfile.TemporaryDirectory(prefix="lab-flakes-") as scratch:
        for condition in conditions:
            for index in range(1, runs + 1):
                report_file = Path(scratch) / f"{condition.workers}-{condition.load}-{index}.xml"
                command = [
                    sys.executable,
                    "-m",
                    "pytest",
                    *pytest_args,
                    *condition.pytest_args(),
                    *Run(condition, index, 0, []).seeds.split(),
                    f"--junitxml={report_file}",
                ]
                print(f"flakes: {condition.label}, run {index}: {' '.join(command[3:])}")
                with cpu_load(condition.load):
                    code = subprocess.call(command, cwd=workdir)
                found = report_file.exists()
                outcomes = junit.read(report_file).outcomes if found else []
                report.runs.append(Run(condition, index, code, outcomes))
    return report


def classify(first: list[Outcome], rerun: list[Outcome]) -> dict[str, str]:
    """The nightly's rerun-once: each test that failed in the first run is "failed" when
    it fails again (or did not run again), "flaky" when it passed on the rerun."""
    again = {o.nodeid: o.result for o in rerun}
    return {
        o.nodeid: "flaky" if again.get(o.nodeid) == "passed" else "failed" for o in _failed(first)
    }


def main(argv: list[str]) -> int:
    """`python -m lab.flakes classify FIRST.xml RERUN.xml`: one line per failed test,
    exit 1 when the first run had a failure (the rerun never makes the job green)."""
    if len(argv) != 3 or argv[0] != "classify":
        print("usage: python -m lab.flakes classify FIRST.xml RERUN.xml", file=sys.stderr)
        return 2
    first_file, rerun_file = Path(argv[1]), Path(argv[2])
    try:
        first = junit.read(first_file).outcomes
        # no rerun report (the rerun itself broke): every failed test counts as failed
        rerun = junit.read(rerun_file).outcomes if rerun_file.exists() else []
    except LabError as exc:
        print(f"lab.flakes: error: {exc}", file=sys.stderr)
        return 2
    verdicts = classify(first, rerun)
    for nodeid, verdict in verdicts.items():
        print(f"{verdict.upper():<7} {nodeid}")
    flaky = sum(v == "flaky" for v in verdicts.values())
    print(f"{len(verdicts)} failed in the first run: {len(verdicts) - flaky} again, {flaky} flaky")
    return 1 if verdicts else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
