"""The example operator repositories (examples/) are what the README walks a newcomer
through: the guide-following one lints clean, the one with classic mistakes trips at
least four of the catalogue's error rules, each at the line of the mistake."""

from __future__ import annotations

from pathlib import Path

from lab.operator.lint import ERROR, lint
from lab.operator.placement import operator_notes
from lab.operator.project import load_project
from lab.plan.topology import LabRequest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _lint(name: str) -> list[str]:
    project = load_project(EXAMPLES / name / "oxlab.toml")
    plan = LabRequest.of(project).plan()
    operator_notes(plan)  # the cluster can be formed on these files (else ConfigError)
    return [f.rule for f in lint(project, plan.topology, (plan.flavour,)) if f.severity == ERROR]


def test_the_guide_example_lints_clean() -> None:
    assert _lint("guide") == [], "examples/guide follows the guide: no error"
    project = load_project(EXAMPLES / "guide" / "oxlab.toml")
    plan = LabRequest.of(project).plan()
    warnings = [
        f.render() for f in lint(project, plan.topology, (plan.flavour,)) if f.severity != "info"
    ]
    assert warnings == [], "nor a warning"


def test_the_mistakes_example_shows_four_classic_mistakes() -> None:
    errors = set(_lint("mistakes"))
    expected = {"HA001", "HA002", "HA003", "DB001", "AP002", "NF001"}
    assert expected <= errors, f"missing: {expected - errors}"


def test_the_examples_use_their_own_host_names() -> None:
    project = load_project(EXAMPLES / "guide" / "oxlab.toml")
    assert dict(project.hosts)["db1.ox.example.net"] == "galera1"
    haproxy = project.file("dblb", "haproxy_cfg")
    assert haproxy and "galera1" not in haproxy.text, "the operator's names, not the lab's"
