"""--shard K/N and --longest-first (lab/suite_split.py): every test of the real suite runs
in exactly one shard whatever the runners' random seeds, shards are near-equal by the
checked-in durations, and the slowest modules start first."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab import suite_split
from lab.infra.errors import ConfigError
from lab.pytest_plugin import keep_longest_first
from lab.suite_split import Shard, longest_first, parse_shard, read_durations, split

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FakeTest:
    nodeid: str

    def __str__(self) -> str:
        # as pytest prints an item: the function's name only, so pytest-split's sort by
        # name leaves ties between modules to the order it is given
        return f"<Function {self.nodeid.rsplit('::', 1)[-1]}>"


def collect(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def suite() -> list[str]:
    ids = collect("-p", "no:randomly")
    assert len(ids) > 100, f"collecting the suite gave {len(ids)} tests"
    return ids


@pytest.fixture(scope="module")
def durations() -> dict[str, float]:
    return read_durations(ROOT / suite_split.DURATIONS_FILE)


@pytest.mark.parametrize("count", range(1, 9))
def test_every_test_of_the_suite_is_in_exactly_one_shard(
    suite: list[str], durations: dict[str, float], count: int
) -> None:
    tests = [FakeTest(i) for i in suite]
    seen: dict[str, int] = {}
    for index in range(1, count + 1):
        shuffled = tests[:]
        random.Random(index).shuffle(shuffled)  # each runner has its own random order
        mine, others, _ = split(shuffled, Shard(index, count), durations)
        assert len(mine) + len(others) == len(tests)
        for test in mine:
            assert test.nodeid not in seen, (
                f"{test.nodeid} is in shard {seen[test.nodeid]} and {index} of {count}"
            )
            seen[test.nodeid] = index
    missing = set(suite) - set(seen)
    assert not missing, f"{len(missing)} tests in no shard of {count}, e.g. {sorted(missing)[:3]}"


def test_a_shard_is_the_same_whatever_order_the_runner_collected_in() -> None:
    """Same names in two modules, same (unknown) duration: pytest-split breaks such ties
    by the order it is given, which pytest-randomly makes different on every runner."""
    tests = [FakeTest(f"tests/m{m}.py::test_{t}") for m in range(6) for t in range(5)]
    first = {t.nodeid for t in split(tests, Shard(1, 3), {})[0]}
    for seed in range(5):
        shuffled = tests[:]
        random.Random(seed).shuffle(shuffled)
        again = {t.nodeid for t in split(shuffled, Shard(1, 3), {})[0]}
        assert again == first, f"seed {seed}: shard 1/3 changed with the order of collection"


def test_a_shard_keeps_the_order_it_was_given() -> None:
    tests = [FakeTest(f"tests/m.py::test_{n}") for n in "edcba"]
    mine, _, _ = split(tests, Shard(1, 1), {})
    assert [t.nodeid for t in mine] == [t.nodeid for t in tests], "the random order is kept"


def test_shards_are_near_equal_by_measured_time(
    suite: list[str], durations: dict[str, float]
) -> None:
    tests = [FakeTest(i) for i in suite]
    assert durations, f"{suite_split.DURATIONS_FILE} is missing: run `lab bench suite`"
    total = suite_split.estimate(tests, durations)
    shares = [split(tests, Shard(k, 2), durations)[2] for k in (1, 2)]
    assert max(shares) <= 0.55 * total, (
        f"the longer of 2 shards is {max(shares):.0f} s of {total:.0f} s by the durations file"
    )


def test_split_puts_the_heaviest_test_alone_when_it_outweighs_the_rest() -> None:
    durations = {"t.py::big": 100.0, "t.py::a": 10.0, "t.py::b": 10.0, "t.py::c": 10.0}
    tests = [FakeTest(i) for i in durations]
    one, _, seconds_one = split(tests, Shard(1, 2), durations)
    two, _, seconds_two = split(tests, Shard(2, 2), durations)
    assert {t.nodeid for t in one} == {"t.py::big"} and seconds_one == 100.0
    assert {t.nodeid for t in two} == {"t.py::a", "t.py::b", "t.py::c"} and seconds_two == 30.0


def test_shards_through_pytest_with_two_random_seeds_cover_the_suite(suite: list[str]) -> None:
    """The plugin's own path: two runners, two seeds, `--shard 1/2` and `--shard 2/2`."""
    first = collect("--shard", "1/2", "-p", "randomly", "--randomly-seed=11")
    second = collect("--shard", "2/2", "-p", "randomly", "--randomly-seed=22")
    assert not set(first) & set(second), "a test ran in both shards"
    assert sorted(first + second) == sorted(suite), "every test runs in one of the 2 shards"


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1/2/3", "2", ""])
def test_a_shard_outside_1_to_n_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize("text,shard", [("1/1", Shard(1, 1)), (" 8 / 8 ", Shard(8, 8))])
def test_shards_at_the_edges_are_accepted(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard


def test_the_slowest_module_goes_first_and_a_module_stays_together() -> None:
    durations = {
        "a.py::t1": 1.0,
        "a.py::t2": 1.0,
        "b.py::t1": 5.0,
        "c.py::t1": 1.5,
        "c.py::t2": 0.5,
    }
    given = ["a.py::t2", "c.py::t2", "b.py::t1", "a.py::t1", "c.py::t1"]
    ordered = [t.nodeid for t in longest_first([FakeTest(i) for i in given], durations)]
    assert ordered == ["b.py::t1", "a.py::t2", "a.py::t1", "c.py::t2", "c.py::t1"], (
        "b (5 s) first; a and c tie at 2 s and keep their order; each module's tests "
        "together in their given order"
    )


def test_a_module_without_figures_counts_as_the_average_test() -> None:
    durations = {"a.py::t1": 2.0, "b.py::t1": 4.0}  # average 3 s
    given = ["a.py::t1", "b.py::t1", "new.py::t1", "new.py::t2"]  # new: 2 x 3 s = 6 s
    ordered = [t.nodeid for t in longest_first([FakeTest(i) for i in given], durations)]
    assert ordered[:2] == ["new.py::t1", "new.py::t2"], ordered


def test_a_broken_durations_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / ".test_durations"
    path.write_text('{"a.py::t": 1.0,\n  oops}')
    with pytest.raises(ConfigError, match=rf"{path}:2: not a durations file"):
        read_durations(path)
    path.write_text('{"a.py::t": "slow"}')
    with pytest.raises(ConfigError, match="node id -> seconds"):
        read_durations(path)
    assert read_durations(tmp_path / "absent") == {}


def test_modules_go_longest_first_only_when_asked_or_on_xdist_workers() -> None:
    """pyproject's addopts carry `--dist loadfile` for -n runs; a run without workers
    (none given, or -n 0) keeps its collected order, --longest-first reorders it."""
    durations = read_durations(ROOT / suite_split.DURATIONS_FILE)
    slow, quick = "tests/unit/test_nightly_coverage.py", "tests/unit/test_ajp.py"
    seconds = {
        m: sum(v for k, v in durations.items() if k.startswith(m + "::")) for m in (slow, quick)
    }
    assert seconds[slow] > seconds[quick] > 0, f"the durations file no longer says so: {seconds}"

    def first(ids: list[str], module: str) -> int:
        return next(i for i, nodeid in enumerate(ids) if nodeid.startswith(module + "::"))

    plain = collect("-p", "no:randomly", "tests/unit")
    assert collect("-p", "no:randomly", "-n", "0", "tests/unit") == plain, "-n 0: no reorder"
    assert first(plain, quick) < first(plain, slow), "file order without workers"
    ordered = collect("-p", "no:randomly", "--longest-first", "tests/unit")
    assert first(ordered, slow) < first(ordered, quick), "the slower module first"
    assert sorted(ordered) == sorted(plain), "the same tests, reordered"


@dataclass
class XdistConfig:
    """What keep_longest_first reads of pytest's config: -n/--dist and the command line."""

    dist: str = "loadfile"
    tx: tuple[str, ...] = ("popen", "popen")
    args: tuple[str, ...] = ()
    option: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(loadscopereorder=True))

    def getoption(self, name: str, default: object = None) -> object:
        return {"dist": self.dist, "tx": self.tx}.get(name, default)

    @property
    def invocation_params(self) -> SimpleNamespace:
        return SimpleNamespace(args=self.args)


