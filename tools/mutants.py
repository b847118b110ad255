"""Mutation score of every module that decides a verdict or a refusal, from mutmut 3:
a tool that mutates every decision, so the score measures what the unit tests miss, not
how well they match mutations their own authors imagined (issue 32).

    .venv/bin/python tools/mutants.py run [--shard S]  # mutmut; the table; exit 1 below a floor
    .venv/bin/python tools/mutants.py report      # the table of the last run (mutants/)
    .venv/bin/python tools/mutants.py survivors [PATH]   # each surviving mutant as a diff
    .venv/bin/python tools/mutants.py record      # the last run's scores become the floors
    .venv/bin/python tools/mutants.py rerun [--shard S]  # the survivors again, by name

Which modules: pyproject.toml's [tool.mutmut] only_mutate (mutmut mutates them; each
mutant runs only the unit tests that reach its function, mutmut's stats). A module's
score is killed / (killed + survived + unreached), leaving out the mutants reviewed as
equivalent in tools/equivalent_mutants.py. A timeout counts as killed (the tests did not
pass). `run` fails when a module scores below its floor in tools/mutation_floors.json,
so the nightly goes red for a test that stopped guarding a decision.

Why mutmut over cosmic-ray: mutmut 3 records which tests reach each function and runs
only those per mutant, forked from one warm process: the listed modules' ~8,000 mutants
fit a nightly job on 2 cores. cosmic-ray runs a whole test command per mutant.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from equivalent_mutants import EQUIVALENT, Equivalent  # noqa: E402

FLOORS = ROOT / "tools" / "mutation_floors.json"
TARGET = 90.0  # percent of non-equivalent mutants killed, per module (issue 32)
# a module of which only some functions decide a verdict: only these are scored
SCOPES: dict[str, frozenset[str]] = {
    "lab/chaos/runner.py": frozenset(
        {"measure", "only_client", "_measure_fault", "write_gap", "worst_gap", "longest_stall"}
    ),
}
# the nightly's mutants jobs, each within a 2-core runner's time: a job mutates the
# modules under its folders or files (mutmut run "lab.operator.lint.*"), and its floors
# are checked for those modules only
SHARDS: dict[str, tuple[str, ...]] = {
    "chaos": ("lab/chaos/",),
    # lint in two: every rule runs in every lint test, so each of its 2,230 mutants runs
    # most of the ~270 lint tests (measured: about 20 mutants a minute on 2 cores); the
    # rules for the databases and their balancer are half of them
    "lint": (
        "lab/operator/lint/__init__.py",
        "lab/operator/lint/engine.py",
        "lab/operator/lint/filestore.py",
        "lab/operator/lint/groupware.py",
        "lab/operator/lint/hosts.py",
        "lab/operator/lint/web.py",
    ),
    "lint-db": ("lab/operator/lint/db.py", "lab/operator/lint/dblb.py"),
    "operator": ("lab/operator/parsers.py", "lab/operator/placement.py", "lab/operator/project.py"),
    "nodes": (
        "lab/oxnode/",
        "lab/images/",
        "lab/roles/",
        "lab/suite_split.py",
        "lab/suite_timing.py",
    ),
}
# mutmut's exit codes (mutmut.stats.status_by_exit_code) as this score reads them
KILLED = {1, 3, 24, -24, 36, 37, 152, 255}  # tests failed, timed out or type check caught it
SURVIVED = {0}
UNREACHED = {5, 33}  # no test reaches the function: as bad as surviving


@dataclass(frozen=True)
class Mutant:
    """One mutant of a run: its mutmut name, its module, its function and outcome."""

    name: str
    path: str
    function: str
    exit_code: int | None

    @property
    def outcome(self) -> str:
        if self.exit_code in KILLED:
            return "killed"
        if self.exit_code in SURVIVED:
            return "survived"
        if self.exit_code in UNREACHED:
            return "unreached"
        return "unknown"


@dataclass
class Score:
    """A module's tally; `percent` leaves the equivalent mutants out."""

    path: str
    tally: Counter[str] = field(default_factory=Counter)

    @property
    def percent(self) -> float:
        judged = self.tally["killed"] + self.tally["survived"] + self.tally["unreached"]
        return 100.0 if judged == 0 else 100.0 * self.tally["killed"] / judged


