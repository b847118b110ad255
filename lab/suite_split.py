"""The suite beyond one machine: `--shard K/N` and `--longest-first`.

`--shard K/N` runs the K-th of N shards of near-equal measured time, so N CI runners
take the suite together; each shard brings up only the labs its own tests ask for (the
lab fixtures start on first use). The split is pytest-split's least-duration algorithm
over the checked-in `.test_durations` (refreshed by `lab bench suite`), fed the tests
sorted by node id: pytest-randomly shuffles the order before any plugin sees it, each
runner with its own seed, and pytest-split breaks ties by that order, so without the
sort two shards could both take a test, or neither. Tests not in the file count at the
average of those that are (pytest-split's rule).

`--longest-first` (on by itself under pytest-xdist) puts the modules with the most
measured time first, each module's tests kept together in their (random) order: xdist
hands out work in collection order, so the slowest modules start first and the workers
finish together, and a module's own lab is started once, not once per worker
(`--dist loadfile` keeps each module on one worker).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pytest_split.algorithms import Algorithms

from lab.infra.errors import ConfigError

DURATIONS_FILE = ".test_durations"  # pytest-split's name, at the repository's root
SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class Test(Protocol):
    """What splitting needs of a pytest item (a test in unit tests needs no pytest)."""

    @property
    def nodeid(self) -> str: ...


T = TypeVar("T", bound=Test)


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as the command line says it
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; anything else is one line naming what was given."""
    match = SHARD_PATTERN.match(text)
    if not match:
        raise ConfigError(f"--shard {text!r}: expected K/N, e.g. --shard 1/2")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(f"--shard {text}: K must be between 1 and N (N >= 1)")
    return Shard(index, count)


def read_durations(path: Path) -> dict[str, float]:
    """pytest-split's file (node id -> seconds); a missing file is no figures, a broken
    one is one line naming it."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not a durations file ({exc.msg})") from None
    if isinstance(data, list):  # pytest-split's older format: [[nodeid, seconds], ...]
        data = dict(data)
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise ConfigError(f"{path}: not a durations file (expected node id -> seconds)")
    return {str(k): float(v) for k, v in data.items()}


def split(
    tests: Sequence[T], shard: Shard, durations: dict[str, float]
) -> tuple[list[T], list[T], float]:
    """(this shard's tests in their given order, the others, its estimated seconds)."""
    by_id = sorted(tests, key=lambda t: t.nodeid)
    groups = Algorithms.least_duration.value(shard.count, by_id, durations)  # type: ignore[arg-type]
    group = groups[shard.index - 1]
    chosen = {t.nodeid for t in group.selected}
    mine = [t for t in tests if t.nodeid in chosen]
    others = [t for t in tests if t.nodeid not in chosen]
    return mine, others, group.duration


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def longest_first(tests: Sequence[T], durations: dict[str, float]) -> list[T]:
    """Modules by measured time, most first (ties: the order given); a module's tests
    stay together, in their given order. A module with no figures counts as the average
    test times its number of tests."""
    average = average_of(durations)
    modules: dict[str, list[T]] = defaultdict(list)
    for test in tests:
        modules[module_of(test.nodeid)].append(test)
    seconds = {
        module: sum(durations.get(t.nodeid, average) for t in members)
        for module, members in modules.items()
    }
    order = sorted(modules, key=lambda m: -seconds[m])  # sorted() is stable
    return [t for module in order for t in modules[module]]


def average_of(durations: dict[str, float]) -> float:
    """What a test with no figure counts as: the average of those with one (1 s when
    there are none, so tests split by count), as pytest-split counts it."""
    return sum(durations.values()) / len(durations) if durations else 1.0


def estimate(tests: Iterable[Test], durations: dict[str, float]) -> float:
    """The measured seconds of these tests (the average for one with no figure)."""
    average = average_of(durations)
    return sum(durations.get(t.nodeid, average) for t in tests)
