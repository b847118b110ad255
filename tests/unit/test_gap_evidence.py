"""The sentences that explain a client's write gap: a gap within a second of the slower
of HAProxy's mark-down and Galera's new view is explained by them; a longer one is
blamed on the client's connection attempt or its own timeout."""

from __future__ import annotations

from lab.chaos.report.gap_evidence import HAPROXY_DOWN, FailoverEvidence, explain
from lab.plan.failover import get_profile


def evidence(down: float | None = 2.0, view: float | None = 1.5) -> FailoverEvidence:
    return FailoverEvidence("galera1", {} if down is None else {"db-write": down}, 3, view)


def test_a_gap_near_the_slower_cause_is_bounded_by_it() -> None:
    lines = explain(evidence(down=2.0, view=6.0), get_profile("fast"), [("OX pool", 6.4, "")])
    assert "OX pool: 6.4 s, bounded by the slower" in lines[-1], lines
    assert "(6.0 s) plus 0.4 s" in lines[-1], "the bound is the slower of the two causes"


def test_a_gap_well_beyond_both_causes_blames_the_client() -> None:
    lines = explain(evidence(), get_profile("fast"), [("sysbench", 9.0, "restarted twice")])
    assert "7.0 s after HAProxy and Galera had failed over" in lines[-1], lines
    assert lines[-1].endswith("restarted twice"), "the client's own note follows"


def test_no_recovery_and_no_markdown_are_said_plainly() -> None:
    lines = explain(evidence(down=None, view=None), get_profile("ox"), [("OX pool", None, "")])
    assert lines[0] == "HAProxy did not mark galera1 DOWN in the write listener."
    assert lines[-1] == "OX pool: never wrote again before the run ended."


def test_a_long_check_connect_timeout_names_the_setting_that_shortens_it() -> None:
    """HAProxy waits inter for a dead address without `timeout check` (6000 ms with
    OX's settings), min(timeout connect, inter) with it (500 ms with fast's 1 s and
    500 ms, 2000 ms with ox-2s-timeouts)."""
    ox = explain(evidence(), get_profile("ox"), [])[0]
    assert "inter itself (6000 ms)" in ox and "`timeout connect 2s` with" in ox, ox
    fast = explain(evidence(), get_profile("fast"), [])[0]
    assert "= 500 ms" in fast and "would shorten" not in fast, fast
    tuned = explain(evidence(), get_profile("ox-2s-timeouts"), [])[0]
    assert "= 2000 ms" in tuned and "would shorten" not in tuned, tuned


def test_haproxys_down_line_is_read() -> None:
    line = (
        "Server db-write/galera1 is DOWN, reason: Layer4 timeout, check duration: 501ms. "
        "0 active and 2 backup servers left. Running on backup. 7 sessions active, "
        "0 requeued, 0 remaining in queue."
    )
    m = HAPROXY_DOWN.search(line)
    assert m and (m["listener"], m["server"], m["active"]) == ("db-write", "galera1", "7")
