"""The filestore under faults, as OX's file storage promises it.

`clear-storage-errors` forbids `unclear-error`: while the filestore is unreachable a
file operation fails with OX's FLS error, never an internal error (SVL) a user cannot act
on. `filestore-consistent` forbids every kind by default (partial-file, orphan-file,
orphan-metadata); scenarios that kill a groupware node mid-upload forbid only
orphan-metadata, because OX writes the file before its metadata, so a kill can leave an
unassigned file (OX's listunassignedfiles cleans these up) but never a document without
its file.
"""

from __future__ import annotations

from typing import Any

from lab.chaos.checkers import Verdict
from lab.chaos.history import History

INVENTORY = "filestore-inventory"  # probe kind: files on the export, locations in metadata
Inventory = tuple[set[str], set[str]]


def check_storage_errors(history: History, start: float, end: float) -> Verdict:
    """While the filestore is down, file operations fail with OX's FLS error."""
    verdict = Verdict("clear-storage-errors")
    failed = [
        op
        for op in history.ops
        if op.f in ("upload", "download") and op.outcome != "ok" and start <= op.start <= end
    ]
    for op in failed:
        if not op.error.startswith("FLS-"):
            verdict.add("unclear-error", f"{op.describe()}: {op.error}")
    verdict.stats = {"file_operations_failed": len(failed)}
    return verdict


def check_storage_errors_in(history: History) -> Verdict:
    """The same over the history's first fault (the outage)."""
    fault = history.faults[0]
    end = fault.end if fault.end is not None else max((op.end for op in history.ops), default=0)
    return check_storage_errors(history, fault.start, end)


def filestore_consistency(before: Inventory, after: Inventory) -> Verdict:
    """No partial file, no file without metadata, no metadata without its file: among
    what appeared during the run (what an earlier scenario left is not this one's)."""
    verdict = Verdict("filestore-consistent")
    files, named = after
    old_files, old_named = before
    for path in sorted(files - old_files):
        if path.rsplit("/", 1)[-1].endswith(".part"):
            verdict.add("partial-file", path)
        elif path not in named:
            verdict.add("orphan-file", f"{path} (OX: listunassignedfiles, repairfilesinfilestore)")
    for location in sorted((named - old_named) - files):
        verdict.add("orphan-metadata", location)
    verdict.stats = {"files": len(files), "documents": len(named)}
    return verdict


def inventory_probe(inventory: Inventory, when: str) -> dict[str, Any]:
    files, named = inventory
    return {"when": when, "files": sorted(files), "named": sorted(named)}


def filestore_consistency_in(history: History) -> Verdict:
    """The same from the inventories recorded as probes, before and after the run."""
    found = {p["when"]: p for p in history.probes if p.get("kind") == INVENTORY}
    if {"before", "after"} - set(found):
        verdict = Verdict("filestore-consistent")
        verdict.add("no-inventory", "the history lacks the before/after filestore inventories")
        return verdict
    before, after = ((set(found[w]["files"]), set(found[w]["named"])) for w in ("before", "after"))
    return filestore_consistency(before, after)
