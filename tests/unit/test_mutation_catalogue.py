"""tools/mutate.py is only worth its figure while every mutation still hits the code it
was written for: a refactor that moves a line must move its mutation too."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mutate_tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("oxlab_mutate", ROOT / "tools" / "mutate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_mutation_still_applies_exactly_once() -> None:
    module = mutate_tool()
    assert module.MUTATIONS, "the mutation catalogue is empty"
    assert module.stale() == [], (
        f"mutations whose text is no longer found once (they would test nothing): {module.stale()}"
    )


def test_the_catalogues_own_test_is_never_credited_with_a_catch() -> None:
    """It fails on every mutated copy; mutate.py deselects it by this very node id."""
    path, name = mutate_tool().CATALOGUE_TEST.split("::")
    assert ROOT / path == Path(__file__) and name in globals(), mutate_tool().CATALOGUE_TEST


def test_the_catalogue_keeps_only_what_mutmut_cannot_express() -> None:
    """mutmut mutates the modules of pyproject's only_mutate and the nightly holds each
    at its floor: a catalogue entry that is one of its mutants is counted twice."""
    module = mutate_tool()
    scope = module.mutmut_scope()
    expressed = [m.name for m in module.MUTATIONS if module.mutmut_expresses(m, scope)]
    assert expressed == [], f"mutmut makes these mutants already: {expressed}"


@pytest.mark.parametrize(
    ("path", "old", "new", "expressed"),
    [
        ("lab/chaos/checkers/bank.py", "if b < 0:", "if b <= 0:", True),
        ("lab/chaos/checkers/bank.py", "n == 1", "n != 1", True),
        ("lab/chaos/checkers/bank.py", "limit = 1", "limit = 2", True),  # n -> n + 1
        ("lab/chaos/checkers/bank.py", "limit = 8", "limit = 7", False),  # not its direction
        ("lab/chaos/checkers/bank.py", "x = True", "x = False", True),
        ("lab/chaos/checkers/bank.py", "op.start", "op.end", False),  # a renamed attribute
        ("lab/chaos/checkers/bank.py", "a < b and c < d", "a <= b and c <= d", False),  # two
        ("lab/chaos/checkers/bank.py", "f(x)\n", "", False),  # a removed statement
        ("lab/cli/up.py", "if b < 0:", "if b <= 0:", False),  # a module mutmut leaves alone
        ("lab/chaos/runner.py", "n >= 2", "n > 2", False),  # only some functions scored
    ],
    ids=["lt", "eq", "plus-one", "minus-one", "bool", "rename", "two", "removed", "out", "scoped"],
)
def test_what_mutmut_expresses(path: str, old: str, new: str, expressed: bool) -> None:
    module = mutate_tool()
    mutation = module.Mutation("m", path, old, new)
    assert module.mutmut_expresses(mutation, module.mutmut_scope()) is expressed
