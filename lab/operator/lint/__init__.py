"""`lab lint`: the operator's files checked against the guide, OX's documentation and
what the lab has measured, before Docker is touched. One line per finding: rule id,
severity, file:line, what is wrong, why, what to do. Errors make `lab lint` exit 1.

Rules are plain functions registered in RULES (`engine.py`), one module per guide role:
`dblb` (HAProxy), `db` (Galera, GTID), `web` (Apache), `groupware` (configdb.properties),
`filestore` (the NFS export) and `hosts` (every file). Each gets a LintContext (the
operator's files already parsed, the topology, the flavours) and yields Findings."""

from lab.operator.lint import db, dblb, filestore, groupware, hosts, web  # registers the rules
from lab.operator.lint.db import size_bytes
from lab.operator.lint.engine import (
    BLOCKS_UP,
    ERROR,
    INFO,
    RULES,
    WARNING,
    Finding,
    LintContext,
    blocking_findings,
    explain,
    lint,
)

ROLE_MODULES = (dblb, db, web, groupware, filestore, hosts)
__all__ = [
    "BLOCKS_UP",
    "ERROR",
    "INFO",
    "ROLE_MODULES",
    "RULES",
    "WARNING",
    "Finding",
    "LintContext",
    "blocking_findings",
    "explain",
    "lint",
    "size_bytes",
]
