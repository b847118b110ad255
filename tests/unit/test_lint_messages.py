"""What `lab lint` tells an operator, word for word: every rule's finding on its classic
mistake (test_operator_lint's MISTAKES, HA005 on the reference files), rendered as the
command prints it, against tests/unit/fixtures/lint-findings.txt. The rules' messages
(severity, what, why, do) are what a person acts on; a change to one is a change to this
file, reviewed in the diff. After an intended change:

    LAB_UPDATE_GOLDEN=1 ./oxlab test tests/unit/test_lint_messages.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from tests.unit.test_operator_lint import MISTAKES, findings, made, starter

GOLDEN = Path(__file__).parent / "fixtures" / "lint-findings.txt"


def _rendered(toml: Path, rule: str) -> list[str]:
    return [f.render(toml.parent) for f in findings(toml) if f.rule == rule]


def _all_findings(tmp_path: Path) -> str:
    blocks = []
    for rule, mistake in sorted(MISTAKES.items()):
        toml, _ = made(tmp_path / rule, mistake)
        lines = _rendered(toml, rule)
        blocks.append(f"== {rule} ({mistake.topology}: {mistake.file})\n" + "\n".join(lines))
    reference = starter(tmp_path / "HA005")
    blocks.append(
        "== HA005 (guide-galera: the reference files)\n" + "\n".join(_rendered(reference, "HA005"))
    )
    return "\n\n".join(blocks) + "\n"


def test_every_rules_finding_reads_as_recorded(tmp_path: Path) -> None:
    text = _all_findings(tmp_path)
    if os.environ.get("LAB_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    expected = GOLDEN.read_text()
    diff = "\n".join(
        difflib.unified_diff(
            expected.splitlines(), text.splitlines(), str(GOLDEN.name), "lab lint now", lineterm=""
        )
    )
    assert text == expected, (
        f"what lab lint tells the operator changed (LAB_UPDATE_GOLDEN=1 if intended):\n{diff}"
    )


def test_every_mistake_yields_its_rules_finding(tmp_path: Path) -> None:
    """The recorded file would be vacuous for a rule whose mistake found nothing."""
    blocks = _all_findings(tmp_path).split("\n\n")
    empty = [b.splitlines()[0] for b in blocks if len(b.strip().splitlines()) < 2]
    assert not empty, f"no finding recorded for: {empty}"
