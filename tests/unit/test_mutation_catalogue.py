"""tools/mutate.py is only worth its figure while every mutation still hits the code it
was written for: a refactor that moves a line must move its mutation too."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

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
