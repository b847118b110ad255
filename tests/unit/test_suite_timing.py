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


def test_the_table_as_a_person_reads_it() -> None:
    """`lab bench suite`'s output, every figure in its place: the wall time, tests and
    failures (errors counted as failed) per directory, time in tests, the shards."""
    run = suite_timing.SuiteRun(
        ["pytest", "-n", "2"],
        3725.0,
        1,
        {
            "tests/chaos": {"seconds": 1859.0, "passed": 40, "failed": 2, "error": 1},
            "tests/unit": {"seconds": 60.0, "passed": 900},
        },
        {f"tests/unit/test_{i}.py::t": 60.0 * (i + 1) for i in range(4)},
    )
    assert run.render().splitlines() == [
        "`pytest -n 2`: exit 1, wall time 62 min 05 s",
        "  directory             tests  failed  time in tests",
        "  tests/chaos              43       3       30 min 59 s",
        "  tests/unit              900       0        1 min 00 s",
        "  time in tests: setup + call + teardown, summed over xdist workers (a lab's start",
        "  counts in the first test that uses it)",
        "  shards by .test_durations (4 tests, 10.0 min in tests):",
        "    --shard K/2: longest 5.0 min (0.50)",
        "    --shard K/3: longest 4.0 min (0.40)",
        "    --shard K/4: longest 4.0 min (0.40)",
        "    --shard K/8: longest 4.0 min (0.40)",
    ]


def test_no_durations_no_shard_lines() -> None:
    assert suite_timing.SuiteRun(["pytest"], 1.0, 0, {}).shard_lines() == []


@pytest.mark.parametrize(
    ("nodeid", "directory"),
    [
        ("tests/a/test_x.py::test[x/y z::w]", "tests/a"),  # a parameter id with / and ::
        ("tests/a/test_x.py::TestC::test", "tests/a"),
        ("tests/a/b/test_x.py", "tests/a/b"),
    ],
)
def test_a_test_s_directory_is_its_file_s(nodeid: str, directory: str) -> None:
    assert suite_timing.directory_of(nodeid) == directory


def test_outcomes_add_up_per_directory() -> None:
    recorder = TimingRecorder(Path("unused"))
    for name, outcome in (("a", "passed"), ("b", "passed"), ("c", "failed"), ("d", "failed")):
        for when in ("setup", "call", "teardown"):
            failed_teardown = when == "teardown" and name in ("c", "d")
            report = SimpleNamespace(
                nodeid=f"tests/x/t.py::{name}",
                when=when,
                outcome="failed" if failed_teardown else (outcome if when == "call" else "passed"),
                duration=0.5,
            )
            recorder.pytest_runtest_logreport(report)  # type: ignore[arg-type]
    assert dict(recorder.outcomes["tests/x"]) == {"passed": 2, "failed": 2, "error": 2}
    assert recorder.seconds["tests/x"] == 6.0


def test_the_option_is_registered_for_the_plugin() -> None:
    added: list[tuple[tuple[object, ...], dict[str, object]]] = []
    parser = SimpleNamespace(addoption=lambda *a, **kw: added.append((a, kw)))
    suite_timing.pytest_addoption(parser)  # type: ignore[arg-type]
    assert added == [
        (("--suite-timing",), {"metavar": "FILE", "help": "write per-directory times here"})
    ]


def test_a_pytest_that_stops_before_its_session_ends_is_no_crash(tmp_path: Path) -> None:
    """pytest refusing its arguments (exit 4) writes no table: the run reports the exit
    code with no directories, not a FileNotFoundError."""
    run = run_suite(["--no-such-option"], _project(tmp_path))
    assert (run.exit_code, run.directories) == (4, {})
    assert 0 <= run.wall_s < 600, run.wall_s
