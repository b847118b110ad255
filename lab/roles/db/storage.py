"""Where a database node's writes go. `disk` (the default): the server's own fsync on
the container's datadir, as on the operator's machines. `fast`: the same datadir with
every fsync, fdatasync and O_SYNC elided by Debian's eatmydata (an LD_PRELOAD wrapper
around the server), so commits stop waiting for the disk.

What `fast` gives up: writes reach the kernel's page cache, not the disk, before a
commit is acknowledged. A killed server or container loses nothing (the page cache
outlives them), only the kernel going down would. Still, a test that judges what
survives a crash must judge the real thing: chaos runs and tests marked `durable` run
on `disk` only (lab/chaos/runner.py refuses them on `fast`; the pytest plugin picks
`fast` only for a selection without them)."""

from __future__ import annotations

from lab.infra.errors import ConfigError

STORAGE_MODES = {
    "disk": "the server's own fsync on the datadir (default; what crash tests need)",
    "fast": "fsync elided by eatmydata, for tests that neither crash nodes nor judge durability",
}
DEFAULT_STORAGE = "disk"
STORAGE_ENV = "LAB_STORAGE"  # read by lab-db-start in the db image
STORAGE_LABEL = "ox-lab.storage"  # a running lab says which it has (`lab status`)


def require_real_fsync(storage: str, what: str) -> None:
    """What judges durability refuses a lab whose fsync is elided: one line, before any
    client or fault starts."""
    if storage == "fast":
        raise ConfigError(
            f"{what} judges what survives faults and runs on real fsync; this lab has "
            "--storage fast (leave --storage out)"
        )


DURABLE_MARKERS = ("chaos", "durable")  # tests that need real fsync (pytest markers)


def storage_for_run(given: str | None, needing_disk: list[str]) -> str:
    """The storage of a test run's labs: `given` (--storage) if any, else fast when no
    selected test needs real fsync (`needing_disk`: their ids), else disk. --storage fast
    with such tests selected is refused, naming one."""
    if given == "fast" and needing_disk:
        raise ConfigError(
            f"--storage fast: {len(needing_disk)} selected tests crash nodes or judge "
            f"durability and need real fsync, e.g. {needing_disk[0]} (select with "
            "-m 'not chaos and not durable', or leave --storage out)"
        )
    return given or ("disk" if needing_disk else "fast")


def describe_storage(storage: str) -> str:
    """The words `lab status` and reports use."""
    return "fsync elided by eatmydata" if storage == "fast" else "real fsync"
