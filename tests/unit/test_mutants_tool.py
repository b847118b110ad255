"""tools/mutants.py decides whether the nightly goes red: its tally, score, floors,
scopes and the equivalence review are decisions like any other, tested at their edges."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("oxlab_mutants", ROOT / "tools" / "mutants.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


m = tool()
WRITES = "lab/chaos/checkers/writes.py"


def mutant(code: int | None, function: str = "check", path: str = WRITES, n: int = 1):  # type: ignore[no-untyped-def]
    name = f"{path[:-3].replace('/', '.')}.x_{function}__mutmut_{n}"
    return m.Mutant(name, path, m.function_of(name), code)


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("lab.chaos.checkers.writes.x_check_inserts_kept__mutmut_12", "check_inserts_kept"),
        ("lab.oxnode.dbpool.xǁPoolǁacquire__mutmut_3", "Pool.acquire"),
        ("lab.chaos.runner.x__measure_fault__mutmut_1", "_measure_fault"),
    ],
)
def test_a_mutants_function_is_read_from_its_name(name: str, function: str) -> None:
    assert m.function_of(name) == function


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(1, "killed"), (3, "killed"), (36, "killed"), (-24, "killed"), (37, "killed"),
     (0, "survived"), (33, "unreached"), (5, "unreached"), (None, "unknown"), (2, "unknown")],
)  # fmt: skip
def test_mutmuts_exit_codes(code: int | None, outcome: str) -> None:
    assert mutant(code).outcome == outcome


def test_the_score_leaves_out_equivalents_and_counts_unreached_as_missed() -> None:
    mutants = [mutant(1, n=1), mutant(1, n=2), mutant(0, n=3), mutant(0, n=4), mutant(33, n=5)]
    reviewed = (m.Equivalent(WRITES, "check", "a < b", "a <= b", "never equal here"),)
    changes = {3: ("a < b", "a <= b"), 4: ("a < b", "a > b")}

    def change(x):  # type: ignore[no-untyped-def]
        return changes[int(x.name.rsplit("_", 1)[1])]

    score = m.score(mutants, reviewed, change)[WRITES]
    assert dict(score.tally) == {"killed": 2, "survived": 1, "equivalent": 1, "unreached": 1}
    assert score.percent == pytest.approx(50.0), "2 killed of 4 judged"
    other = (m.Equivalent(WRITES, "other", "a < b", "a <= b", "another function"),)
    assert m.score(mutants, other, change)[WRITES].percent == pytest.approx(40.0)


def test_a_module_with_nothing_judged_scores_full() -> None:
    assert m.Score("x").percent == 100.0


def test_only_the_scoped_functions_of_a_module_count() -> None:
    runner = "lab/chaos/runner.py"
    mutants = [mutant(0, "run_schedule", runner), mutant(1, "write_gap", runner)]
    scores = m.score(mutants, (), lambda _: ("", ""))
    assert dict(scores[runner].tally) == {"killed": 1}, "run_schedule needs a lab: not scored"


def test_a_module_at_its_floor_passes_just_under_fails_and_a_vanished_one_fails() -> None:
    score = m.Score(WRITES)
    score.tally.update(killed=9, survived=1)
    assert m.below_floor({WRITES: score}, {WRITES: 90.0}) == []
    fallen = m.below_floor({WRITES: score}, {WRITES: 90.1})
    assert fallen == [f"{WRITES}: 90.0% < floor 90.1%"], fallen
    assert m.below_floor({}, {WRITES: 50.0}) == [f"{WRITES}: no mutants this run"]
    score.tally.update(unknown=1)
    assert m.below_floor({WRITES: score}, {}) == [
        f"{WRITES}: 1 mutants without a result (the run did not finish)"
    ], "a mutant left unrun is no pass"


def test_the_table_marks_a_fall_and_a_miss_of_the_target() -> None:
    low, ok = m.Score("a.py"), m.Score("b.py")
    low.tally.update(killed=8, survived=2)
    ok.tally.update(killed=10)
    rows = m.table({"a.py": low, "b.py": ok}, {"a.py": 75.0}).splitlines()
    assert "(target 90)" in rows[1] and "below floor" not in rows[1], rows
    assert rows[2].rstrip().endswith("%"), "at target and no floor: nothing to mark"
    assert "below floor" not in m.table({"a.py": low}, {"a.py": 80.0}), "at the floor"
    assert "below floor" in m.table({"a.py": low}, {"a.py": 80.1})


def test_every_listed_module_is_in_exactly_one_shard() -> None:
    """The nightly's mutants jobs together mutate every module pyproject lists, once."""
    listed = sorted(
        str(p.relative_to(ROOT))
        for pattern in m.only_mutate()
        for p in ROOT.glob(pattern)
        if p.name != "__init__.py" or "checkers" in str(p)
    )
    for path in listed:
        shards = [name for name in m.SHARDS if m.in_shard(path, name)]
        assert len(shards) == 1, f"{path} is in {shards}"


def test_a_shards_mutant_names_are_mutmuts() -> None:
    assert m.mutant_globs("operator") == [
        "lab.operator.parsers.*",
        "lab.operator.placement.*",
        "lab.operator.project.*",
    ]
    assert "lab.oxnode.*" in m.mutant_globs("nodes") and "lab.suite_split.*" in m.mutant_globs(
        "nodes"
    )
    assert m.in_shard("lab/operator/lint/db.py", "lint-db")
    assert not m.in_shard("lab/operator/lint/db.py", "lint"), "a rule module in one shard"
    assert m.mutant_globs("lint-db") == ["lab.operator.lint.db.*", "lab.operator.lint.dblb.*"]
    assert not m.in_shard("lab/operator/lint/db.py", "operator")
    assert m.in_shard("anything", None), "no shard: every module"


def test_a_floor_is_the_score_less_one_mutant_rounded_down() -> None:
    score = m.Score(WRITES)
    score.tally.update(killed=5, survived=1)  # 83.3 %; one mutant fewer: 66.66... %
    assert m.floor_of(score) == 66.6, "one mutant of margin, never rounded up"
    assert m.floor_of(m.Score(WRITES)) == 100.0, "nothing judged"
    lone = m.Score(WRITES)
    lone.tally.update(survived=1)
    assert m.floor_of(lone) == 0.0


def test_rerun_names_the_survivors_and_unreached_but_not_equivalents_or_killed() -> None:
    """After tests were added, only these are worth mutmut's time again; a reviewed
    equivalent stays out, and a function outside a module's scope is not scored."""
    mutants = [mutant(1, n=1), mutant(0, n=2), mutant(0, n=3), mutant(33, n=4), mutant(None, n=5)]
    reviewed = (m.Equivalent(WRITES, "check", "a < b", "a <= b", "never equal here"),)
    changes = {2: ("a < b", "a <= b"), 3: ("a < b", "a > b"), 4: ("x", "y")}

    def change(x):  # type: ignore[no-untyped-def]
        return changes[int(x.name.rsplit("_", 1)[1])]

    assert m.to_rerun(mutants, reviewed, change) == [mutants[2].name, mutants[3].name]
    runner = mutant(0, function="not_scored", path="lab/chaos/runner.py")
    assert m.to_rerun([runner], reviewed, change) == []
