"""clustercheck as HAProxy and an operator meet it: the whole 503 body word for word
(what `lab status` and HAProxy's log show), the settings Percona's names give, how it
asks mysqld and its peers, and the HTTP answer per path. Stand-ins replace mysqld and
the peers; the script is the file that ships in the Galera image."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_clustercheck import SYNCED as SYNCED_ALONE
from tests.unit.test_clustercheck import VARS as GALERA1
from tests.unit.test_clustercheck import cc

SYNCED = {**SYNCED_ALONE, "wsrep_incoming_addresses": "10.0.0.1:3306,10.0.0.2:3306,10.0.0.3:3306"}
VARS = {**GALERA1, "wsrep_node_name": "galera2"}
NO_DRAIN = "/nonexistent/clustercheck.disabled"


def test_a_node_that_says_nothing_gets_every_condition_with_a_question_mark() -> None:
    """Status rows missing (a node still starting answers an empty SHOW STATUS): each
    condition is named with `?`, the node by the container's host name."""
    v = cc.evaluate({}, {}, cc.Options(node_name="host7", drain_file=NO_DRAIN), False)
    assert v.available is False
    assert v.body() == (
        "host7 is not available: wsrep_local_state is ? (unknown), not 4 (Synced); "
        "wsrep_ready is ?, not ON; wsrep_cluster_status is ?, not Primary\n"
    ), v.body()


def test_an_unknown_state_is_named_by_its_comment() -> None:
    status = {**SYNCED, "wsrep_local_state": "5", "wsrep_local_state_comment": "Odd"}
    v = cc.evaluate(status, VARS, cc.Options(), False)
    assert v.failures == ["wsrep_local_state is 5 (Odd), not 4 (Synced)"], v.failures


def test_read_only_refused_says_which_setting_refused_it() -> None:
    variables = {**VARS, "read_only": "ON"}
    v = cc.evaluate(SYNCED, variables, cc.Options(available_when_readonly=False), False)
    assert v.failures == ["read_only is ON and AVAILABLE_WHEN_READONLY=0"], v.failures
    without = {k: v for k, v in VARS.items() if k != "read_only"}
    assert cc.evaluate(
        SYNCED, without, cc.Options(available_when_readonly=False), False
    ).available, "a server that does not report read_only is not read-only"


def test_no_answer_from_mysqld_without_a_reason() -> None:
    v = cc.evaluate(None, None, cc.Options(node_name="h"), True)
    assert v.available is False
    assert v.body() == (
        "h is not available: drained for maintenance "
        "(/var/tmp/clustercheck.disabled exists); cannot query mysqld: no answer\n"
    ), v.body()


def test_percona_s_defaults_when_nothing_is_set() -> None:
    opts = cc.Options.from_env({})
    assert (opts.available_when_donor, opts.available_when_readonly) == (False, True)
    assert opts.drain_file == "/var/tmp/clustercheck.disabled" and opts.peer_timeout == 0.2


@pytest.mark.parametrize(
    ("env", "field", "value"),
    [
        ({"AVAILABLE_WHEN_DONOR": "1"}, "available_when_donor", True),
        ({"AVAILABLE_WHEN_DONOR": "0"}, "available_when_donor", False),
        ({"AVAILABLE_WHEN_READONLY": "0"}, "available_when_readonly", False),
        ({"AVAILABLE_WHEN_READONLY": "1"}, "available_when_readonly", True),
        ({"CLUSTERCHECK_DRAIN_FILE": "/tmp/off"}, "drain_file", "/tmp/off"),
        ({"CLUSTERCHECK_PEER_TIMEOUT": "0.7"}, "peer_timeout", 0.7),
    ],
)
def test_each_setting_by_its_percona_name(env: dict[str, str], field: str, value: Any) -> None:
    assert getattr(cc.Options.from_env(env), field) == value, env


