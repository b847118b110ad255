"""How a Galera node came by its data: the seeded state's primary view (gvwstate.dat) and
the reading of a server's log that `lab status` shows as "joined by"."""

from __future__ import annotations

import pytest

from lab.infra.nodes import docker_epoch
from lab.plan.flavours import get_flavour
from lab.roles.db.galera import STARTING, GaleraNode, how_joined, settled
from lab.roles.db.galera_config import node_uuid, render_gvwstate
from lab.roles.db.node import secure_installation_sql, seed_sql

MEMBERS = ("galera1", "galera2", "galera3")
START = (
    "2026-12-02  6:32:06 0 [Note] Starting MariaDB 10.11.18-MariaDB-0+deb12u1 source revision x\n"
)
# lines as MariaDB 10.11 + Galera 26.4 print them (seen in this lab's containers)
RESTORED = "2026-12-02  6:32:07 0 [Note] WSREP: restore pc from disk successfully\n"
SYNCED = "2026-12-02  6:32:08 2 [Note] WSREP: Server status change joined -> synced\n"
BOOTSTRAP = "2026-12-02  6:29:23 0 [Note] WSREP: gcomm: bootstrapping new group 'oxlab'\n"
UUID = "b3e7262c-ee1f-11f1-9605-c322476518b6"


def required(local: str) -> str:
    return (
        "2026-12-02  7:12:58 2 [Note] WSREP: State transfer required: \n"
        f"\tGroup state: {UUID}:18\n"
        f"\tLocal state: {local}\n"
    )


def joiner(method: str) -> str:
    return (
        "2026-12-02  7:12:58 0 [Note] WSREP: Running: 'wsrep_sst_"
        f"{method} --role 'joiner' --address 'galera3' --datadir '/var/lib/mysql/'\n"
    )


def installed(seqno: int) -> str:
    return (
        f"2026-12-02  7:13:01 3 [Note] WSREP: SST succeeded for position {UUID}:{seqno}\n"
        f"2026-12-02  7:13:01 2 [Note] WSREP: Installed new state from SST: {UUID}:{seqno}\n"
    )


# a full SST into an empty datadir: a new state, then Galera's preload of its
# certification index (which logs IST lines of its own)
FULL_SST = (
    required("00000000-0000-0000-0000-000000000000:-1")
    + joiner("mariabackup")
    + installed(13)
    + "2026-12-02  7:12:32 0 [Note] WSREP: Receiving IST... 100.0% (12/12 events) complete.\n"
    + f"2026-12-02  7:12:32 2 [Note] WSREP: IST received: {UUID}:13\n"
)
# the donor chose an IST: the SST script only hands back the joiner's own state
BYPASS_IST = (
    required(f"{UUID}:15")
    + joiner("mariabackup")
    + installed(15)
    + "2026-12-02  7:13:01 2 [Note] WSREP: Receiving IST: 3 writesets, seqnos 16-18\n"
    + f"2026-12-02  7:13:01 2 [Note] WSREP: IST received: {UUID}:18\n"
)
RSYNC_IST = (
    required(f"{UUID}:9")
    + joiner("rsync")
    + "WSREP_SST: [INFO] rsync IST completed on joiner (20261202 06:29:27.719)\n"
)
RSYNC_SST = required("00000000-0000-0000-0000-000000000000:-1") + joiner("rsync") + installed(11)


def parse_gvwstate(text: str) -> tuple[str, list[str], str]:
    lines = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    members = [line.split()[1] for line in text.splitlines() if line.startswith("member: ")]
    return lines["my_uuid"], members, lines["view_id"]


def test_every_node_restores_the_same_primary_view_as_itself() -> None:
    views = [parse_gvwstate(render_gvwstate("run1", MEMBERS, name)) for name in MEMBERS]
    mine = [v[0] for v in views]
    assert len(set(mine)) == 3, "each node needs its own gcomm UUID, or Galera merges them"
    for my_uuid, members, view_id in views:
        assert members == mine, "every node's view lists all members, in the same order"
        assert my_uuid in members, "a node is a member of the view it restores"
        kind, creator, _ = view_id.split()
        assert kind == "3" and creator == mine[0], "a primary view (type 3) from one creator"


