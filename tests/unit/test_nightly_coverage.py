"""No orphan tests: the nightly workflow's jobs (unit, the suite's shards, one lab cell
per flavour and topology) together select every test the suite collects."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab.matrix import NIGHTLY_JOBS, NIGHTLY_SHARDS, Selection, cell_selection
from lab.plan.flavours import DEFAULT_FLAVOUR
from lab.plan.topology import TOPOLOGIES

ROOT = Path(__file__).resolve().parents[2]


def collected(*args: str) -> set[str]:
    """Test ids pytest collects (default flavour, no Docker touched)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "--flavour",
            DEFAULT_FLAVOUR,
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 5), proc.stdout + proc.stderr
    return {line for line in proc.stdout.splitlines() if "::" in line}


def test_every_collected_test_belongs_to_a_nightly_job_or_cell() -> None:
    selections: list[Selection] = [*NIGHTLY_JOBS, *(cell_selection(t) for t in TOPOLOGIES)]
    selected: set[str] = set()
    with ThreadPoolExecutor(max_workers=4) as pool:  # each is a pytest start-up
        everything_future = pool.submit(collected, "tests")
        found = list(pool.map(lambda s: collected(*s.args()), selections))
    for selection, ids in zip(selections, found, strict=True):
        assert ids, f"nightly {selection.name} selects no test"
        selected |= ids
    everything = everything_future.result()
    orphans = sorted(everything - selected)
    assert not orphans, f"tests no nightly job runs: {orphans}"


def test_the_workflow_runs_the_nightly_jobs() -> None:
    text = (ROOT / ".github/workflows/nightly.yml").read_text()
    for job in NIGHTLY_JOBS:
        if job.shard:  # one job, a runner per shard
            shards = ", ".join(str(k) for k in range(1, NIGHTLY_SHARDS + 1))
            assert "  shard:\n" in text and f"shard: [{shards}]" in text, "a runner per shard"
            assert f"./oxlab test --shard ${{{{ matrix.shard }}}}/{NIGHTLY_SHARDS}" in text
            continue
        assert f"  {job.name}:\n" in text, f"job {job.name} in the workflow"
        assert f"./oxlab test {' '.join(job.args())}" in text, f"job {job.name} runs its tests"
    assert "name: chaos-reports-shard-" in text, "the shards upload their chaos reports"
    assert "--junitxml=lab-reports/first.xml" in text, "a shard keeps its first run's report"
    assert (
        "python -m lab.flakes classify lab-reports/first.xml lab-reports/rerun.xml" in text
        and "shell: bash" in text
    ), "a failed test is rerun once to classify it (failed or flaky), the job staying red"
    assert "./oxlab matrix --flavour ${{ matrix.flavour }} --topology" in text


def test_the_operators_example_workflow_watches_their_files_and_shards_chaos() -> None:
    from lab.infra.vocabulary import ROLE_NAMES

    text = (ROOT / "examples/ci/oxlab-nightly.yml").read_text()
    for role in ROLE_NAMES:  # `lab init` lays the operator's files out by role
        assert f'"{role}/**"' in text, f"a push to {role}/ starts the operator's nightly"
    assert "shard: [1, 2, 3]" in text and "--shard ${{ matrix.shard }}/3" in text, (
        "the chaos scenarios run as 3 shards, one runner each"
    )


def test_the_runners_load_the_nights_image_archive_instead_of_building() -> None:
    import yaml

    jobs = yaml.safe_load((ROOT / ".github/workflows/nightly.yml").read_text())["jobs"]
    saves = [s.get("run", "") for s in jobs["images"]["steps"]]
    assert any("./oxlab images save" in run and "--standin-hosts" in run for run in saves)
    assert any("./oxlab images load" in run for run in saves), "last night's archive first"
    for name, command in (("shard", "./oxlab test --shard"), ("lab", "./oxlab matrix")):
        job = jobs[name]
        assert "images" in job["needs"], f"{name} waits for the night's images"
        runs = [s.get("run", "") for s in job["steps"]]
        load = next(i for i, run in enumerate(runs) if "./oxlab images load" in run)
        test = next(i for i, run in enumerate(runs) if command in run)
        assert load < test, f"{name} loads the archive before its tests build anything"
