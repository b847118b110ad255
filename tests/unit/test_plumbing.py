"""Cleanup ownership, image cache keys, failure diagnosis and the CLI's error contract."""

import json
import os
from pathlib import Path

import pytest

from lab import cli
from lab.infra.docker_env import RunIdentity, owner_alive, owner_token
from lab.plan.flavours import get_flavour
from lab.roles.db.diagnosis import diagnose
from lab.roles.images import db_image, dblb_image


def test_owner_token_is_alive_for_this_process_only() -> None:
    assert owner_alive(owner_token())
    host, pid, start = owner_token().rsplit(":", 2)
    assert not owner_alive(f"{host}:{pid}:{int(start) + 1}"), "a reused pid is not the owner"
    assert not owner_alive(f"{host}:999999999:1")


def test_run_labels_name_the_run_and_owner() -> None:
    run = RunIdentity.new("t", keep=False, topology="galera")
    labels = run.labels(**{"ox-lab.role": "galera"})
    assert labels["ox-lab.run"] == run.run_id and labels["ox-lab.keep"] == "0"
    assert labels["ox-lab.topology"] == "galera" and labels["ox-lab.role"] == "galera"
    assert run.resource_name("galera1") == f"oxlab-t-{run.run_id}-galera1"


def test_image_cache_key_depends_on_base_and_build_args() -> None:
    flavour = get_flavour("mariadb-10.11")
    g, h = db_image(flavour), dblb_image(flavour)
    assert g.context_hash("base1") == g.context_hash("base1"), "stable when nothing changed"
    assert g.context_hash("base1") != g.context_hash("base2"), "a new base image rebuilds"
    assert g.context_hash("base1") != h.context_hash("base1")
    assert g.tag == "oxlab/db:mariadb-10.11"


def test_diagnosis_names_the_guides_common_mistakes() -> None:
    reason, excerpt = diagnose(
        {
            "galera1": "2026 0 [ERROR] WSREP: wsrep_load(): dlopen(): "
            "/usr/lib/galera/nope.so: cannot open shared object"
        }
    )
    assert "wrong wsrep_provider path" in reason and "nope.so" in excerpt
    reason, _ = diagnose(
        {
            "galera2": "WSREP_SST: [ERROR] ... failed",
            "galera1": "Access denied for user 'sstuser'@'localhost'",
        }
    )
    assert "SST user is missing" in reason, "the donor's access-denied beats a generic SST error"
    reason, excerpt = diagnose(
        {
            "galera1": "0 [ERROR] WSREP: failed to open gcomm backend connection: 34: parameter "
            "'evs.install_timeout' value PT4S is out of range [PT0.3S,PT3S)\n"
            "0 [ERROR] WSREP: gcs_open(): Failed to open channel 'oxlab'"
        }
    )
    assert "outside the range Galera accepts" in reason, "not 'no running node': a bad option"
    assert "evs.install_timeout" in excerpt
    reason, excerpt = diagnose({"galera1": "[ERROR] something new\nAborting"})
    assert reason == "the server stopped during startup" and "something new" in excerpt


def test_cli_rejects_unknown_flavour_in_one_line_without_docker(capsys) -> None:
    assert cli.main(["up", "--flavour", "oracle-42"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown flavour 'oracle-42'" in err
    assert "Traceback" not in err


def test_cli_reports_unreachable_docker_in_one_line(capsys, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert cli.main(["status"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_usage_errors_exit_non_zero(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["launch"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert os.environ.get("TESTCONTAINERS_RYUK_DISABLED") == "true"


def test_suite_timing_sums_per_directory_and_fits_a_terminal(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from lab.suite_timing import SuiteRun, TimingRecorder, directory_of

    assert directory_of("tests/chaos/test_x.py::test_y[mariadb-10.11]") == "tests/chaos"
    recorder = TimingRecorder(tmp_path / "t.json")
    reports = [
        ("tests/unit/test_a.py::t1", "setup", "passed", 0.5),
        ("tests/unit/test_a.py::t1", "call", "passed", 1.0),
        ("tests/unit/test_a.py::t1", "teardown", "passed", 0.25),
        ("tests/chaos/test_b.py::t2", "setup", "passed", 4.0),
        ("tests/chaos/test_b.py::t2", "call", "failed", 60.0),
        ("tests/chaos/test_b.py::t3", "setup", "skipped", 0.0),
    ]
    for nodeid, when, outcome, duration in reports:
        recorder.pytest_runtest_logreport(
            SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome, duration=duration)  # type: ignore[arg-type]
        )
    recorder.pytest_sessionfinish(None)  # type: ignore[arg-type]
    rows = json.loads((tmp_path / "t.json").read_text())
    assert rows["tests/unit"] == {"seconds": 1.75, "passed": 1}
    assert rows["tests/chaos"] == {"seconds": 64.0, "failed": 1, "skipped": 1}
    text = SuiteRun(["pytest", "-n", "2"], 361.0, 1, rows).render()
    assert "wall time 6 min 01 s" in text and "exit 1" in text
    chaos = next(line for line in text.splitlines() if "tests/chaos" in line)
    assert chaos.split()[1:3] == ["2", "1"], f"2 tests, 1 failed: {chaos}"
    assert "1 min 04 s" in chaos
    assert all(len(line) <= 100 for line in text.splitlines()), text
    durations = {"tests/chaos/test_b.py::t2": 90.0, "tests/unit/test_a.py::t1": 30.0}
    shards = SuiteRun(["pytest"], 361.0, 0, rows, durations).render()
    two = next(line for line in shards.splitlines() if "K/2" in line)
    assert "longest 1.5 min (0.75)" in two, f"the 90 s test alone is 0.75 of 120 s: {two}"
    assert all(len(line) <= 100 for line in shards.splitlines()), shards


def test_bench_up_prints_each_lab_beside_its_floor_within_100_columns() -> None:
    from lab.bench import UpFigure, render_up
    from lab.plan.topology import LabRequest

    figures = [
        UpFigure("galera, --join seeded", 4.2, 3.5),
        UpFigure("galera, --join sst", 16.6, 16.2),
        UpFigure("gtid", 9.8, detail="pair replicating (the guide's dumps incl.) 9.6 s"),
        UpFigure("guide-galera", 10.2, detail="front end serving HTTPS"),
    ]
    text = render_up(LabRequest(), figures, repeat=3)
    seeded = next(line for line in text.splitlines() if "--join seeded" in line)
    assert seeded.split()[3:6] == ["4.2s", "3.5s", "1.20"], f"up, floor, ratio: {seeded}"
    assert "median of 3 runs" in text
    assert all(len(line) <= 100 for line in text.splitlines()), text


def test_bench_takes_its_own_flags_and_passes_pytests_after_the_separator() -> None:
    parser = cli.build_parser()
    up = parser.parse_args(["bench", "up", "--repeat", "3"])
    assert (up.what, up.repeat, up.pytest_args) == ("up", 3, [])
    suite = parser.parse_args(["bench", "suite", "--", "-m", "galera", "-x"])
    assert suite.pytest_args == ["-m", "galera", "-x"], "pytest's flags after `--` are pytest's"
