"""sysbench beside the lab's own clients: Debian's sysbench 1.0.20 running an OLTP
workload through one of HAProxy's listeners during a chaos run, in a `tools` container
on the lab network, and what it saw per second (throughput, errors, reconnects).

sysbench's reconnect bug: with `--mysql-ignore-errors=all` a thread whose connection
died reconnects in a tight loop that never recovers (tens of thousands of aborted
connects, the client's ports exhausted, 0 tps until it is stopped). Operators work
around it by letting connection errors be fatal (sysbench's default ignore list,
deadlocks only) and starting a fresh sysbench when one exits; the lab does the same
and counts those restarts ("its threads did not survive").

Each report line is stamped with the host's clock (the container shares the kernel's),
so it lines up with the history's fault times."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from lab.infra.docker_env import RunIdentity
from lab.infra.errors import LabError
from lab.infra.nodes import Node, container_spec, start_container
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER
from lab.roles.dblb.front import DatabaseFront
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT
from lab.roles.images import tools_image

DATABASE = "oxlab_sysbench"
TABLE_SIZE = 1000
RESTART_PAUSE_S = 0.2
# one report line: "[ 3s ] thds: 4 tps: 123.00 qps: ... err/s: 0.00 reconn/s: 0.00"
REPORT = re.compile(
    r"^(?P<at>\d+\.\d+) \[ *\d+s \] thds: (?P<threads>\d+) tps: (?P<tps>[\d.]+) .*"
    r"lat \(ms,95%\): (?P<p95>[\d.]+) err/s: (?P<err>[\d.]+) reconn/s: (?P<reconn>[\d.]+)"
)
EXITED = re.compile(r"^(?P<at>\d+\.\d+) oxlab: sysbench exited (?P<code>\d+)")
FATAL = re.compile(r"^\d+\.\d+ (FATAL: .*)")


class SysbenchError(LabError):
    """sysbench could not prepare or start; the message has its own words."""


@dataclass(frozen=True)
class Second:
    """One of sysbench's per-second reports, at host time `at` (end of the second)."""

    at: float
    threads: int
    tps: float
    p95_ms: float
    errors: float
    reconnects: float


@dataclass
class SysbenchRun:
    """What sysbench saw: its per-second reports, its restarts and their reasons."""

    test: str
    listener: str
    threads: int
    seconds: list[Second] = field(default_factory=list)
    exits: list[tuple[float, int]] = field(default_factory=list)  # (host time, status)
    fatal: list[str] = field(default_factory=list)

    def gap_after(self, fault_at: float) -> float | None:
        """Seconds from `fault_at` (host time) until sysbench committed again. sysbench
        reports whole seconds only: within the first second with transactions after
        the outage, the share of the steady rate it reached says how much of that
        second it was committing (rate 50 % of steady: from its middle on).
        0.0: it never stopped; None: it never recovered."""
        after = [s for s in self.seconds if s.at > fault_at]
        restarts = [at for at, _ in self.exits if at > fault_at]
        stalled = next((s.at - 1.0 for s in after if s.tps == 0), None)
        if restarts:
            stalled = min(stalled if stalled is not None else restarts[0], restarts[0])
        if stalled is None:
            return 0.0
        back = next((s for s in after if s.tps > 0 and s.at - 1.0 >= stalled), None)
        if back is None:
            return None
        steady = statistics.median(
            [s.tps for s in self.seconds if s.at <= fault_at and s.tps > 0] or [back.tps]
        )
        committing = min(1.0, back.tps / steady)
        return max(0.0, back.at - committing - fault_at)

    def summary(self, fault_at: float) -> dict[str, object]:
        window = [s for s in self.seconds if fault_at - 1 <= s.at <= fault_at + 60]
        gap = self.gap_after(fault_at)
        return {
            "client": f"sysbench {self.test} ({self.threads} threads, {self.listener})",
            "gap_s": None if gap is None else round(gap, 2),
            "restarts": sum(at > fault_at for at, _ in self.exits),
            "errors": round(sum(s.errors for s in window)),
            "reconnects": round(sum(s.reconnects for s in window)),
            "threads_survived": not any(at > fault_at for at, _ in self.exits),
            "first_fatal_error": self.fatal[0][:160] if self.fatal else "",
        }


