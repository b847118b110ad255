"""The lab as a pytest plugin (entry point `pytest11`): options in the "ox-lab" group,
the lab's markers, session-scoped lab fixtures, and container logs attached to every
failing test's report.

Under pytest-xdist each worker brings up its own lab (named after the worker, on its
own network): no lock, no shared state, at the price of one cluster per worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import Any

import docker
import pytest

from lab.dblb import Dblb
from lab.docker_env import connect
from lab.errors import ClusterFormationError, LabError
from lab.failover import DEFAULT_PROFILE, PROFILES
from lab.flavours import DEFAULT_FLAVOUR, FLAVOURS
from lab.galera import GaleraCluster
from lab.galera_config import DEFAULT_SST_METHOD, SST_METHODS
from lab.lab import Lab, LabOptions
from lab.topology import LabRequest

MARKERS = {
    "galera": "Galera cluster behind HAProxy (the guide's Galera database setup)",
    "gtid": "GTID master/slave replication",
    "chaos": "failover under injected faults (slow; run before rollout)",
    "docker": "needs a Docker engine",
}
LOG_TAIL_LINES = 120

_active_labs: list[Lab] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ox-lab", "OX Cluster Lab")
    group.addoption(
        "--flavour",
        default=DEFAULT_FLAVOUR,
        help=f"database flavour ({', '.join(FLAVOURS)}); default {DEFAULT_FLAVOUR}",
    )
    group.addoption(
        "--failover-profile",
        default=DEFAULT_PROFILE,
        help=f"HAProxy/Galera timing ({', '.join(PROFILES)}); default {DEFAULT_PROFILE}",
    )
    group.addoption(
        "--sst-method",
        default=DEFAULT_SST_METHOD,
        help=f"Galera SST ({', '.join(SST_METHODS)}); default {DEFAULT_SST_METHOD}",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    problems = _request(config).problems()
    if problems:
        raise pytest.UsageError("ox-lab: " + "; ".join(problems))


def _request(config: pytest.Config) -> LabRequest:
    return LabRequest(
        flavour=config.getoption("--flavour"),
        profile=config.getoption("--failover-profile"),
        sst_method=config.getoption("--sst-method"),
    )


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _fail(exc: LabError) -> None:
    detail = f"\n{exc.excerpt}" if isinstance(exc, ClusterFormationError) and exc.excerpt else ""
    pytest.fail(f"{exc}{detail}", pytrace=False)


@pytest.fixture(scope="session")
def lab_request(pytestconfig: pytest.Config) -> LabRequest:
    """The lab the command line asked for (--flavour, --failover-profile, --sst-method)."""
    return _request(pytestconfig)


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        return connect()
    except LabError as exc:
        _fail(exc)
        raise


@pytest.fixture(scope="session")
def lab_factory(
    docker_client: docker.DockerClient,
) -> Iterator[Callable[..., Lab]]:
    """Start labs on demand; each is removed at the end of the session (or sooner by
    calling its .down()). Failures to start become one readable test failure."""
    started: list[Lab] = []

    def start(request: LabRequest, **options: object) -> Lab:
        lab = Lab(request, LabOptions(**options), client=docker_client)  # type: ignore[arg-type]
        started.append(lab)
        _active_labs.append(lab)
        lab.up()
        return lab

    yield start
    for lab in started:
        lab.down()
        _active_labs.remove(lab)


@pytest.fixture(scope="session")
def galera_lab(lab_factory: Callable[..., Lab], lab_request: LabRequest) -> Lab:
    """The default lab: 3-node Galera + HAProxy, shared by the session (one per worker)."""
    try:
        return lab_factory(lab_request, name=f"pytest-{_worker()}")
    except LabError as exc:
        _fail(exc)
        raise


@pytest.fixture(scope="session")
def galera_cluster(galera_lab: Lab) -> GaleraCluster:
    assert galera_lab.galera is not None
    return galera_lab.galera


@pytest.fixture(scope="session")
def dblb(galera_lab: Lab) -> Dblb:
    assert galera_lab.dblb is not None
    return galera_lab.dblb


@pytest.fixture
def healthy_lab(galera_lab: Lab) -> Iterator[Lab]:
    """The shared lab, checked healthy before a test that injects faults, and after it,
    so one test's fault can never leak into the next test's verdict."""
    galera_lab.wait_healthy()
    yield galera_lab
    galera_lab.wait_healthy()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and _active_labs:
        for lab in list(_active_labs):
            try:
                logs = lab.logs(tail=LOG_TAIL_LINES)
            except (docker.errors.DockerException, LabError) as exc:
                logs = {"(logs)": f"could not read container logs: {exc}"}
            for node, text in logs.items():
                report.sections.append((f"lab {lab.options.name} container {node}", text))
