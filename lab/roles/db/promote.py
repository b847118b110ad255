"""`lab promote`: after the GTID master is lost, the slave becomes the master and HAProxy
follows. The steps an operator takes by hand: let the slave apply everything it has
received, stop replication and forget the old source, lift read-only (now and after a
restart), then point dblb's write and read listeners at the new master alone: the old
master must not come back into rotation with its diverged data, it is rebuilt as a
slave of the new one (the guide's slave setup), which is a separate step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lab.infra.errors import LabError
from lab.infra.nodes import put_file
from lab.infra.waiting import poll
from lab.roles.db.gtid import GtidNode
from lab.roles.db.gtid_config import READ_ONLY_CNF
from lab.roles.db.node import NotReady
from lab.roles.dblb.haproxy_config import render_gtid_haproxy_cfg
from lab.roles.dblb.role import haproxies
from lab.roles.system import Lab

HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
RELOAD_HAPROXY = (
    'pid="$(for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = haproxy ] '
    '&& echo ${d#/proc/}; done | sort -n | head -1)"; kill -USR2 "$pid"'
)


@dataclass(frozen=True)
class Promotion:
    new_master: str
    old_master: str
    gtid_position: str
    seconds: float


def relay_log_applied(slave: GtidNode) -> bool:
    """The SQL thread has executed everything the IO thread received."""
    status = slave.replica_status() or {}
    read = next((v for k, v in status.items() if k.startswith("Read_") and k.endswith("_Pos")), "")
    done = next((v for k, v in status.items() if k.startswith("Exec_") and k.endswith("_Pos")), "")
    files = [v for k, v in status.items() if k in ("Master_Log_File", "Source_Log_File")]
    relay = [v for k, v in status.items() if k.startswith("Relay_") and k.endswith("_Log_File")]
    return bool(read) and read == done and files == relay[-1:]


def promote(lab: Lab, timeout: float = 60.0) -> Promotion:
    if lab.gtid is None or not haproxies(lab):
        raise LabError("`lab promote` needs a GTID lab with HAProxy (topology gtid)")
    started = time.monotonic()
    old, new = lab.gtid.master, lab.gtid.slave
    dialect = new.dialect
    new.sql(dialect.stop_io_thread)
    poll(
        lambda: relay_log_applied(new),
        timeout=timeout,
        what=f"{new.name} to apply its relay log",
        retry_on=(NotReady,),
    )
    new.sql(f"{dialect.stop_replica}; {dialect.reset_replica_all}")
    new.sql("; ".join(f"SET GLOBAL {var} = OFF" for var in reversed(dialect.read_only_vars)))
    new.shell(f"rm -f {READ_ONLY_CNF}")
    profile = lab.plan.profile
    config = render_gtid_haproxy_cfg(new.name, None, profile).encode()
    for haproxy in haproxies(lab):  # every instance: dblb, the pair, the local ones
        put_file(haproxy, HAPROXY_CFG, config)
        # haproxy -W: the master process (the lowest pid: started first) reloads its
        # workers on USR2; /proc is read directly (not every image has procps)
        reload = haproxy.exec(["sh", "-c", RELOAD_HAPROXY])
        if reload.exit_code != 0:
            raise LabError(f"reloading HAProxy on {haproxy.name} failed: {reload.output.strip()}")
    writer = lab.wait_writable(timeout=timeout)
    if writer != new.name:
        raise LabError(f"HAProxy writes to {writer}, not to the promoted {new.name}")
    return Promotion(new.name, old.name, new.gtid_position(), time.monotonic() - started)
