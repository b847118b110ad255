"""Where a scenario runs (lab/chaos/scenarios/place.py): on the operator's hosts a
scheduled fault becomes the SSH fault of the same name, recorded and healed even when the
scenario fails; the hold of a pause comes from the cluster's own running options."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import lab.chaos.scenarios.place as place
from lab.chaos.history import History
from lab.chaos.nemesis.hosts import FaultJournal
from lab.chaos.nemesis.schedule import Step
from lab.infra.errors import ConfigError, LabError
from lab.plan.failover import PROFILES, eviction_of, provider_options

RUNNING = (
    "base_dir = /var/lib/mysql/; evs.inactive_check_period = PT1S; "
    "evs.inactive_timeout = PT15S; evs.suspect_timeout = PT5S; gcache.size = 128M"
)


def test_provider_options_as_a_server_reports_them() -> None:
    options = provider_options(RUNNING)
    assert options["evs.inactive_timeout"] == "PT15S"
    assert options["gcache.size"] == "128M"
    assert provider_options("") == {}


def test_eviction_is_inactive_timeout_plus_its_check_period() -> None:
    assert eviction_of(provider_options(RUNNING)) == 16.0
    assert eviction_of({}) == 16.0, "Galera's defaults where the options say nothing"
    assert eviction_of({"evs.inactive_timeout": "PT3S"}) == 4.0
    assert eviction_of({"evs.inactive_check_period": "PT0.5S"}) == 15.5
    assert all(p.eviction_s == eviction_of(dict(p.evs_options)) for p in PROFILES.values()), (
        "a profile's eviction time is the same computation"
    )


class FakeHost:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def on_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[place.OnHosts]:
    made: list[tuple[str, str]] = []

    def fault(kind: str):  # type: ignore[no-untyped-def]
        @contextlib.contextmanager
        def make(host: FakeHost, *rest: object) -> Iterator[None]:
            made.append((kind, host.name))
            try:
                yield
            finally:
                made.append(("healed " + kind, host.name))

        return make

    for name, kind in (
        ("process_frozen", "pause"),
        ("partitioned", "partition"),
        ("service_killed", "kill"),
        ("service_stopped", "stop"),
    ):
        monkeypatch.setattr(place, name, fault(kind))
    monkeypatch.setattr(place.OnHosts, "__post_init__", lambda self: None)
    where = place.OnHosts(None, FaultJournal(tmp_path / "j.jsonl"))  # type: ignore[arg-type]
    where.made = made  # type: ignore[attr-defined]
    yield where


@pytest.mark.parametrize("fault", ["pause", "partition", "kill", "stop"])
def test_a_scheduled_fault_is_the_ssh_fault_of_its_name_and_is_recorded(
    on_hosts: place.OnHosts, fault: str
) -> None:
    history = History()
    hosts = [FakeHost("galera1"), FakeHost("galera2")]
    with on_hosts.injected(Step(0.0, fault, "galera2", 1.0), hosts, history):
        assert [(f.name, f.target, f.end) for f in history.faults] == [(fault, "galera2", None)]
    assert on_hosts.made == [(fault, "galera2"), (f"healed {fault}", "galera2")]  # type: ignore[attr-defined]
    assert history.faults[0].end is not None, "the heal is recorded"


def test_a_fault_is_healed_and_recorded_when_the_scenario_fails(on_hosts: place.OnHosts) -> None:
    history = History()
    with (
        pytest.raises(RuntimeError),
        on_hosts.injected(Step(0.0, "pause", "galera1", 1.0), [FakeHost("galera1")], history),
    ):
        raise RuntimeError("the scenario failed mid-fault")
    assert on_hosts.made[-1] == ("healed pause", "galera1")  # type: ignore[attr-defined]
    assert history.faults[0].end is not None


def test_a_fault_no_ssh_host_offers_is_one_line(on_hosts: place.OnHosts) -> None:
    with pytest.raises(ConfigError, match=r"unknown fault on SSH hosts 'clock-skew'; known: "):
        with on_hosts.injected(Step(0.0, "clock-skew", "g", 1.0), [FakeHost("g")], History()):
            pass


class SqlHost:
    """A Galera host whose server answers, or (killed and still starting) does not."""

    def __init__(self, name: str, options: str | None) -> None:
        self.name, self.options, self.asked = name, options, 0

    def sql(self, statement: str) -> str:
        self.asked += 1
        if self.options is None:
            raise LabError(f"{self.name}: mysql: ERROR 2002 (HY000): Can't connect")
        return self.options


def _hosts_place(hosts: list[SqlHost], tmp_path: Path) -> place.OnHosts:
    where = place.OnHosts.__new__(place.OnHosts)
    where.target = SimpleNamespace(role=lambda role: hosts)  # type: ignore[assignment]
    where._eviction_s = None
    return where


def test_the_eviction_time_comes_from_a_host_that_answers_and_is_read_once(
    tmp_path: Path,
) -> None:
    """After a writer kill the first Galera host may be the one still starting: the
    settle must not fail on it (seen in `lab bench flakes` at -n 2 under load)."""
    killed = SqlHost("galera1", None)
    alive = SqlHost("galera2", "evs.inactive_timeout = PT9S; evs.inactive_check_period = PT1S")
    where = _hosts_place([killed, alive], tmp_path)
    assert where.eviction_s() == 10.0
    assert where.eviction_s() == 10.0
    assert alive.asked == 1, "the cluster's setting is read once"


def test_no_host_answering_for_the_eviction_time_is_one_error(tmp_path: Path) -> None:
    where = _hosts_place([SqlHost("galera1", None), SqlHost("galera2", None)], tmp_path)
    with pytest.raises(LabError, match=r"no Galera host answers.*galera1.*galera2"):
        where.eviction_s()
