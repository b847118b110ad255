"""Lint rules across every file: host names, not addresses."""

from __future__ import annotations

from collections.abc import Iterator

from lab.operator import parsers
from lab.operator.lint.engine import WARNING, Finding, LintContext, register


def ip_addresses(context: LintContext) -> Iterator[Finding]:
    for f in context.project.files:
        for line, address in parsers.ip_addresses(f.text):
            yield Finding(
                "HO001",
                WARNING,
                f.path,
                line,
                f"{address} is an address, not a name",
                "the lab (and a rebuilt machine) gives nodes other addresses; names map to "
                "lab nodes through oxlab.toml's [hosts]",
                "use the host name and map it in [hosts]",
            )


register("HO001", "IP addresses in the operator's files", ip_addresses)
