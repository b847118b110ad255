"""Turn a failed Galera start into one readable line: the guide's "common mistakes"
recognised in the server logs, with the log lines that show them."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownFailure:
    pattern: re.Pattern[str]
    reason: str


KNOWN_FAILURES: tuple[KnownFailure, ...] = (
    KnownFailure(
        re.compile(r"\[ERROR\].*(wsrep_load|Failed to load provider|provider)", re.I),
        "the Galera module did not load: wrong wsrep_provider path in wsrep.cnf",
    ),
    KnownFailure(
        re.compile(r"Access denied for user '?sstuser", re.I),
        "SST failed: the SST user is missing or its password is wrong on the donor "
        "(create 'sstuser' on the first node, as the guide says)",
    ),
    KnownFailure(
        re.compile(r"\[ERROR\].*(SST|state transfer|wsrep_sst_)|State transfer .* failed", re.I),
        "state transfer (SST) failed: check the SST method's tools (socat, rsync, "
        "mariabackup) and the donor's SST log",
    ),
    KnownFailure(
        re.compile(r"parameter '[\w.]+' value \S+ is out of range", re.I),
        "a wsrep_provider_options value is outside the range Galera accepts (the log line "
        "names the parameter and the range): fix it in wsrep.cnf or your own .cnf",
    ),
    KnownFailure(
        re.compile(r"\[ERROR\].*(gcomm backend|Failed to open channel)", re.I),
        "could not reach the cluster: wsrep_cluster_address names no running node",
    ),
)
# A server that logged one of these is going down, even if its container has not exited
# yet (an abort may take many seconds to dump core): stop waiting for it at once.
FATAL = re.compile(
    r"unrecoverable condition|ReplicatorSMM::abort|\[ERROR\] Aborting|"
    r"WSREP: Failed to initialize",
    re.I,
)

ERROR_LINE = re.compile(r"\[(ERROR|FATAL)\]|ERROR|Aborting", re.I)


def diagnose(logs: dict[str, str]) -> tuple[str, str]:
    """Return (reason, excerpt) for the first known failure found in any node's logs.

    ``logs`` maps node name to log text; the failing node's own log should come first.
    Unknown failures still get an excerpt: the error lines, so nobody has to dig.
    """
    for known in KNOWN_FAILURES:
        for node, text in logs.items():
            hits = [line for line in text.splitlines() if known.pattern.search(line)]
            if hits:
                return known.reason, "\n".join(f"{node}: {h.strip()}" for h in hits[-4:])
    errors = [
        f"{node}: {line.strip()}"
        for node, text in logs.items()
        for line in text.splitlines()
        if ERROR_LINE.search(line)
    ]
    return "the server stopped during startup", "\n".join(errors[-6:])
