"""The filestore checkers: while the filestore is down a file operation fails with OX's
FLS error (never an internal one), and no partial file, orphan file or orphan metadata
appears; what an earlier run left is not this run's."""

from __future__ import annotations

from lab.chaos.checkers.filestore import (
    INVENTORY,
    check_storage_errors,
    check_storage_errors_in,
    filestore_consistency,
    filestore_consistency_in,
    inventory_probe,
)
from lab.chaos.history import Fault, History, Op


def history(*ops: tuple[str, str, float, float, str]) -> History:
    """(f, outcome, start, end, error) rows."""
    made = History(t0=0.0)
    for i, (f, outcome, start, end, error) in enumerate(ops):
        made.ops.append(Op(i, 0, f, None, start, end, outcome, "oxgw01", error))
    return made


def test_file_operations_failing_with_fls_are_clear() -> None:
    h = history(
        ("upload", "fail", 1.0, 2.0, "FLS-0017 file storage unavailable"),
        ("download", "info", 2.0, 3.0, "FLS-0004 cannot read"),
        ("upload", "ok", 2.5, 2.6, ""),
    )
    verdict = check_storage_errors(h, 1.0, 3.0)
    assert verdict.valid(), verdict.summary()
    assert verdict.stats == {"file_operations_failed": 2}


def test_an_internal_error_during_the_outage_is_unclear() -> None:
    h = history(
        ("upload", "fail", 1.0, 2.0, "SVL-0002 internal error"),
        ("download", "fail", 1.5, 2.0, "fls-0017 lower case is not OX's code"),
    )
    verdict = check_storage_errors(h, 1.0, 3.0)
    assert len(verdict.anomalies["unclear-error"]) == 2, verdict.summary()
    assert "op 0" in verdict.anomalies["unclear-error"][0], "names the operation"


def test_the_outage_window_includes_its_edges_and_nothing_else() -> None:
    h = history(
        ("upload", "fail", 1.0, 1.5, "SVL at the start"),
        ("upload", "fail", 3.0, 3.5, "SVL at the end"),
        ("upload", "fail", 0.9, 1.5, "SVL begun before"),
        ("upload", "fail", 3.1, 3.5, "SVL begun after"),
        ("login", "fail", 2.0, 2.5, "SES-0205 not a file operation"),
    )
    verdict = check_storage_errors(h, 1.0, 3.0)
    found = verdict.anomalies.get("unclear-error", [])
    assert len(found) == 2 and "at the start" in found[0] and "at the end" in found[1], found
    assert verdict.stats == {"file_operations_failed": 2}


def test_the_outage_is_the_first_fault_and_an_unhealed_one_lasts_to_the_end() -> None:
    h = history(
        ("upload", "fail", 5.0, 6.0, "SVL during the second fault"),
        ("upload", "fail", 1.5, 2.0, "FLS-0017"),
        ("upload", "fail", 8.0, 9.0, "SVL while unhealed"),
    )
    h.faults.append(Fault("stop-nfs", "filestore", 1.0, 2.0))
    h.faults.append(Fault("stop-nfs", "filestore", 4.5, 7.0))
    assert check_storage_errors_in(h).valid(), "only the first fault is the outage"
    h.faults[0].end = None
    verdict = check_storage_errors_in(h)
    assert len(verdict.anomalies["unclear-error"]) == 2, verdict.summary()


BEFORE = ({"ctx1/old"}, {"ctx1/old"})


def test_a_consistent_filestore_is_valid() -> None:
    after = ({"ctx1/old", "ctx1/a", "ctx1/b"}, {"ctx1/old", "ctx1/a", "ctx1/b"})
    verdict = filestore_consistency(BEFORE, after)
    assert verdict.valid(), verdict.summary()
    assert verdict.stats == {"files": 3, "documents": 3}


def test_partial_orphan_files_and_orphan_metadata_are_each_named() -> None:
    after = (
        {"ctx1/old", "ctx1/a.part", "ctx1/b", "ctx1/dir.part/c"},
        {"ctx1/old", "ctx1/b", "ctx1/gone"},
    )
    verdict = filestore_consistency(BEFORE, after)
    assert verdict.anomalies["partial-file"] == ["ctx1/a.part"]
    assert verdict.anomalies["orphan-file"][0].startswith("ctx1/dir.part/c"), (
        "only the file name's .part marks a partial upload"
    )
    assert verdict.anomalies["orphan-metadata"] == ["ctx1/gone"]


def test_what_an_earlier_run_left_is_not_this_runs() -> None:
    before = ({"ctx1/old.part", "ctx1/orphan"}, {"ctx1/lost"})
    after = ({"ctx1/old.part", "ctx1/orphan"}, {"ctx1/lost"})
    assert filestore_consistency(before, after).valid()


def test_inventories_are_read_from_the_history_probes() -> None:
    h = History(t0=0.0)
    assert "no-inventory" in filestore_consistency_in(h).anomalies
    h.probes.append({"kind": INVENTORY, **inventory_probe(BEFORE, "before")})
    assert "no-inventory" in filestore_consistency_in(h).anomalies, "after is missing"
    h.probes.append({"kind": "clustercheck", "when": "after", "files": [], "named": []})
    assert "no-inventory" in filestore_consistency_in(h).anomalies, "another probe kind"
    h.probes.append(
        {"kind": INVENTORY, **inventory_probe(({"ctx1/old", "x"}, {"ctx1/old"}), "after")}
    )
    verdict = filestore_consistency_in(h)
    assert verdict.anomalies == {"orphan-file": [verdict.anomalies["orphan-file"][0]]}
    assert verdict.anomalies["orphan-file"][0].startswith("x ")