def test_node_uuids_are_fixed_per_run_and_node() -> None:
    assert node_uuid("run1", "galera1") == node_uuid("run1", "galera1"), "a compose file keeps it"
    assert node_uuid("run1", "galera1") != node_uuid("run2", "galera1"), "labs differ"
    assert "#vwbeg" in render_gvwstate("r", MEMBERS, "galera2").splitlines()[1]


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (START + RESTORED + SYNCED, "seeded, no transfer"),
        # the view is restored before the server knows whether it is behind the group
        (START + RESTORED, "joining"),
        (START + RESTORED + required(f"{UUID}:15") + joiner("rsync"), "state transfer running"),
        (START + BOOTSTRAP, "bootstrapped"),
        (START + FULL_SST, "SST (mariabackup)"),
        (START + BYPASS_IST, "IST"),
        (START + RSYNC_IST, "IST"),
        (START + RSYNC_SST, "SST (rsync)"),
        (START + required(f"{UUID}:15") + joiner("rsync"), "state transfer running"),
        # a node that joined by SST once and was restarted later: the latest start counts
        (START + RSYNC_SST + START + BYPASS_IST, "IST"),
        (START + FULL_SST + START + RESTORED + SYNCED, "seeded, no transfer"),
        (START, "none"),
    ],
)
def test_how_a_node_joined_is_read_from_its_latest_start(log: str, expected: str) -> None:
    assert how_joined(log) == expected


def test_the_first_start_is_told_apart_from_the_latest() -> None:
    log = START + RESTORED + SYNCED + START + BYPASS_IST
    assert how_joined(log, 0) == "seeded, no transfer"
    assert how_joined(log) == "IST"


def test_the_seed_is_the_secure_installation_then_a_clean_shutdown() -> None:
    dialect = get_flavour("mariadb-10.11").dialect
    seed = seed_sql(dialect)
    assert seed.startswith(secure_installation_sql(dialect, create_sst_user=True))
    assert seed.rstrip().endswith("SHUTDOWN;"), "grastate.dat gets its seqno on a clean stop"
    assert "sstuser" in seed, "the SST user is in place for a later SST"
    assert "openexchange" not in seed, "the OX user's host is each lab's network"


class FakeContainer:
    """What GaleraNode.how_joined reads of Docker: the last start's time and the log,
    as `logs(since=)` returns it (the lines from that second on)."""

    name = "galera3"

    def __init__(self) -> None:
        self.labels = {"ox-lab.node": "galera3"}
        self.lines: list[tuple[int, str]] = []
        self.started = "2026-12-02T07:00:00.000000000Z"
        self.attrs: dict[str, dict[str, str]] = {"State": {}}
        self.reloads = 0

    def reload(self) -> None:
        self.reloads += 1
        self.attrs = {"State": {"StartedAt": self.started}}

    def logs(self, tail: object = "all", since: int | None = None) -> bytes:
        return "".join(text for at, text in self.lines if since is None or at >= since).encode()


def test_a_restart_whose_server_has_not_started_is_not_the_previous_starts_way_in() -> None:
    """After a crash the container runs galera_recovery before the server: until the
    server logs its start, the node is starting, not joined the way its last start was
    (a test polling for IST read the seeded start's answer and stopped there)."""
    fake = FakeContainer()
    node = GaleraNode(fake)  # type: ignore[arg-type]
    first = docker_epoch(fake.started)
    assert first is not None
    fake.lines = [(int(first), START + RESTORED + SYNCED)]
    assert node.how_joined() == "seeded, no transfer"
    fake.started = "2026-12-02T07:05:00.000000000Z"  # killed, started again
    again = docker_epoch(fake.started)
    assert again is not None
    fake.lines.append((int(again), "WSREP: Recovered position " + UUID + ":16\n"))
    assert node.how_joined() == STARTING and not settled(STARTING), "not the seeded start's"
    fake.lines.append((int(again) + 2, START + required(f"{UUID}:16") + RSYNC_IST))
    assert node.how_joined() == "IST"