def function_of(name: str) -> str:
    """`lab.x.y.x_check__mutmut_3` -> `check`; methods (`xǁPoolǁacquire__mutmut_1`)
    -> `Pool.acquire`."""
    last = name.rsplit(".", 1)[-1]
    last = re.sub(r"__mutmut_\d+$", "", last)
    if last.startswith("xǁ"):
        return ".".join(part for part in last[2:].split("ǁ") if part)
    return last[2:] if last.startswith("x_") else last


def only_mutate(root: Path = ROOT) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text())
    return list(config["tool"]["mutmut"]["only_mutate"])


def listed(path: str, patterns: list[str]) -> bool:
    return any(fnmatch(path, pattern) for pattern in patterns)


def in_scope(mutant: Mutant) -> bool:
    scope = SCOPES.get(mutant.path)
    return scope is None or mutant.function in scope


def load_mutants(root: Path = ROOT) -> list[Mutant]:
    """Every mutant of the last run, from mutmut's per-file results (mutants/*.meta)."""
    patterns = only_mutate(root)
    mutants: list[Mutant] = []
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        path = str(meta.relative_to(root / "mutants"))[: -len(".meta")]
        if not listed(path, patterns):
            continue
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        mutants += [Mutant(n, path, function_of(n), code) for n, code in sorted(codes.items())]
    return mutants


