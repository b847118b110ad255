"""One verdict of `lab verify`: which section of the guide, which host, which check,
pass or fail, and the evidence a person needs to believe it (or to act on it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pymysql
import requests

from lab.infra.errors import LabError

# what a service that does not answer raises: the lab's own errors, MySQL's (a listener
# that accepts and closes while HAProxy has no server UP: 2013), HTTP's, the socket's
UNANSWERED = (LabError, pymysql.err.MySQLError, requests.RequestException, OSError)


@dataclass(frozen=True)
class Result:
    section: str
    host: str
    check: str
    ok: bool
    evidence: str

    def line(self) -> str:
        """The one line a failure reads as: host, check, what was found."""
        verdict = "PASS" if self.ok else "FAIL"
        return f"{verdict} {self.section}: {self.host}: {self.check}: {self.evidence}"


def guarded(
    section: str, host: str, check: str, probe: Callable[..., Result], *args: Any
) -> Result:
    """probe(*args), where a host that refused or a service that did not answer is a
    failed check that says why, not an aborted run (a chaos run polls verify until the
    cluster is healthy again, through exactly such moments)."""
    try:
        return probe(*args)
    except UNANSWERED as exc:
        return Result(section, host, check, False, str(exc) or type(exc).__name__)


def passed(section: str, host: str, check: str, problems: list[str], evidence: str) -> Result:
    """A result from a list of problems: pass with the evidence, or fail naming them."""
    if problems:
        return Result(section, host, check, False, "; ".join(problems) + f" ({evidence})")
    return Result(section, host, check, True, evidence)
