"""clustercheck's decision logic, loaded from the file that ships in the Galera image."""

import pytest

from tests.unit.image_scripts import load_image_script

cc = load_image_script("clustercheck")
checkhttp = load_image_script("checkhttp")

SYNCED = {
    "wsrep_local_state": "4",
    "wsrep_local_state_comment": "Synced",
    "wsrep_ready": "ON",
    "wsrep_cluster_status": "Primary",
}
VARS = {"read_only": "OFF", "wsrep_reject_queries": "NONE", "wsrep_node_name": "galera1"}


def verdict(status=None, variables=None, drained=False, **opts):
    return cc.evaluate(
        {**SYNCED, **(status or {})}, {**VARS, **(variables or {})}, cc.Options(**opts), drained
    )


def test_synced_primary_ready_node_is_available() -> None:
    v = verdict()
    assert v.available and "galera1 is synced" in v.body()


def test_each_failed_condition_is_named_in_the_body() -> None:
    v = verdict(
        {"wsrep_local_state": "1", "wsrep_ready": "OFF", "wsrep_cluster_status": "non-Primary"},
        {"wsrep_reject_queries": "ALL"},
    )
    assert not v.available
    body = v.body()
    for text in (
        "wsrep_local_state is 1 (Joining)",
        "wsrep_ready is OFF",
        "wsrep_cluster_status is non-Primary",
        "wsrep_reject_queries is ALL",
    ):
        assert text in body, f"a 503 must say why: {text!r} missing from {body!r}"


def test_donor_is_unavailable_unless_allowed() -> None:
    donor = {"wsrep_local_state": "2", "wsrep_local_state_comment": "Donor/Desynced"}
    assert not verdict(donor).available, "Percona's default: a donor takes no traffic"
    assert verdict(donor, available_when_donor=True).available


def test_read_only_is_available_by_default_but_can_be_refused() -> None:
    assert verdict(variables={"read_only": "ON"}).available
    assert not verdict(variables={"read_only": "ON"}, available_when_readonly=False).available


def test_drain_file_and_unreachable_server_are_503() -> None:
    assert "drained for maintenance" in verdict(drained=True).body()
    v = cc.evaluate(None, None, cc.Options(), False, "timed out")
    assert not v.available and "cannot query mysqld: timed out" in v.body()


def test_master_is_the_healthy_node_whose_name_sorts_first() -> None:
    assert cc.is_master("galera1", ["galera2", "galera3"])
    assert not cc.is_master("galera2", ["galera1", "galera3"])
    assert cc.is_master("galera2", ["galera3"]), "galera1 unhealthy: galera2 writes"
    assert cc.is_master("galera3", [])


def test_options_from_environment() -> None:
    o = cc.Options.from_env(
        {
            "AVAILABLE_WHEN_DONOR": "1",
            "AVAILABLE_WHEN_READONLY": "0",
            "CLUSTERCHECK_CONNECT_TIMEOUT": "0.5",
        }
    )
    assert o.available_when_donor and not o.available_when_readonly
    assert o.db.timeout == 0.5, "a hung mysqld must not hang the check"


def test_a_frozen_server_still_gets_the_node_named() -> None:
    v = cc.evaluate(None, None, cc.Options(node_name="galera2"), False, "timed out")
    assert not v.available
    assert v.body().startswith("galera2 is not available: cannot query mysqld: timed out"), v.body()


def test_percona_sysconfig_file_overrides_the_environment() -> None:
    settings = checkhttp.read_settings(
        '# lab\nAVAILABLE_WHEN_DONOR="0"\nAVAILABLE_WHEN_DONOR=1  # oxlab fault: lying-donor\n'
        "\nCLUSTERCHECK_PEER_TIMEOUT=0.5\n"
    )
    assert settings["AVAILABLE_WHEN_DONOR"] == "1", "a later line wins; its comment is no value"
    opts = cc.Options.from_env({"AVAILABLE_WHEN_DONOR": "0", **settings})
    assert opts.available_when_donor and opts.peer_timeout == 0.5
    donor = verdict({"wsrep_local_state": "2"}, available_when_donor=True)
    assert donor.available, "a Donor passes when AVAILABLE_WHEN_DONOR=1"
    assert not verdict({"wsrep_local_state": "2"}).available, "and not by default"


@pytest.mark.parametrize(
    ("status", "variables", "says"),
    [
        ({"wsrep_local_state": "3", "wsrep_local_state_comment": "Joined"}, {}, "3 (Joined)"),
        ({"wsrep_local_state": "1"}, {}, "1 (Joining)"),
        ({"wsrep_local_state": ""}, {}, "is ? "),
        ({"wsrep_ready": "OFF"}, {}, "wsrep_ready is OFF"),
        ({"wsrep_cluster_status": "non-Primary"}, {}, "non-Primary"),
        ({"wsrep_cluster_status": "Disconnected"}, {}, "Disconnected"),
        ({}, {"wsrep_reject_queries": "ALL"}, "wsrep_reject_queries is ALL"),
        ({}, {"wsrep_reject_queries": "ALL_KILL"}, "wsrep_reject_queries is ALL_KILL"),
    ],
)
def test_each_condition_alone_makes_a_503(status, variables, says) -> None:
    v = verdict(status, variables)
    assert not v.available, f"{status} {variables} must not take traffic"
    assert says in v.body(), v.body()
    assert len(v.failures) == 1, f"only the one condition fails: {v.failures}"


def test_a_donor_allowed_still_needs_the_other_conditions() -> None:
    donor = {"wsrep_local_state": "2", "wsrep_cluster_status": "non-Primary"}
    assert not verdict(donor, available_when_donor=True).available
    assert not verdict({"wsrep_local_state": "3"}, available_when_donor=True).available, (
        "AVAILABLE_WHEN_DONOR admits a donor (2), not a joiner (3)"
    )


def test_the_writer_is_the_first_name_among_the_healthy() -> None:
    assert cc.is_master("galera1", []), "alone in the primary component: the writer"
    assert cc.is_master("galera1", ["galera2", "galera3"])
    assert not cc.is_master("galera2", ["galera1", "galera3"])
    assert not cc.is_master("galera3", ["galera2"])
    assert cc.is_master("galera10", ["galera2"]), "names sort as text, as HAProxy's list is read"


def test_master_answers_503_on_an_unavailable_node(monkeypatch: pytest.MonkeyPatch) -> None:
    joining = {**SYNCED, "wsrep_local_state": "1"}
    monkeypatch.setattr(cc, "query_node", lambda opts: (joining, VARS, ""))
    monkeypatch.setattr(cc, "healthy_peer_names", lambda *a: [])
    code, body, headers = cc.answer("/master", cc.Options(drain_file="/nonexistent"))
    assert code == 503 and "not available" in body and headers["X-Node-Name"] == "galera1"
    monkeypatch.setattr(cc, "query_node", lambda opts: (SYNCED, VARS, ""))
    monkeypatch.setattr(cc, "healthy_peer_names", lambda *a: ["galera0"])
    code, body, _ = cc.answer("/master", cc.Options(drain_file="/nonexistent"))
    assert code == 503 and "galera0 is" in body, "healthy, but galera0 writes"
    code, _, _ = cc.answer("", cc.Options(drain_file="/nonexistent"))  # GET /
    assert code == 200, "/ says healthy whoever writes"
    assert cc.answer("/other", cc.Options())[0] == 404
