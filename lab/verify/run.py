"""Run the guide's checks on a target, section by section in the guide's order, and
print one table per section. Sections run in parallel where they touch different
hosts; the result order is the guide's, whatever finished first."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lab.infra.text import table
from lab.verify.checks import database, dblb, front, groupware
from lab.verify.result import Result
from lab.verify.target import Target

Check = Callable[[Target], list[Result]]

# (section, layout it applies to or "" for both, check): the guide's order
SECTIONS: tuple[tuple[str, str, Check], ...] = (
    ("galera", "galera", database.galera),
    ("galera", "galera", database.clustercheck),
    ("gtid", "gtid", database.gtid),
    ("haproxy", "galera", dblb.haproxy),
    ("consistency", "", database.consistency),
    ("filestore", "", groupware.filestore),
    ("groupware", "", groupware.routes),
    ("frontend", "", front.front_end),
)


@dataclass
class Verification:
    target: Target
    results: list[Result]
    seconds: float

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.ok]


def verify(target: Target, only: tuple[str, ...] = ()) -> Verification:
    """Preflight every host (HostError: nothing touched), then every check of the
    layout; `only` limits it to these sections."""
    started = time.monotonic()
    target.preflight()
    checks = [
        check
        for section, layout, check in SECTIONS
        if layout in ("", target.layout) and (not only or section in only)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda check: check(target), checks))
    results = [r for found in outcomes for r in found]
    return Verification(target, results, time.monotonic() - started)


def render(verification: Verification, width: int = 100) -> str:
    """One table per section (result, host, check, evidence), then the verdict."""
    lines = [f"lab verify: {verification.target.source} ({verification.target.layout})"]
    sections = list(dict.fromkeys(r.section for r in verification.results))
    for section in sections:
        rows = [
            {
                "result": "pass" if r.ok else "FAIL",
                "host": r.host,
                "check": r.check,
                "evidence": r.evidence,
            }
            for r in verification.results
            if r.section == section
        ]
        lines += ["", section, table(rows, ("result", "host", "check", "evidence"), width)]
    failed = verification.failed
    total = len(verification.results)
    lines.append("")
    lines.append(
        f"{total - len(failed)} of {total} checks passed in {verification.seconds:.1f} s"
        + (f"; {len(failed)} failed:" if failed else "")
    )
    lines += [f"  {r.line()}" for r in failed]
    return "\n".join(lines)