def change_of(mutant: Mutant) -> tuple[str, str]:
    """The mutated lines, before and after, whitespace-folded: the key an equivalence
    is reviewed under (mutmut's numbers move when a function changes; its text does not)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(mutant.name, path=mutant.path).splitlines()
    before = " / ".join(_fold(d[1:]) for d in diff if d.startswith("-") and not d.startswith("---"))
    after = " / ".join(_fold(d[1:]) for d in diff if d.startswith("+") and not d.startswith("+++"))
    return before, after


def _fold(line: str) -> str:
    return " ".join(line.split())


def equivalent(mutant: Mutant, change: tuple[str, str], reviewed: tuple[Equivalent, ...]) -> bool:
    return any(
        e.path == mutant.path and e.function == mutant.function and (e.before, e.after) == change
        for e in reviewed
    )


def score(
    mutants: list[Mutant],
    reviewed: tuple[Equivalent, ...] = EQUIVALENT,
    change: Callable[[Mutant], tuple[str, str]] = change_of,
) -> dict[str, Score]:
    """Scores per module; survivors reviewed as equivalent are counted apart."""
    scores: dict[str, Score] = {}
    for mutant in mutants:
        if not in_scope(mutant):
            continue
        tally = scores.setdefault(mutant.path, Score(mutant.path)).tally
        outcome = mutant.outcome
        if outcome == "survived" and equivalent(mutant, change(mutant), reviewed):
            outcome = "equivalent"
        tally[outcome] += 1
    return scores


def table(scores: dict[str, Score], floors: dict[str, float]) -> str:
    columns = ("mutants", "killed", "surv", "unre", "equiv", "unrun", "score", "floor")
    rows = [f"{'module':44} " + " ".join(f"{c:>6}" for c in columns)]
    for path in sorted(scores):
        s, t = scores[path], scores[path].tally
        floor = floors.get(path)
        mark = " <- below floor" if floor is not None and s.percent < floor else ""
        mark = mark or (f" (target {TARGET:.0f})" if s.percent < TARGET else "")
        counts = (
            sum(t.values()),
            t["killed"],
            t["survived"],
            t["unreached"],
            t["equivalent"],
            t["unknown"],
        )
        figures = [f"{n:6}" for n in counts] + [f"{s.percent:5.1f}%"]
        figures.append(f"{'' if floor is None else f'{floor:5.1f}%':>6}")
        rows.append(f"{path:44} " + " ".join(figures) + mark)
    return "\n".join(rows)


def below_floor(scores: dict[str, Score], floors: dict[str, float]) -> list[str]:
    """Modules whose score fell below the floor recorded for them, and listed modules
    with a floor but no mutants in this run (a rename would otherwise test nothing)."""
    fallen = [
        f"{path}: {scores[path].percent:.1f}% < floor {floor:.1f}%"
        for path, floor in sorted(floors.items())
        if path in scores and scores[path].percent < floor
    ]
    missing = [f"{path}: no mutants this run" for path in sorted(floors) if path not in scores]
    unrun = [
        f"{path}: {s.tally['unknown']} mutants without a result (the run did not finish)"
        for path, s in sorted(scores.items())
        if s.tally["unknown"]
    ]
    return fallen + missing + unrun


def floor_of(score: Score) -> float:
    """The score as a floor, less one killed mutant (property tests draw their own
    examples; one mutant only they kill may slip by another run), rounded down to a
    tenth of a percent."""
    t = score.tally
    judged = t["killed"] + t["survived"] + t["unreached"]
    if judged == 0:
        return 100.0
    return math.floor(1000 * max(0, t["killed"] - 1) / judged) / 10


def read_floors() -> dict[str, float]:
    return json.loads(FLOORS.read_text()) if FLOORS.exists() else {}


def in_shard(path: str, shard: str | None) -> bool:
    return shard is None or any(path.startswith(part) for part in SHARDS[shard])


def mutant_globs(shard: str) -> list[str]:
    """mutmut's names for a shard's mutants: `lab/operator/lint/` -> `lab.operator.lint.*`,
    `lab/suite_split.py` -> `lab.suite_split.*`."""
    return [part.removesuffix(".py").rstrip("/").replace("/", ".") + ".*" for part in SHARDS[shard]]


def to_rerun(
    mutants: list[Mutant],
    reviewed: tuple[Equivalent, ...] = EQUIVALENT,
    change: Callable[[Mutant], tuple[str, str]] = change_of,
) -> list[str]:
    """The mutants worth running again once tests were added: unreached, or survived and
    not reviewed as equivalent, in a scored function. mutmut lets a recorded result
    stand unless the mutant is named (the new tests' stats are collected first)."""
    return [
        m.name
        for m in mutants
        if in_scope(m)
        and (
            m.outcome == "unreached"
            or (m.outcome == "survived" and not equivalent(m, change(m), reviewed))
        )
    ]


def run_mutmut(
    max_children: int | None, shard: str | None = None, names: list[str] | None = None
) -> int:
    command = [str(Path(sys.executable).parent / "mutmut"), "run"]
    command += names if names else mutant_globs(shard) if shard else []
    if max_children:
        command += ["--max-children", str(max_children)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "report", "survivors", "record", "rerun"))
    parser.add_argument("path", nargs="?", default="", help="survivors: only this module")
    parser.add_argument("--max-children", type=int, default=None)
    parser.add_argument("--shard", choices=sorted(SHARDS), help="only these modules")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # mutmut reads mutants/ and pyproject.toml from here
    names: list[str] | None = None  # rerun: only these mutants
    if args.command == "rerun":
        names = to_rerun([m for m in load_mutants() if in_shard(m.path, args.shard)])
        if not names:
            print("mutants: no survivors to run again", file=sys.stderr)
            return 0
        print(f"mutants: running {len(names)} survivors again", file=sys.stderr)
    if args.command in ("run", "rerun"):
        code = run_mutmut(args.max_children, args.shard, names)
        if code != 0:
            print(f"mutants: mutmut run exited {code}", file=sys.stderr)
            return 2
    mutants = [m for m in load_mutants() if in_shard(m.path, args.shard)]
    if not mutants:
        print("mutants: no results in mutants/: run `tools/mutants.py run` first", file=sys.stderr)
        return 2
    if args.command == "survivors":
        wanted = set(to_rerun([m for m in mutants if not args.path or m.path == args.path]))
        for mutant in (m for m in mutants if m.name in wanted):
            before, after = change_of(mutant)
            print(f"{mutant.path} {mutant.function} [{mutant.outcome}] {mutant.name}")
            print(f"    - {before}\n    + {after}")
        return 0
    scores = score(mutants)
    floors = {p: f for p, f in read_floors().items() if in_shard(p, args.shard)}
    if args.command == "record":
        finished = {p: s for p, s in scores.items() if not s.tally["unknown"]}
        recorded = {**read_floors(), **{p: floor_of(s) for p, s in finished.items()}}
        FLOORS.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
        print(f"mutants: floors of {len(finished)} modules written to {FLOORS.relative_to(ROOT)}")
        floors = {p: f for p, f in recorded.items() if in_shard(p, args.shard)}
    print(table(scores, floors))
    fallen = below_floor(scores, floors)
    for line in fallen:
        print(f"mutants: {line}", file=sys.stderr)
    return 1 if fallen and args.command != "record" else 0


if __name__ == "__main__":
    sys.exit(main())
