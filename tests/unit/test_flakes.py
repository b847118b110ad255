"""`lab bench flakes` and the nightly's rerun-once: a test's pass rate per condition from
pytest's own JUnit reports, every failure with the seeds that replay it, and a rerun that
classifies a failure as failed or flaky but never makes a red run green."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab import flakes, junit
from lab.flakes import (
    CONDITIONS,
    Condition,
    FlakeReport,
    Run,
    classify,
    conditions_named,
    cpu_load,
    run_flakes,
)
from lab.infra.errors import ConfigError
from lab.junit import Outcome
from lab.matrix import read_junit

SUITE = """
import pytest

def test_passes():
    pass

def test_fails():
    assert 1 == 2, "one is not two"

@pytest.mark.skip(reason="not on this host")
def test_skipped():
    pass

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_teardown_error(broken_teardown):
    pass

class TestGroup:
    @pytest.mark.parametrize("n", [1, 2])
    def test_param(self, n):
        assert n == 1
"""
INI = "[pytest]\njunit_family = xunit1\n"  # as the repository's pyproject.toml says


def _project(tmp_path: Path, suite: str = SUITE) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_suite.py").write_text(suite)
    (tmp_path / "pytest.ini").write_text(INI)
    return tmp_path


def _junit_of(tmp_path: Path) -> junit.Report:
    report = tmp_path / "report.xml"
    subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--junitxml={report}"],
        cwd=_project(tmp_path),
        stdout=subprocess.DEVNULL,
    )
    return junit.read(report)


def test_pytests_report_gives_each_test_by_its_node_id(tmp_path: Path) -> None:
    report = _junit_of(tmp_path)
    results = {o.nodeid: o.result for o in report.outcomes}
    file = "tests/test_suite.py"
    assert results == {
        f"{file}::test_passes": "passed",
        f"{file}::test_fails": "failed",
        f"{file}::test_skipped": "skipped",
        f"{file}::test_teardown_error": "failed",  # passed its call, broke in teardown
        f"{file}::TestGroup::test_param[1]": "passed",
        f"{file}::TestGroup::test_param[2]": "failed",
    }, "ids are pytest's node ids (replayable); a teardown error fails its test once"
    messages = {o.nodeid.rsplit("::", 1)[1]: o.message for o in report.outcomes}
    assert "one is not two" in messages["test_fails"]
    assert messages["test_skipped"] == "not on this host", "the reason, without 'Skipped: '"
    assert report.seconds > 0


def test_the_matrix_counts_tests_from_the_same_reader(tmp_path: Path) -> None:
    _junit_of(tmp_path)
    passed, failed, skipped, _, skip, failure = read_junit(tmp_path / "report.xml")
    assert (passed, failed, skipped) == (2, 3, 1), "a teardown error is one failed test"
    assert skip == "not on this host" and "one is not two" in failure


def test_a_file_that_is_not_junit_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<testsuite><testcase")
    with pytest.raises(ConfigError, match=r"bad\.xml: not a JUnit XML report"):
        junit.read(bad)
    with pytest.raises(ConfigError, match=r"missing\.xml"):
        junit.read(tmp_path / "missing.xml")


def _outcomes(**results: str) -> list[Outcome]:
    return [
        Outcome(f"tests/t.py::{name}", result, f"{name} broke") for name, result in results.items()
    ]


def test_rates_count_passes_per_condition_and_leave_skips_out() -> None:
    n0, n2 = CONDITIONS["n0"], CONDITIONS["n2"]
    report = FlakeReport(["-m", "chaos"])
    report.runs += [
        Run(n0, 1, 0, _outcomes(a="passed", b="passed", s="skipped")),
        Run(n0, 2, 1, _outcomes(a="passed", b="failed", s="skipped")),
        Run(n2, 1, 0, _outcomes(a="passed", b="passed")),
    ]
    rates = report.rates()
    assert rates["tests/t.py::a"] == {n0: (2, 2), n2: (1, 1)}
    assert rates["tests/t.py::b"] == {n0: (1, 2), n2: (1, 1)}
    assert "tests/t.py::s" not in rates, "a skip is not a run"
    assert report.flaky() == ["tests/t.py::b"]
    assert report.exit_code == 1, "a test that failed once makes the bench's exit 1"


def test_all_runs_passing_is_exit_zero_and_says_none_failed() -> None:
    report = FlakeReport([])
    report.runs += [Run(CONDITIONS["n0"], i, 0, _outcomes(a="passed")) for i in (1, 2)]
    assert report.flaky() == [] and report.exit_code == 0
    assert "1 tests, 0 failed at least once" in report.render()


def test_a_failure_is_printed_with_the_seeds_that_replay_it() -> None:
    report = FlakeReport(["tests/chaos"])
    report.runs.append(Run(CONDITIONS["n2-load"], 3, 1, _outcomes(b="failed")))
    text = report.render()
    assert "FAILED tests/t.py::b" in text
    assert "-n 2 +50%, run 3: --randomly-seed=1003 --chaos-seed=3" in text
    assert "b broke" in text, "the failure's first line"


def test_a_run_that_broke_without_a_failing_test_is_reported() -> None:
    report = FlakeReport([])
    report.runs.append(Run(CONDITIONS["n0"], 1, 2, []))  # interrupted, or a collection error
    report.runs.append(Run(CONDITIONS["n0"], 2, 1, _outcomes(a="passed")))
    assert [r.index for r in report.broken_runs()] == [1, 2]
    assert report.exit_code == 1
    assert "run 1 at -n 0 ended with pytest exit 2 and no failing test" in report.render()


def test_the_table_fits_100_columns_keeping_the_end_of_long_ids() -> None:
    long_id = "tests/chaos/test_galera_chaos.py::" + "test_" + "x" * 90 + "[mariadb-10.11]"
    report = FlakeReport([])
    for condition in CONDITIONS.values():
        report.runs.append(Run(condition, 1, 0, [Outcome(long_id, "passed")]))
    lines = report.render().splitlines()
    assert max(len(line) for line in lines) <= 100, "\n".join(lines)
    row = next(line for line in lines if "[mariadb-10.11]" in line)
    assert row.split()[-3:] == ["1/1", "1/1", "1/1"], row


def test_seeds_differ_per_run_and_name_both_seeds() -> None:
    first, second = (Run(CONDITIONS["n0"], i, 0, []) for i in (1, 2))
    assert first.seeds != second.seeds
    assert first.seeds == f"--randomly-seed={flakes.SEED_BASE + 1} --chaos-seed=1"


def test_conditions_by_name_and_an_unknown_one_named() -> None:
    assert conditions_named("n0,n2-load") == [Condition(0), Condition(2, load=50)]
    assert Condition(0).pytest_args() == ["-n", "0"], "-p no:xdist breaks addopts' --dist"
    assert Condition(2, 50).pytest_args() == ["-n", "2"]
    with pytest.raises(ConfigError, match="unknown flakes condition n3; known: n0, n2, n2-load"):
        conditions_named("n0,n3")
    with pytest.raises(ConfigError, match="unknown flakes condition"):
        conditions_named(",")


def test_the_load_needs_stress_ng_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flakes.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="apt-get install stress-ng"), cpu_load(50):
        pass
    with cpu_load(0):  # no load asked: nothing needed
        pass


def test_a_test_failing_one_run_in_two_is_found_with_its_rate(tmp_path: Path) -> None:
    """A real pytest, run twice: the test fails on its second run only."""
    suite = (
        "from pathlib import Path\n"
        "def test_second_run_fails():\n"
        "    marker = Path(__file__).with_name('ran')\n"
        "    ran = marker.exists()\n"
        "    marker.touch()\n"
        "    assert not ran, 'the second run fails'\n"
        "def test_steady():\n"
        "    pass\n"
    )
    report = run_flakes(["tests"], 2, [CONDITIONS["n0"]], _project(tmp_path, suite))
    rates = report.rates()
    n0 = CONDITIONS["n0"]
    assert rates["tests/test_suite.py::test_second_run_fails"] == {n0: (1, 2)}
    assert rates["tests/test_suite.py::test_steady"] == {n0: (2, 2)}
    assert report.flaky() == ["tests/test_suite.py::test_second_run_fails"]


def test_rerun_once_classifies_failed_and_flaky() -> None:
    first = _outcomes(a="failed", b="failed", c="failed", d="passed")
    rerun = _outcomes(a="failed", b="passed")  # c did not run again
    assert classify(first, rerun) == {
        "tests/t.py::a": "failed",
        "tests/t.py::b": "flaky",
        "tests/t.py::c": "failed",
    }, "passing on the rerun is flaky; failing again, or not running again, is failed"


def _xml(*cases: str) -> str:
    return "<testsuites><testsuite>" + "".join(cases) + "</testsuite></testsuites>"


PASS = '<testcase file="tests/t.py" classname="tests.t" name="{}"/>'
FAIL = '<testcase file="tests/t.py" classname="tests.t" name="{}"><failure message="x"/></testcase>'


def test_the_rerun_command_stays_red_when_a_failure_passes_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "first.xml").write_text(_xml(FAIL.format("a"), FAIL.format("b")))
    (tmp_path / "rerun.xml").write_text(_xml(PASS.format("a"), FAIL.format("b")))
    code = flakes.main(["classify", str(tmp_path / "first.xml"), str(tmp_path / "rerun.xml")])
    out = capsys.readouterr().out
    assert code == 1, "a rerun classifies; it never turns red into green"
    assert "FLAKY   tests/t.py::a" in out and "FAILED  tests/t.py::b" in out
    assert "2 failed in the first run: 1 again, 1 flaky" in out


def test_the_rerun_command_is_green_only_when_the_first_run_was(tmp_path: Path) -> None:
    (tmp_path / "first.xml").write_text(_xml(PASS.format("a")))
    assert flakes.main(["classify", str(tmp_path / "first.xml"), str(tmp_path / "no.xml")]) == 0


def test_the_rerun_command_without_a_rerun_report_counts_failures_as_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "first.xml").write_text(_xml(FAIL.format("a")))
    assert flakes.main(["classify", str(tmp_path / "first.xml"), str(tmp_path / "no.xml")]) == 1
    assert "FAILED  tests/t.py::a" in capsys.readouterr().out


def test_the_rerun_command_names_a_bad_report_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "first.xml").write_text("not xml")
    assert flakes.main(["classify", str(tmp_path / "first.xml"), str(tmp_path / "r.xml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "first.xml: not a JUnit XML report" in err[0], err
    assert flakes.main(["classify"]) == 2


def test_pytests_arguments_after_dashes_reach_the_command_past_its_options() -> None:
    from lab import cli

    args = cli.parse(["bench", "flakes", "--runs", "2", "--", "-m", "chaos", "--runs", "9"])
    assert args.runs == 2 and args.pytest_args == ["-m", "chaos", "--runs", "9"], (
        "options before -- are lab's; everything after is pytest's"
    )
    assert cli.parse(["bench", "suite", "--", "-n", "2"]).pytest_args == ["-n", "2"]
    with pytest.raises(SystemExit) as refused:
        cli.parse(["status", "--bogus"])
    assert refused.value.code == 2, "an unknown option is still refused"
    with pytest.raises(SystemExit):
        cli.parse(["status", "--", "-m", "chaos"])  # a command without pytest's arguments