def parse(output: str, test: str, listener: str, threads: int) -> SysbenchRun:
    """The container's log (stamped report lines, exits, fatal errors) as a run."""
    run = SysbenchRun(test, listener, threads)
    for line in output.splitlines():
        if m := REPORT.match(line):
            run.seconds.append(
                Second(
                    float(m["at"]),
                    int(m["threads"]),
                    float(m["tps"]),
                    float(m["p95"]),
                    float(m["err"]),
                    float(m["reconn"]),
                )
            )
        elif m := EXITED.match(line):
            run.exits.append((float(m["at"]), int(m["code"])))
        elif m := FATAL.match(line):
            run.fatal.append(m[1])
    return run


def command(test: str, host: str, port: int, threads: int, action: str) -> str:
    """The sysbench command line an operator would type."""
    return (
        f"sysbench {test} --db-driver=mysql --mysql-host={host} --mysql-port={port} "
        f"--mysql-user={OX_DB_USER} --mysql-password={OX_DB_PASSWORD} "
        f"--mysql-db={DATABASE} --tables=1 --table-size={TABLE_SIZE} --threads={threads} "
        f"--time=0 --report-interval=1 {action}"
    )


# stamp each line with the host's clock; a fresh sysbench after each exit (the reconnect
# bug's workaround), until the container is removed
LOOP = (
    'while :; do {{ {run} 2>&1; echo "oxlab: sysbench exited $?"; }} '
    '| while IFS= read -r line; do echo "$(date +%s.%N) $line"; done; '
    f"sleep {RESTART_PAUSE_S}; done"
)


class Sysbench:
    """sysbench `test` with `threads` threads through the write (or read) listener."""

    def __init__(
        self,
        run: RunIdentity,
        dblb: DatabaseFront,
        test: str = "oltp_write_only",
        threads: int = 4,
        write: bool = True,
    ) -> None:
        self.identity = run
        self.dblb = dblb
        self.test = test
        self.threads = threads
        self.port = WRITE_PORT if write else READ_PORT
        self.listener = f"{'write' if write else 'read'} listener :{self.port}"
        self.name = f"sysbench-{'write' if write else 'read'}"  # its container's node name
        self.output = ""  # the container's log once it ran
        self._node: Node | None = None

    def _start(self, name: str, script: str) -> Node:
        """A tools container on the lab network (by name), labelled as the lab's, so
        `lab down` and the next run's cleanup remove it whatever happens here."""
        spec = container_spec(
            self.identity, None, tools_image().tag, "tools", name,
            network_mode=self.dblb.nodes[0].network,
        )  # fmt: skip
        return start_container(spec.with_command(["sh", "-c", script]), self.identity)

    def _one_shot(self, script: str) -> str:
        node = self._start(f"{self.name}-prepare", script)
        try:
            result = node.container.wait(timeout=120)
            output = node.logs()
        finally:
            node.container.remove(force=True)
        if result.get("StatusCode") != 0:
            raise SysbenchError(f"sysbench prepare failed: {output.strip()[-400:]}")
        return output

    def prepare(self) -> None:
        """The test's table, created afresh through the write listener."""
        host = self.dblb.ip
        self._one_shot(
            f"mysql -h{host} -P{WRITE_PORT} -u{OX_DB_USER} -p{OX_DB_PASSWORD} -e "
            f"'DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE}' && "
            + command(self.test, host, WRITE_PORT, 1, "prepare")
        )

    @contextmanager
    def running(self) -> Iterator[Node]:
        """sysbench runs (restarted whenever it exits) until the block ends."""
        run = command(self.test, self.dblb.ip, self.port, self.threads, "run")
        node = self._start(self.name, LOOP.format(run=run))
        self._node = node
        try:
            yield node
        finally:
            self.output = node.logs()
            self._node = None
            node.container.remove(force=True)

    def result(self) -> SysbenchRun:
        """What it saw: the whole run once it ended, so far while it runs."""
        output = self._node.logs() if self._node else self.output
        return parse(output, self.test, self.listener, self.threads)

    def recovered_after(self, fault_at: float) -> bool:
        """True once sysbench committed again after a fault at host time `fault_at`."""
        return self.result().gap_after(fault_at) is not None
