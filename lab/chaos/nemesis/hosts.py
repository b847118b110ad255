"""Faults on SSH hosts, opt-in (`--allow-faults-on-hosts`): the nemesis of the host
scenarios. Each is a context manager that heals in its finally block, and each is
written to a fault journal on the control node before it is injected and marked
healed after, so a run that died mid-fault (the control node lost power, the SSH
session dropped) is healed by the next run before it starts, saying so.

What an SSH host supports, with the commands an operator would type:
- kill, stop and start a service: `systemctl kill --signal=SIGKILL UNIT`, `systemctl
  stop UNIT` (the NFS server), `systemctl start UNIT` (inventory variables
  oxlab_service, oxlab_kill_service, oxlab_stop_service, oxlab_start_service override
  the unit and the commands; the stand-in hosts use their lab-service);
- freeze a process: `pkill -STOP -x NAME`, healed by `pkill -CONT -x NAME`;
- cut a host off from its peers: iptables DROP rules, each marked with a comment so
  the heal deletes exactly them."""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.chaos.nemesis import firewall
from lab.chaos.nemesis.faults import SERVER_PROCESS, freeze_command, must, thaw_command
from lab.infra.errors import LabError
from lab.infra.hosts.remote import Host, HostError

# the unit each role's service has on Debian
SERVICES = {
    "galera": "mariadb",
    "dbmaster": "mariadb",
    "dbslave": "mariadb",
    "dblb": "haproxy",
    "web": "apache2",
    "groupware": "open-xchange",
    "filestore": "nfs-ganesha",
}
KILL_SERVICE = "systemctl kill --signal=SIGKILL {service}"
STOP_SERVICE = "systemctl stop {service}"
START_SERVICE = "systemctl start {service}"


def journal_path() -> Path:
    """The control node's fault journal (OXLAB_FAULT_JOURNAL, else ~/.oxlab/)."""
    given = os.environ.get("OXLAB_FAULT_JOURNAL")
    return Path(given) if given else Path.home() / ".oxlab" / "fault-journal.jsonl"


@dataclass(frozen=True)
class Entry:
    id: str
    host: str
    address: str
    fault: str
    heal: str  # the shell command (run as root) that heals it


class FaultJournal:
    """Append-only JSON lines: an entry when a fault is injected, a `healed` line when
    it is healed. Pending entries are faults whose heal never ran."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or journal_path()

    def _append(self, record: dict[str, object]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def injected(self, host: Host, fault: str, heal: str) -> Entry:
        entry = Entry(uuid.uuid4().hex[:12], host.name, host.address, fault, heal)
        self._append({**entry.__dict__, "at": time.time()})
        return entry

    def healed(self, entry: Entry) -> None:
        self._append({"healed": entry.id, "at": time.time()})

    def pending(self) -> list[Entry]:
        if not self.path.exists():
            return []
        entries: dict[str, Entry] = {}
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise LabError(f"{self.path}:{number}: not a fault journal line") from None
            if "healed" in record:
                entries.pop(record["healed"], None)
            else:
                entries[record["id"]] = Entry(
                    record["id"], record["host"], record["address"], record["fault"], record["heal"]
                )
        return list(entries.values())


def heal_pending(hosts: Sequence[Host], journal: FaultJournal) -> list[str]:
    """Heal what an earlier run left on these hosts: one line per fault, healed or not
    (a host not in this inventory is reported, not touched)."""
    by_name = {h.name: h for h in hosts}
    lines = []
    for entry in journal.pending():
        host = by_name.get(entry.host)
        if host is None or host.address != entry.address:
            lines.append(
                f"not healed: {entry.fault} on {entry.host} ({entry.address}), a host this "
                "inventory does not have; heal it by hand: " + entry.heal
            )
            continue
        try:
            result = host.sh(entry.heal)
        except HostError as exc:
            lines.append(f"not healed: {entry.fault} on {entry.host}: {exc}")
            continue
        if result.exit_code == 0:
            journal.healed(entry)
            lines.append(f"healed {entry.fault} on {entry.host}, left by an earlier run")
        else:
            lines.append(
                f"not healed: {entry.fault} on {entry.host}: `{entry.heal}` failed: "
                f"{result.output.strip()[-200:]}"
            )
    return lines


@contextlib.contextmanager
def journaled(
    host: Host, journal: FaultJournal, fault: str, inject: str, heal: str
) -> Iterator[None]:
    """Record, inject, yield, heal (in finally), record healed."""
    entry = journal.injected(host, fault, heal)
    try:
        must(host, inject)
        yield
    finally:
        must(host, heal)
        journal.healed(entry)


def service_command(host: Host, action: str) -> str:
    """The command that kills, stops or starts the host's service: systemd's, unless
    the inventory says (oxlab_service, oxlab_kill_service, oxlab_stop_service,
    oxlab_start_service)."""
    default = {"kill": KILL_SERVICE, "stop": STOP_SERVICE, "start": START_SERVICE}[action]
    service = str(host.variables.get("oxlab_service", SERVICES.get(host.role, "")))
    return str(host.variables.get(f"oxlab_{action}_service", default)).format(service=service)


def service_killed(host: Host, journal: FaultJournal) -> contextlib.AbstractContextManager[None]:
    """SIGKILL of the host's service (its whole unit), started again on heal."""
    return journaled(
        host,
        journal,
        "kill-service",
        service_command(host, "kill"),
        service_command(host, "start"),
    )


def service_stopped(host: Host, journal: FaultJournal) -> contextlib.AbstractContextManager[None]:
    """A clean stop of the host's service (the NFS server for maintenance), started
    again on heal."""
    return journaled(
        host,
        journal,
        "stop-service",
        service_command(host, "stop"),
        service_command(host, "start"),
    )


def process_frozen(
    host: Host, journal: FaultJournal, process: str = SERVER_PROCESS
) -> contextlib.AbstractContextManager[None]:
    """SIGSTOP of the process (a hung server on a living machine), SIGCONT on heal."""
    return journaled(host, journal, "freeze", freeze_command(process), thaw_command(process))


def partitioned(
    host: Host, peers: Sequence[Host], journal: FaultJournal
) -> contextlib.AbstractContextManager[None]:
    """The host cut off from its peers (one command: the cut is never partial); clients
    still reach it, as in a real split."""
    addresses = [peer.address for peer in peers]
    return journaled(
        host,
        journal,
        "partition",
        firewall.cut_off(addresses, "-I", marked=True),
        firewall.cut_off(addresses, "-D", marked=True),
    )