def test_xdist_does_not_resort_longest_first_modules_by_test_count() -> None:
    config = XdistConfig()
    keep_longest_first(config)  # type: ignore[arg-type]
    assert config.option.loadscopereorder is False, "under workers our order is kept"


@pytest.mark.parametrize(
    "config",
    [XdistConfig(tx=()), XdistConfig(dist="no"), XdistConfig(args=("--loadscope-reorder",))],
    ids=["no-workers", "no-dist", "asked-for"],
)
def test_xdist_reorder_is_left_alone_without_workers_or_when_asked_for(
    config: XdistConfig,
) -> None:
    keep_longest_first(config)  # type: ignore[arg-type]
    assert config.option.loadscopereorder is True


def test_an_engine_lock_is_exclusive_across_open_files(tmp_path: Path) -> None:
    """What keeps two chaos tests (and two image builds) from running at once under
    xdist: while one holds the engine's lock, another open file's non-blocking try
    fails (another worker's process would wait), and succeeds once it is released."""
    import fcntl
    from types import SimpleNamespace

    from lab.pytest_plugin import engine_lock, lock_path

    client = SimpleNamespace(api=SimpleNamespace(base_url=f"unix://{tmp_path}/docker.sock"))
    lock = lock_path(client, "chaos")  # type: ignore[arg-type]
    assert lock != lock_path(client, "images"), "one lock per purpose"  # type: ignore[arg-type]
    with engine_lock(client, "chaos"):  # type: ignore[arg-type]
        with open(lock, "w") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock, "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on exit
    lock.unlink()


def test_a_test_without_a_figure_counts_as_the_average() -> None:
    tests = [SimpleNamespace(nodeid="t.py::a"), SimpleNamespace(nodeid="t.py::new")]
    assert suite_split.estimate(tests, {"t.py::a": 4.0, "t.py::b": 2.0}) == 7.0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "nodeid", ["tests/x/test_m.py::TestC::test", "tests/x/test_m.py::test[a::b]"]
)
def test_a_test_s_module_is_its_file_whatever_follows(nodeid: str) -> None:
    """Tests of a module stay together: a class's tests and ids holding '::' included."""
    assert suite_split.module_of(nodeid) == "tests/x/test_m.py"


def test_pytest_split_s_older_list_format_is_read(tmp_path: Path) -> None:
    path = tmp_path / ".test_durations"
    path.write_text('[["tests/a.py::t", 1.5], ["tests/b.py::t", 2]]')
    assert suite_split.read_durations(path) == {"tests/a.py::t": 1.5, "tests/b.py::t": 2.0}
