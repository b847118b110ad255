"""Run the guide's checks on a target, section by section in the guide's order, and
print one table per section. Sections run in parallel where they touch different
hosts; the result order is the guide's, whatever finished first."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lab.infra.errors import ConfigError
from lab.infra.text import table
from lab.infra.vocabulary import current
from lab.verify.checks import database, dblb, groupware, web
from lab.verify.result import Result
from lab.verify.target import Target

Check = Callable[[Target], list[Result]]

# (section, layout it applies to or "" for both, check): the guide's order
SECTIONS: tuple[tuple[str, str, Check], ...] = (
    ("galera", "galera", database.galera),
    ("galera", "galera", database.clustercheck),
    ("gtid", "gtid", database.gtid),
    ("dblb", "galera", dblb.haproxy),
    ("consistency", "", database.consistency),
    ("filestore", "", groupware.filestore),
    ("groupware", "", groupware.routes),
    ("web", "", web.front_end),
)
# the roles a section's checks read; a lab of the database roles only (topology galera
# or gtid) is checked on the sections it has, and the others are named as not checked
SECTION_ROLES = {
    "galera": ("galera",),
    "gtid": ("dbmaster", "dbslave"),
    "dblb": ("dblb",),
    "consistency": (),
    "filestore": ("filestore", "groupware"),
    "groupware": ("web", "groupware"),
    "web": ("web", "groupware"),
}


@dataclass
class Verification:
    target: Target
    results: list[Result]
    seconds: float
    not_checked: list[str] = field(default_factory=list)  # sections whose hosts it lacks

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.ok]


def verify(target: Target, only: tuple[str, ...] = ()) -> Verification:
    """Preflight every host (HostError: nothing touched), then every check of the
    layout; `only` limits it to these sections (a role's earlier name, such as haproxy
    for dblb, is understood: lab/infra/vocabulary.py)."""
    started = time.monotonic()
    only = tuple(current(section) for section in only)
    unknown = [s for s in only if s not in SECTION_ROLES]
    if unknown:
        raise ConfigError(
            f"lab verify: unknown section {unknown[0]!r}; known: {', '.join(SECTION_ROLES)}"
        )
    target.preflight()
    chosen = [
        (section, check)
        for section, layout, check in SECTIONS
        if layout in ("", target.layout) and (not only or section in only)
    ]
    missing = {s: [r for r in SECTION_ROLES[s] if not target.role(r)] for s, _ in chosen}
    checks = [check for section, check in chosen if not missing[section]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda check: check(target), checks))
    results = [r for found in outcomes for r in found]
    not_checked = [
        f"{section} (no {', '.join(roles)} hosts)" for section, roles in missing.items() if roles
    ]
    return Verification(target, results, time.monotonic() - started, not_checked)


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
    if verification.not_checked:
        lines.append("not checked: " + "; ".join(verification.not_checked))
    return "\n".join(lines)
