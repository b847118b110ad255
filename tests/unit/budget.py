"""How many examples a property test draws. A mutation run (tools/mutants.py, mutmut)
runs every test that reaches a mutated function once per mutant, and a surviving mutant
runs them all: there a tenth of the examples keeps the nightly job within its time, while
the suite's own runs draw them all. mutmut's rewritten modules import mutmut, which
nothing else in a test run does: that is how a run tells."""

from __future__ import annotations

import sys

from hypothesis import settings

if "mutmut" in sys.modules:  # the same examples every run: a score does not move by chance
    settings.register_profile("mutation", derandomize=True, database=None)
    settings.load_profile("mutation")


def examples(n: int) -> int:
    """`n` examples, or a tenth of them (at least 10) under mutation."""
    return max(10, n // 10) if "mutmut" in sys.modules else n