class Cursor:
    """mysqld's stand-in: the rows SHOW GLOBAL STATUS / VARIABLES would give."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)

    def fetchall(self) -> list[tuple[str, object]]:
        if "STATUS" in self.statements[-1]:
            return [("wsrep_local_state", 4), ("wsrep_ready", "ON")]
        return [("wsrep_node_name", "galera1"), ("read_only", "OFF")]


class Db:
    def __init__(self, error: str = "") -> None:
        self.error = error
        self.cursor = Cursor()

    def query(self, run: Any) -> tuple[Any, str]:
        return (None, self.error) if self.error else (run(self.cursor), "")


def test_query_node_asks_the_wsrep_status_and_three_variables() -> None:
    db = Db()
    status, variables, error = cc.query_node(cc.Options(db=db))
    assert status == {"wsrep_local_state": "4", "wsrep_ready": "ON"}, "values as text"
    assert variables == {"wsrep_node_name": "galera1", "read_only": "OFF"}
    assert error == ""
    assert db.cursor.statements == [
        "SHOW GLOBAL STATUS LIKE 'wsrep_%'",
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
        "('read_only', 'wsrep_reject_queries', 'wsrep_node_name')",
    ]


def test_query_node_passes_on_why_mysqld_could_not_be_asked() -> None:
    assert cc.query_node(cc.Options(db=Db("(2013, 'Lost connection')"))) == (
        None,
        None,
        "(2013, 'Lost connection')",
    )


class Response:
    def __init__(self, status: int, name: str) -> None:
        self.status = status
        self.headers = {"X-Node-Name": name}

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *_: object) -> None:
        pass


def test_peers_are_asked_at_their_incoming_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every member but AUTO and blanks, on clustercheck's port, with the peer timeout;
    a 503 (urllib raises), silence and this node itself are not healthy peers."""
    asked: list[tuple[str, float]] = []
    answers: dict[str, Any] = {
        "http://10.0.0.1:9200/": Response(200, "galera1"),
        "http://10.0.0.2:9200/": Response(200, "galera2"),  # this node
        "http://10.0.0.3:9200/": urllib.error.HTTPError("u", 503, "no", {}, None),  # type: ignore[arg-type]
        "http://10.0.0.4:9200/": TimeoutError("timed out"),
        "http://10.0.0.5:9200/": Response(200, ""),  # answers without a name
    }

    def urlopen(url: str, timeout: float) -> Any:
        asked.append((url, timeout))
        found = answers[url]
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr(cc.urllib.request, "urlopen", urlopen)
    status = {
        "wsrep_incoming_addresses": "10.0.0.1:3306, 10.0.0.2:3306,AUTO,,10.0.0.3:3306,"
        "10.0.0.4:3306,10.0.0.5:3306"
    }
    assert cc.healthy_peer_names(status, "galera2", 0.3) == ["galera1"]
    assert sorted(asked) == [(f"http://10.0.0.{i}:9200/", 0.3) for i in range(1, 6)]
    assert cc.healthy_peer_names({}, "galera2", 0.3) == [], "no members known: none asked"


def test_a_peer_that_is_not_200_is_not_healthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cc.urllib.request, "urlopen", lambda url, timeout: Response(204, "g1"))
    assert cc.healthy_peer_names({"wsrep_incoming_addresses": "10.0.0.1:3306"}, "g2", 1) == []


def _answer(
    monkeypatch: pytest.MonkeyPatch, path: str, peers: list[str], opts: Any = None, **kw: Any
) -> tuple[int, str, dict[str, str]]:
    asked: dict[str, Any] = {}
    found = kw.get("found", (SYNCED, VARS, ""))
    given = opts or cc.Options(drain_file=NO_DRAIN)

    def query_node(o: Any) -> Any:
        assert o is given, "mysqld is asked with the request's options"
        return found

    monkeypatch.setattr(cc, "query_node", query_node)

    def healthy(status: dict[str, str], me: str, timeout: float) -> list[str]:
        asked.update(status=status, me=me, timeout=timeout)
        return peers

    monkeypatch.setattr(cc, "healthy_peer_names", healthy)
    code, body, headers = cc.answer(path, given)
    if asked:
        assert asked["me"] == "galera2" and asked["status"] is found[0]
        assert asked["timeout"] == (opts.peer_timeout if opts else 0.2)
    return code, body, headers


