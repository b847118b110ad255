"""pytest's JUnit XML report read per test: the one reader of it (the matrix's cells,
`lab bench flakes`, the nightly's rerun-once). The suite's `junit_family = "xunit1"`
(pyproject.toml) makes each test case name its file, so a test's id is pytest's own
node id and can be run again as it is."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from lab.infra.errors import ConfigError


@dataclass(frozen=True)
class Outcome:
    """One test: "passed", "failed" (a failure, or an error in set-up or teardown) or
    "skipped", with the first line of the failure's message or the skip's reason."""

    nodeid: str
    result: str
    message: str = ""


@dataclass(frozen=True)
class Report:
    outcomes: list[Outcome]
    seconds: float  # the run's time as pytest measured it

    def count(self, result: str) -> int:
        return sum(o.result == result for o in self.outcomes)

    def first(self, result: str) -> str:
        """The message of the first test with this result ("" if none)."""
        return next((o.message for o in self.outcomes if o.result == result), "")


def parse(xml_text: str) -> Report:
    root = ElementTree.fromstring(xml_text)
    outcomes: dict[str, Outcome] = {}
    for case in root.iter("testcase"):
        outcome = _outcome(case)
        known = outcomes.get(outcome.nodeid)
        if known is None or outcome.result == "failed":  # a teardown error's second case
            outcomes[outcome.nodeid] = outcome
    seconds = sum(float(s.get("time", 0.0)) for s in root.iter("testsuite"))
    return Report(list(outcomes.values()), seconds)


def read(path: Path) -> Report:
    """The report at `path`; a file that is not JUnit XML is one clear line."""
    try:
        return parse(path.read_text())
    except (OSError, ElementTree.ParseError) as exc:
        raise ConfigError(f"{path}: not a JUnit XML report ({exc})") from exc


def _outcome(case: ElementTree.Element) -> Outcome:
    file = case.get("file", "")
    classname, name = case.get("classname", ""), case.get("name", "")
    module = file.removesuffix(".py").replace("/", ".")
    inner = classname.removeprefix(module).lstrip(".") if file else classname
    nodeid = "::".join(part for part in (file, inner, name) if part)
    bad = case.find("failure")
    if bad is None:
        bad = case.find("error")
    if bad is not None:
        return Outcome(nodeid, "failed", _first_line(bad))
    skipped = case.find("skipped")
    if skipped is not None:
        return Outcome(nodeid, "skipped", _first_line(skipped).removeprefix("Skipped: "))
    return Outcome(nodeid, "passed")


def _first_line(element: ElementTree.Element) -> str:
    lines = (element.get("message") or element.text or "").strip().splitlines()
    return lines[0] if lines else ""
