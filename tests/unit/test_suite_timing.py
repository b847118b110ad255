"""`lab bench suite` runs pytest as the README's test command does and keeps the per-test
durations the shards are split by: a partial run must not forget the tests it did not
run, a whole run must forget the tests that are gone, and only pytest's controller
records (under xdist each worker would write its own partial table)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab import suite_timing
from lab.suite_split import DURATIONS_FILE
from lab.suite_timing import TimingRecorder, run_suite

TESTS = {
    "tests/a/test_a.py": "def test_passes():\n    pass\n\ndef test_fails():\n    assert False\n",
    "tests/b/test_b.py": "def test_passes():\n    pass\n",
}
GONE = "tests/gone/test_gone.py::test_old"


def _project(tmp_path: Path) -> Path:
    for name, text in TESTS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / DURATIONS_FILE).write_text(json.dumps({GONE: 5.0}))
    return tmp_path


def test_a_run_is_timed_per_directory_with_its_exit_code(tmp_path: Path) -> None:
    run = run_suite(["-p", "no:randomly", "tests/a"], _project(tmp_path))
    assert run.exit_code == 1, "one test failed: pytest's exit code is the run's"
    assert run.command == ["pytest", "-p", "no:randomly", "tests/a"]
    assert set(run.directories) == {"tests/a"}, run.directories
    assert run.directories["tests/a"]["passed"] == 1 and run.directories["tests/a"]["failed"] == 1
    assert run.wall_s >= run.directories["tests/a"]["seconds"] > 0
    assert not (tmp_path / ".suite-timing.json").exists(), "the plugin's table is removed"


def test_a_partial_run_keeps_the_durations_of_tests_it_did_not_run(tmp_path: Path) -> None:
    run = run_suite(["tests/a"], _project(tmp_path))
    assert GONE in run.durations, "a test outside ARGS may exist still: its figure stays"
    assert {"tests/a/test_a.py::test_passes", "tests/a/test_a.py::test_fails"} <= set(
        run.durations
    ), run.durations


def test_a_whole_run_drops_the_durations_of_tests_that_are_gone(tmp_path: Path) -> None:
    run = run_suite([], _project(tmp_path))
    assert GONE not in run.durations, "no ARGS: every test ran, so a missing one is gone"
    assert "tests/b/test_b.py::test_passes" in run.durations
    assert set(run.directories) == {"tests/a", "tests/b"}


def _config(path: str | None, worker: bool) -> tuple[SimpleNamespace, list[object]]:
    registered: list[object] = []
    config = SimpleNamespace(
        getoption=lambda name: path if name == "--suite-timing" else None,
        pluginmanager=SimpleNamespace(register=lambda plugin, name: registered.append(plugin)),
    )
    if worker:
        config.workerinput = {}
    return config, registered


@pytest.mark.parametrize(
    ("path", "worker", "records"),
    [("t.json", False, True), ("t.json", True, False), (None, False, False)],
)
def test_only_the_controller_records_and_only_when_asked(
    path: str | None, worker: bool, records: bool
) -> None:
    config, registered = _config(path, worker)
    suite_timing.pytest_configure(config)  # type: ignore[arg-type]
    assert [type(p) for p in registered] == ([TimingRecorder] if records else []), registered
    if records:
        assert registered[0].path == Path("t.json")  # type: ignore[attr-defined]


def test_a_teardown_error_counts_once_as_an_error() -> None:
    recorder = TimingRecorder(Path("unused"))
    for when, outcome in (("setup", "passed"), ("call", "passed"), ("teardown", "failed")):
        report = SimpleNamespace(nodeid="tests/x/t.py::t", when=when, outcome=outcome, duration=0)
        recorder.pytest_runtest_logreport(report)  # type: ignore[arg-type]
    assert dict(recorder.outcomes["tests/x"]) == {"passed": 1, "error": 1}


def test_a_test_at_the_top_level_is_in_directory_dot() -> None:
    assert suite_timing.directory_of("test_top.py::t") == "."