def test_master_on_the_first_healthy_name(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = cc.Options(drain_file=NO_DRAIN, peer_timeout=0.4)
    assert _answer(monkeypatch, "/master", ["galera3"], opts) == (
        200,
        "galera2 is the writer.\n",
        {"X-Node-Name": "galera2"},
    )
    assert _answer(monkeypatch, "/master", ["galera3", "galera1"], opts) == (
        503,
        "galera2 is healthy but not the writer: galera1 is.\n",
        {"X-Node-Name": "galera2"},
    )


def test_slash_answers_health_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _answer(monkeypatch, "", ["galera1"]) == (
        200,
        "galera2 is synced and available.\n",
        {"X-Node-Name": "galera2"},
    )


def test_a_drained_node_is_503_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The drain file is looked for on every request: `touch` it and HAProxy moves off."""
    drain = tmp_path / "clustercheck.disabled"
    drain.touch()
    opts = cc.Options(drain_file=str(drain))
    for path in ("", "/master"):
        code, body, _ = _answer(monkeypatch, path, [], opts)
        assert code == 503 and body == (
            f"galera2 is not available: drained for maintenance ({drain} exists)\n"
        ), body


def test_a_mysqld_that_cannot_be_asked_is_named_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opts = cc.Options(drain_file=NO_DRAIN, node_name="host9")
    code, body, headers = _answer(monkeypatch, "/master", [], opts, found=(None, None, "timed out"))
    assert (code, headers) == (503, {"X-Node-Name": "host9"})
    assert body == "host9 is not available: cannot query mysqld: timed out\n", body


def test_options_are_read_again_from_the_sysconfig_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An edit of /etc/sysconfig/clustercheck takes effect on the next request, as with
    Percona's script started per request by xinetd."""
    settings = tmp_path / "clustercheck"
    monkeypatch.setattr(cc, "SETTINGS_FILE", str(settings))
    monkeypatch.delenv("AVAILABLE_WHEN_DONOR", raising=False)
    assert cc.current_options().available_when_donor is False
    settings.write_text("AVAILABLE_WHEN_DONOR=1\n")
    assert cc.current_options().available_when_donor is True


def test_main_serves_the_answer_on_clustercheck_s_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(cc, "serve", lambda name, answer: served.update(name=name, answer=answer))
    monkeypatch.setattr(cc, "SETTINGS_FILE", str(tmp_path / "none"))
    cc.main()
    assert served["name"] == "clustercheck"
    assert served["answer"]("/other")[0] == 404, "the served function is answer()"


def test_peers_are_asked_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """/master must fit in HAProxy's check timeout: a silent peer may not hold up the
    others, so every peer is asked at the same time (each ask waits for all to start)."""
    import threading

    together = threading.Barrier(3, timeout=5)

    def urlopen(url: str, timeout: float) -> Response:
        together.wait()  # breaks (and fails the test) unless all three asks overlap
        return Response(200, url.split(".")[-1].split(":")[0])

    monkeypatch.setattr(cc.urllib.request, "urlopen", urlopen)
    status = {"wsrep_incoming_addresses": "10.0.0.1:3306,10.0.0.2:3306,10.0.0.3:3306"}
    assert cc.healthy_peer_names(status, "me", 0.2) == ["1", "2", "3"]


def test_an_unknown_path_is_404_naming_the_two_paths() -> None:
    assert cc.answer("/status", cc.Options()) == (404, "unknown path; try / or /master\n", {})


def test_main_answers_each_request_s_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(cc, "serve", lambda name, answer: served.update(answer=answer))
    monkeypatch.setattr(cc, "SETTINGS_FILE", str(tmp_path / "none"))
    monkeypatch.setattr(cc, "query_node", lambda opts: (SYNCED, VARS, ""))
    monkeypatch.setenv("CLUSTERCHECK_DRAIN_FILE", NO_DRAIN)
    cc.main()
    assert served["answer"]("") == (
        200,
        "galera2 is synced and available.\n",
        {"X-Node-Name": "galera2"},
    )


class Headerless(Response):
    def __init__(self) -> None:
        super().__init__(200, "")
        self.headers = {}


def test_peers_at_ipv6_addresses_and_one_without_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """wsrep_incoming_addresses holds [v6]:port; a 200 without X-Node-Name names nobody."""
    asked: list[str] = []

    def urlopen(url: str, timeout: float) -> Response:
        asked.append(url)
        return Headerless() if "fd00::2" in url else Response(200, "galera1")

    monkeypatch.setattr(cc.urllib.request, "urlopen", urlopen)
    status = {"wsrep_incoming_addresses": "[fd00::1]:3306,[fd00::2]:3306"}
    assert cc.healthy_peer_names(status, "galera3", 0.2) == ["galera1"]
    assert sorted(asked) == ["http://[fd00::1]:9200/", "http://[fd00::2]:9200/"]
