"""Fast storage (fsync elided) only where durability is not under test: which tests may
use it, how a run picks it, and that chaos refuses it (lab/roles/db/storage.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lab.infra.errors import ConfigError
from lab.plan.topology import LabRequest
from lab.roles.db.storage import require_real_fsync, storage_for_run

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_with_no_durability_test_gets_fast_storage() -> None:
    assert storage_for_run(None, []) == "fast"


def test_one_test_that_needs_real_fsync_keeps_the_whole_run_on_disk() -> None:
    assert storage_for_run(None, ["tests/chaos/test_galera_crash.py::t"]) == "disk"


def test_given_storage_wins_where_it_is_allowed() -> None:
    assert storage_for_run("disk", []) == "disk", "--storage disk on a run that could be fast"
    assert storage_for_run("fast", []) == "fast"
    assert storage_for_run("disk", ["a::t"]) == "disk"


def test_fast_storage_with_a_durability_test_selected_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"2 selected tests .* e\.g\. a::t1"):
        storage_for_run("fast", ["a::t1", "b::t2"])


def test_chaos_refuses_a_lab_with_fast_storage_and_takes_one_on_disk() -> None:
    with pytest.raises(ConfigError, match="writer-kill judges what survives faults"):
        require_real_fsync("fast", "chaos scenario writer-kill")
    require_real_fsync("disk", "chaos scenario writer-kill")


def test_an_unknown_storage_is_a_request_problem() -> None:
    problems = LabRequest(storage="tmpfs").problems()
    assert any("storage (--storage)" in p and "tmpfs" in p for p in problems), problems
    assert not LabRequest(storage="fast").problems()


def collect(*args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def collections() -> dict[str, tuple[int, str]]:
    runs = {
        "galera-not-chaos": ("-m", "galera and not chaos"),
        "everything": (),
        "chaos-fast": ("-m", "chaos", "--storage", "fast"),
        "not-durable": ("-m", "docker and not chaos and not durable"),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = dict(zip(runs, pool.map(lambda a: collect(*a), runs.values()), strict=True))
    return done


def test_which_tests_may_use_fast_storage(collections: dict[str, tuple[int, str]]) -> None:
    """The Galera tests that fault nothing run fast; the whole suite (chaos, the GTID
    slave's SIGKILL restart, chaos on stand-in hosts) runs on disk."""
    code, out = collections["galera-not-chaos"]
    assert code == 0 and "databases' storage fast" in out, out[-600:]
    code, out = collections["not-durable"]
    assert code == 0 and "databases' storage fast" in out, out[-600:]
    assert "test_slave_restart_resumes_by_gtid" not in out, "the SIGKILL restart is durable"
    code, out = collections["everything"]
    assert code == 0 and "databases' storage disk" in out, out[-600:]


def test_fast_storage_for_chaos_stops_the_run_before_any_lab(
    collections: dict[str, tuple[int, str]],
) -> None:
    code, out = collections["chaos-fast"]
    assert code == 4, f"a usage error (exit 4), not a run: {code}"
    assert "ox-lab: --storage fast:" in out and "need real fsync" in out, out[-600:]
    assert "Traceback" not in out


def test_the_labs_fixtures_get_the_storage_the_run_chose(tmp_path: Path) -> None:
    """The header is not the whole story: `lab_request`, which every lab fixture starts
    from, carries the run's choice (fast with no durability test selected, else disk)."""
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\n"
        "def test_plain(lab_request):\n"
        "    print('STORAGE', lab_request.storage)\n\n"
        "@pytest.mark.durable\n"
        "def test_durable(lab_request):\n"
        "    print('STORAGE', lab_request.storage)\n"
    )

    def storages(*args: str) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:randomly", *args],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},  # this tree's plugin, not the venv's
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout[-800:] + proc.stderr[-800:]
        return {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("STORAGE")}

    assert storages("-k", "plain") == {"fast"}, "no durability test selected: fast"
    assert storages() == {"disk"}, "a durable test selected: every lab of the run on disk"
    assert storages("-k", "plain", "--storage", "disk") == {"disk"}, "--storage disk is kept"
