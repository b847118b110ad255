"""A stock client in a loop: the mariadb command-line client (tools image) connecting
again and again to each of several targets, every attempt stamped with the host's clock.
It resolves a name at every connect, as an application does, which is what shows a DNS
round robin handing out a dead load balancer's address; a target of several hosts is
tried in turn, one per connect, as a JDBC driver's own round robin does (no health
check: only a refused or timed-out connect moves it on)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from lab.chaos.history import History, Op
from lab.infra.docker_env import RunIdentity
from lab.infra.nodes import Node, container_spec, start_container
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER
from lab.roles.dblb.haproxy_config import WRITE_PORT
from lab.roles.images import tools_image

# one loop per target, side by side; a line per attempt: start end f ok|fail text
ATTEMPT = (
    "while :; do for host in {hosts}; do s=$(date +%s.%N); "
    "if out=$(mysql -h $host -P {port} -u{user} -p{password} --connect-timeout={timeout} "
    "-N -e 'SELECT @@hostname' 2>&1); then r=ok; else r=fail; fi; "
    'echo "$s $(date +%s.%N) {f} $r $(echo $out | head -c 100)"; sleep 0.1; done; done'
)


@dataclass(frozen=True)
class Target:
    """What one loop connects to: hosts tried in turn (one: always the same), a port."""

    hosts: tuple[str, ...]
    port: int = WRITE_PORT


def loop_script(targets: Mapping[str, Target], timeout_s: int) -> str:
    """`targets`: the history's op name -> what the client connects to."""
    loops = [
        "("
        + ATTEMPT.format(
            hosts=" ".join(t.hosts),
            port=t.port,
            user=OX_DB_USER,
            password=OX_DB_PASSWORD,
            timeout=timeout_s,
            f=f,
        )
        + ") &"
        for f, t in targets.items()
    ]
    return " ".join(loops) + " wait"


@contextmanager
def connecting(
    run: RunIdentity, network: str, targets: Mapping[str, Target], timeout_s: int
) -> Iterator[Node]:
    """The loop in a tools container on the lab network (labelled as the lab's, so
    `lab down` and the next run's cleanup remove it), removed when the block ends."""
    spec = container_spec(
        run, None, tools_image().tag, "tools", "connect-loop", network_mode=network
    ).with_command(["sh", "-c", loop_script(targets, timeout_s)])
    node = start_container(spec, run)
    try:
        yield node
    finally:
        node.container.remove(force=True)


def record_attempts(
    log: str, history: History, now_epoch: float, processes: Mapping[str, int]
) -> int:
    """Add the log's attempts to `history` as operations of the processes given per op
    name (host epochs turned into history time, with `now_epoch` the host clock at
    history.now()); returns how many."""
    offset = now_epoch - history.now()
    added = 0
    for line in log.splitlines():
        parts = line.split(" ", 4)
        if len(parts) < 4 or parts[3] not in ("ok", "fail") or parts[2] not in processes:
            continue
        try:
            start, end = float(parts[0]) - offset, float(parts[1]) - offset
        except ValueError:
            continue
        text = parts[4].strip() if len(parts) > 4 else ""
        ok = parts[3] == "ok"
        history.ops.append(
            Op(
                len(history.ops),
                processes[parts[2]],
                parts[2],
                None,
                start,
                end,
                "ok" if ok else "fail",
                text if ok else "",
                "" if ok else text,
            )
        )
        added += 1
    return added
