"""The guide's cluster on Galera (topology `guide-galera`): the same front end and
groupware nodes, the databases behind HAProxy's write and read listeners."""

from __future__ import annotations

import collections
import os

import pytest

from lab.roles.groupware.client import OxSession
from lab.roles.system import Lab

pytestmark = [pytest.mark.guide_galera, pytest.mark.docker]


def test_the_guide_on_galera_balances_sessions_and_shares_files(guide_galera_lab: Lab) -> None:
    lab = guide_galera_lab
    assert lab.web and lab.ox and lab.galera and lab.dblb
    web = lab.web
    before = {b.server: b.total_sessions for b in lab.dblb.backends() if b.listener == "db-write"}
    sessions = [
        OxSession.login(web.https_url, "testuser", "secret", verify=web.ca_path) for _ in range(10)
    ]
    assert set(collections.Counter(s.route for s in sessions)) == {"OX1", "OX2"}, (
        "new sessions go to both nodes"
    )
    first = sessions[0]
    other = next(s for s in sessions if s.route != first.route)
    home = next(f["id"] for f in first.folders() if f["title"] == "Test User")
    data = os.urandom(100_000)
    doc = first.upload(home, "galera.bin", data)
    assert other.download(doc) == data, "uploaded via one node, downloaded via the other"
    writers = {
        b.server
        for b in lab.dblb.backends()
        if b.listener == "db-write" and (b.sessions or b.total_sessions > before.get(b.server, 0))
    }
    assert writers == {"galera1"}, f"the nodes wrote through one Galera node, galera1: {writers}"
