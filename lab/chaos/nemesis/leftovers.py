"""Healing what a run left behind. A run that died mid-fault (the process was killed)
leaves a kept lab paused, stopped or cut off; `heal_leftovers` undoes all of that. A
fault can also leave a Galera cluster with no Primary Component, which Galera does not
form again by itself; `heal_lab` restores it the documented way (roles/db/quorum.py).
`heal_lab` runs first in every chaos run and between the tests that share a lab, so the
next run starts from a healed lab."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import docker.errors

from lab.chaos.nemesis import firewall
from lab.chaos.nemesis.faults import (
    CLUSTERCHECK_SETTINGS,
    DONOR_LOCK_SESSIONS_SQL,
    HAPROXY_DOWN_BESIDE_KEEPER,
    REMOVE_LYING_DONOR,
    SERVER_COMMANDS,
    SERVER_PROCESS,
    START_HAPROXY,
)
from lab.infra.errors import StartupError
from lab.infra.nodes import Node
from lab.roles.db.quorum import restore_primary
from lab.roles.health import Unhealthy
from lab.roles.system import Lab

QUICK_HEALTH_S = 30.0  # a node finishing IST or a server rising is waited out first


@dataclass
class Healing:
    """What `heal_leftovers` did: one line per healed and per unhealable leftover."""

    healed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


LEFTOVER_STEPS: tuple[tuple[str, str], ...] = (
    # (what it heals, shell command run in every running lab container)
    (
        "firewall rules flushed",
        f"if {firewall.HAS_RULES}; then {firewall.FLUSH} && echo healed; fi",
    ),
    (
        "mysqld continued",
        f"if ps -o stat= -C {SERVER_COMMANDS} 2>/dev/null | grep -q T; then "
        f"pkill -CONT -x '{SERVER_PROCESS}' && echo healed; fi",
    ),
    (
        "lying clustercheck settings removed",
        f"if grep -qs 'oxlab fault' {CLUSTERCHECK_SETTINGS}; then {REMOVE_LYING_DONOR} "
        "&& echo healed; fi",
    ),
    (
        "donor lock released",
        "command -v lab-mysql >/dev/null || exit 0; "
        f'ids=$(lab-mysql -N -e "{DONOR_LOCK_SESSIONS_SQL}") || exit 0; '
        '[ -z "$ids" ] && exit 0; for id in $ids; do lab-mysql -e "KILL $id"; done; '
        "lab-mysql -e 'SET GLOBAL wsrep_desync=OFF' && echo healed",
    ),
    (
        "HAProxy started again",
        f"if {HAPROXY_DOWN_BESIDE_KEEPER}; then {{ {START_HAPROXY}; }} && echo healed; fi",
    ),
)


def heal_leftovers(nodes: Sequence[Node], say: Callable[[str], None] | None = None) -> Healing:
    """Undo what a run that died mid-fault left behind: unpause, start, flush firewall
    rules, SIGCONT a stopped server, remove a lying clustercheck setting, release a donor
    lock. What cannot be healed is one line per resource in `failed`, and `say` (the
    next run's progress) tells it before the run starts; a container that no longer
    exists is not the lab's to heal."""
    healing = Healing()
    for node in nodes:
        try:
            status = node.status
        except (StartupError, docker.errors.NotFound):
            continue
        except docker.errors.DockerException as exc:
            healing.failed.append(f"{node.name}: cannot inspect the container: {exc}")
            continue
        try:
            if status == "paused":
                node.unpause()
                healing.healed.append(f"{node.name}: unpaused")
            elif status in ("exited", "created"):
                node.start()
                healing.healed.append(f"{node.name}: started")
        except docker.errors.DockerException as exc:
            healing.failed.append(f"{node.name}: could not start or unpause it ({status}): {exc}")
            continue
        for healed, command in LEFTOVER_STEPS:
            try:
                result = node.sh(command)
            except docker.errors.DockerException as exc:
                healing.failed.append(f"{node.name}: {healed} failed: {exc}")
                continue
            if result.exit_code != 0:
                healing.failed.append(
                    f"{node.name}: {healed} failed: {result.output.strip()[:200]}"
                )
            elif "healed" in result.output:
                healing.healed.append(f"{node.name}: {healed}")
    if say:
        for line in healing.healed:
            say(f"healed a leftover of an earlier run: {line}")
        for line in healing.failed:
            say(f"could NOT heal a leftover of an earlier run: {line}")
    return healing


def heal_lab(lab: Lab, say: Callable[[str], None] | None = None) -> Healing:
    """heal_leftovers on every node; then, if the lab is still not healthy within
    QUICK_HEALTH_S and runs Galera, its Primary Component restored (pc.bootstrap=YES on
    the most advanced node, a node that does not rejoin restarted). Every step is one
    line in `healed`; the caller waits for health and reports what is left."""
    healing = heal_leftovers(lab.nodes(), say=say)
    try:
        lab.wait_healthy(timeout=QUICK_HEALTH_S)
        return healing
    except Unhealthy as exc:
        if not lab.galera:
            healing.failed.append(str(exc))
            return healing
    lines = restore_primary(lab.galera, say=lambda line: say(f"healed: {line}") if say else None)
    healing.healed += lines
    return healing
