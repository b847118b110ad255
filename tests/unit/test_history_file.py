"""History files both ways: whatever a run records, `lab check` reads back the same
(hypothesis), and a line not in the format is one error naming the file, the line and
what is wrong, never a traceback or a history read wrong."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.chaos.history import FINAL, INSERT, READ_INSERTS, TXN, History, HistoryFormatError, Op
from tests.unit.budget import examples

TIMES = st.floats(0, 1e4, allow_nan=False)
NAMES = st.text("abcdefgh-1", min_size=1, max_size=8)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-99, 99) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=6,
)
MOPS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 5), st.integers(0, 99)),
        st.tuples(st.just("r"), st.integers(0, 5), st.lists(st.integers(0, 99), max_size=4)),
    ).map(list),
    min_size=1,
    max_size=3,
)
OPS = st.one_of(
    st.tuples(st.integers(0, 9), st.just(TXN), MOPS),
    st.tuples(st.integers(0, 9), st.just(INSERT), st.integers(0, 10**6)),
    st.tuples(st.just(FINAL), st.just(READ_INSERTS), st.lists(st.integers(0, 99), max_size=4)),
    st.tuples(st.integers(0, 9), st.sampled_from(["login", "read"]), JSONISH),
)


@st.composite
def histories(draw: st.DrawFn) -> History:
    history = History(t0=0.0)
    for i, (process, f, value) in enumerate(draw(st.lists(OPS, max_size=6))):
        start, length = draw(TIMES), draw(st.floats(0, 10))
        outcome = "ok" if process == FINAL else draw(st.sampled_from(["ok", "fail", "info"]))
        node, error = draw(NAMES), draw(NAMES)
        history.ops.append(Op(i, process, f, value, start, start + length, outcome, node, error))
    for name, target, start in draw(st.lists(st.tuples(NAMES, NAMES, TIMES), max_size=3)):
        fault = history.fault(name, target)
        fault.start = start
        fault.end = draw(st.none() | TIMES)
    history.probes = [
        {"kind": kind, "at": at, "data": data}
        for kind, at, data in draw(st.lists(st.tuples(NAMES, TIMES, JSONISH), max_size=3))
    ]
    history.meta = draw(
        st.dictionaries(NAMES.filter(lambda n: n != "clients"), JSONISH, max_size=3)
    )
    history.clients = draw(st.dictionaries(st.integers(-1, 9), NAMES, max_size=3))
    return history


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_a_history_reads_back_as_it_was_written(tmp_path_factory: Any, history: History) -> None:
    path = tmp_path_factory.mktemp("h") / "deep" / "er" / "history.jsonl"  # parents made
    loaded = History.load(history.save(path))
    assert loaded.ops == history.ops
    assert loaded.faults == history.faults
    assert loaded.probes == history.probes
    assert loaded.meta == history.meta
    assert loaded.clients == history.clients
    if not history.meta and not history.clients:
        assert "meta" not in path.read_text(), "no meta line for a history without one"


def test_values_json_cannot_hold_are_written_as_text(tmp_path: Path) -> None:
    """A probe or an operation may carry a datetime (a server's timestamp): written as
    its text, as the report shows it, not a crash at the end of a long run."""
    history = History(t0=0.0)
    when = datetime.datetime(2026, 12, 7, 4, 30)
    history.meta = {"started": when}
    history.probes = [{"kind": "sample", "at": 1.0, "when": when}]
    history.ops.append(Op(0, 0, "read", when, 0.0, 1.0, "ok"))
    loaded = History.load(history.save(tmp_path / "h.jsonl"))
    assert loaded.meta == {"started": str(when)}
    assert loaded.probes[0]["when"] == str(when) and loaded.ops[0].value == str(when)


def test_a_clients_map_in_the_meta_line_is_the_client_kinds(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({"meta": {"seed": 7, "clients": {"3": "ox-pool"}}}) + "\n")
    loaded = History.load(path)
    assert loaded.meta == {"seed": 7} and loaded.clients == {3: "ox-pool"}


def test_an_operation_without_index_or_value_gets_its_place_and_none(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    op = {"process": 0, "f": "read", "start": 0, "end": 1, "outcome": "ok"}
    path.write_text("\n" + json.dumps(op) + "\n\n" + json.dumps({**op, "f": "write"}) + "\n")
    loaded = History.load(path)
    assert [(o.index, o.f, o.value) for o in loaded.ops] == [(0, "read", None), (1, "write", None)]


OP = '{"process": 0, "f": "read", "start": 0, "end": 1, "outcome": "ok"}'


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("[1, 2]", "not a JSON object"),
        ("{not json", "Expecting property name"),
        ('{"probe": [1]}', "a probe needs a kind"),
        ('{"probe": {"at": 1}}', "a probe needs a kind"),
        ('{"fault": {"name": "kill", "target": "g1", "start": "soon"}}', "fault start must be"),
        ('{"fault": {"name": "kill", "target": "g1", "start": true}}', "fault start must be"),
        ('{"fault": {"name": "kill"}}', "missing"),
        ('{"process": 0, "f": "read", "start": 0}', "operation without end, outcome"),
        (OP.replace('"ok"', '"maybe"'), "outcome 'maybe' is not one of"),
        (OP.replace('"process": 0', '"process": "0"'), "process must be an integer and f a string"),
        (OP.replace('"f": "read"', '"f": 3'), "process must be an integer and f a string"),
        (OP.replace("}", ', "colour": 1, "age": 2}'), "unknown field(s) age, colour"),
        (OP.replace('"start": 0', '"start": "0"'), "start must be a number of seconds"),
        (OP.replace('"end": 1', '"end": null'), "end must be a number of seconds"),
    ],
    ids=lambda value: re.sub(r"\W+", "-", str(value))[:40],
)
def test_a_line_not_in_the_format_is_one_error_naming_file_and_line(
    tmp_path: Path, line: str, says: str
) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(f"{OP}\n\n{line}\n")
    with pytest.raises(HistoryFormatError) as error:
        History.load(path)
    assert str(error.value).startswith(f"{path}:3: "), str(error.value)
    assert says in str(error.value), str(error.value)


def test_an_unreadable_history_names_the_file_and_why(tmp_path: Path) -> None:
    with pytest.raises(HistoryFormatError) as error:
        History.load(tmp_path / "missing.jsonl")
    assert (
        str(error.value) == f"{tmp_path / 'missing.jsonl'}: cannot read: No such file or directory"
    )
