"""The nightly flavour x topology matrix, runnable locally: one pytest run per cell
(`-m TOPOLOGY --flavour FLAVOUR`), its JUnit XML kept as the report, and a table of
pass / fail / skip (reason) at the end.

The nightly workflow (.github/workflows/nightly.yml) runs NIGHTLY_JOBS (the unit tests,
then the whole suite as NIGHTLY_SHARDS parallel shards of near-equal measured time) beside
the matrix cells of the other flavours; together they select every test of the suite (a
unit test collects the suite and compares), so no test is an orphan that never runs at
night."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lab import junit
from lab.infra.text import table
from lab.plan.flavours import get_flavour


@dataclass(frozen=True)
class Selection:
    """What one nightly job or matrix cell runs: test paths and a marker expression."""

    name: str
    paths: tuple[str, ...]
    marker: str | None = None
    shard: str | None = None  # K/N (lab/suite_split.py)

    def args(self) -> list[str]:
        return [
            *self.paths,
            *(["-m", self.marker] if self.marker else []),
            *(["--shard", self.shard] if self.shard else []),
        ]


MATRIX_TESTS = "tests/integration"
# flavour-independent jobs, run once with the default flavour
NIGHTLY_SHARDS = 4  # runners that take the whole suite together (chaos and hosts included)
NIGHTLY_JOBS = (
    Selection("unit", ("tests/unit",)),  # incl. every checker's self-tests; gates the rest
    *(
        Selection(f"shard-{k}", (), shard=f"{k}/{NIGHTLY_SHARDS}")
        for k in range(1, NIGHTLY_SHARDS + 1)
    ),
)


def topology_marker(topology: str) -> str:
    return topology.replace("-", "_")  # pytest markers are identifiers


def cell_selection(topology: str, tests: str = MATRIX_TESTS) -> Selection:
    return Selection(topology, (tests,), topology_marker(topology))


@dataclass
class Cell:
    flavour: str
    topology: str
    outcome: str  # pass, fail, skip
    detail: str = ""
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def text(self, note: int) -> str:
        """The table cell; a failure's or skip's reason goes to footnote `note`."""
        if self.outcome == "pass":
            extra = f", {self.skipped} skipped" if self.skipped else ""
            return f"pass ({self.passed}{extra}, {self.seconds:.0f}s)"
        if self.outcome == "fail":
            return f"FAIL {self.failed} of {self.passed + self.failed} [{note}]"
        return f"skip [{note}]"


def read_junit(path: Path) -> tuple[int, int, int, float, str, str]:
    """(passed, failed, skipped, seconds, first skip reason, first failure) of a run."""
    report = junit.read(path)
    return (
        report.count("passed"),
        report.count("failed"),
        report.count("skipped"),
        report.seconds,
        report.first("skipped"),
        report.first("failed")[:100],
    )


def run_cell(
    flavour: str, topology: str, tests: str, report_dir: Path, extra: Sequence[str] = ()
) -> Cell:
    if topology not in get_flavour(flavour).topologies:
        return Cell(flavour, topology, "skip", f"{flavour} does not run {topology}")
    junit = report_dir / f"{topology}-{flavour}.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *cell_selection(topology, tests).args(),
        "--flavour",
        flavour,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        *extra,
    ]
    print(f"matrix: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    (report_dir / f"{topology}-{flavour}.log").write_text(proc.stdout + proc.stderr)
    if not junit.exists():
        return Cell(flavour, topology, "fail", f"pytest exited {proc.returncode}, no report")
    passed, failed, skipped, seconds, skip_reason, failure = read_junit(junit)
    if failed or proc.returncode not in (0, 5):
        return Cell(
            flavour,
            topology,
            "fail",
            failure or f"exit {proc.returncode}",
            passed,
            failed,
            skipped,
            seconds,
        )
    if passed == 0:
        return Cell(flavour, topology, "skip", skip_reason or "no tests", 0, 0, skipped, seconds)
    return Cell(flavour, topology, "pass", "", passed, 0, skipped, seconds)


def run_matrix(
    flavours: Sequence[str],
    topologies: Sequence[str],
    tests: str,
    report_dir: Path,
    extra: Sequence[str] = (),
) -> tuple[str, bool]:
    """Run every cell; returns the table and whether every cell passed or skipped.
    `extra`: pytest arguments for every cell (e.g. --config for the operator's files)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    cells = [run_cell(f, t, tests, report_dir, extra) for f in flavours for t in topologies]
    (report_dir / "matrix.json").write_text(json.dumps([asdict(c) for c in cells], indent=2))
    notes: list[str] = []
    rows: dict[str, dict[str, str]] = {f: {"flavour": f} for f in flavours}
    for cell in cells:
        if cell.outcome != "pass":
            notes.append(cell.detail)
        rows[cell.flavour][cell.topology] = cell.text(len(notes))
    footnotes = [f"  [{i}] {note}" for i, note in enumerate(notes, 1)]
    ok = all(c.outcome != "fail" for c in cells)
    return "\n".join([table(list(rows.values()), ["flavour", *topologies]), *footnotes]), ok
