"""`lab verify` on a lab's own containers, through testinfra's docker backend: the same
checks the operator's hosts get over SSH (tests/hosts/), Test Kitchen's idea of one
verifier for every transport."""

from __future__ import annotations

import pytest

from lab.roles.system import Lab
from lab.verify.run import verify
from lab.verify.target import target_from_lab


@pytest.mark.guide_galera
@pytest.mark.verify
def test_the_guides_galera_cluster_verifies_clean_through_docker(guide_galera_lab: Lab) -> None:
    guide_galera_lab.wait_healthy()
    guide_galera_lab.balance_front_end()  # an earlier test's stopped node stays in Err
    target = target_from_lab(guide_galera_lab)
    assert {h.via for h in target.hosts} == {"docker"}
    results = verify(target).results
    sections = {r.section for r in results}
    assert sections == {"galera", "dblb", "consistency", "filestore", "groupware", "web"}
    failed = [r.line() for r in results if not r.ok]
    assert not failed, "\n".join(failed)


@pytest.mark.guide
@pytest.mark.verify
def test_the_guides_gtid_cluster_verifies_clean_through_docker(guide_lab: Lab) -> None:
    guide_lab.wait_healthy()
    guide_lab.balance_front_end()
    target = target_from_lab(guide_lab)
    assert target.layout == "gtid"
    results = verify(target).results
    sections = {r.section for r in results}
    assert sections == {"gtid", "consistency", "filestore", "groupware", "web"}
    assert {r.check for r in results if r.section == "gtid"} == {
        "writable master",
        "replication",
        "read_only",
        "GTID set",
        "repl user",
    }
    failed = [r.line() for r in results if not r.ok]
    assert not failed, "\n".join(failed)
