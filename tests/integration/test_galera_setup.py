"""The guide's SST methods and its "common mistakes", on the guide's path (fresh
datadirs, serial joins by SST: --join sst). Each case has a lab of its own; the four
start side by side (each lab's own joins stay serial) and go at the end of the module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import docker
import pytest

from lab.infra.errors import ClusterFormationError, LabError
from lab.plan.topology import LabRequest
from lab.pytest_plugin import runnable_request, skip_if_operator_sets
from lab.roles.system import Lab

pytestmark = [pytest.mark.galera, pytest.mark.docker]


@dataclass(frozen=True)
class Case:
    """One lab on the guide's path: what it varies, which operator settings pin that."""

    sst_method: str = "rsync"
    options: tuple[tuple[str, object], ...] = ()
    pinned_by: tuple[str, ...] = ("wsrep_sst_method",)


CASES = {
    "sst-rsync": Case("rsync"),
    "sst-mariabackup": Case("mariabackup"),
    "no-sst-user": Case(
        "mariabackup", (("create_sst_user", False),), ("wsrep_sst_method", "wsrep_sst_auth")
    ),
    "bad-provider": Case(
        options=(("provider_path", "/usr/lib/galera/nope.so"),), pinned_by=("wsrep_provider",)
    ),
}


@dataclass
class Started:
    lab: Lab | None = None
    error: LabError | None = None
    skipped: str = ""


@pytest.fixture(scope="module")
def guide_path(
    lab_factory: Callable[..., Lab],
    docker_client: docker.DockerClient,
    lab_request: LabRequest,
    flavour: str,
) -> Iterator[dict[str, Started]]:
    """Every case's lab, started at once: most of an SST lab's start is waiting."""
    request = runnable_request(docker_client, lab_request, flavour, "galera")

    def start(name: str) -> Started:
        case = CASES[name]
        try:
            skip_if_operator_sets(request, *case.pinned_by)
        except pytest.skip.Exception as skip:
            return Started(skipped=str(skip))
        wanted = replace(request, sst_method=case.sst_method, join="sst")
        try:
            return Started(lab_factory(wanted, name=f"{name}-{flavour}", **dict(case.options)))
        except LabError as exc:
            return Started(error=exc)

    with ThreadPoolExecutor(max_workers=len(CASES)) as pool:
        started = dict(zip(CASES, pool.map(start, CASES), strict=True))
    yield started
    for result in started.values():
        if result.lab:
            result.lab.down()


def case_lab(guide_path: dict[str, Started], name: str) -> Lab:
    result = guide_path[name]
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.error is None, f"{name}: {result.error}"
    assert result.lab is not None and result.lab.galera
    return result.lab


def case_error(guide_path: dict[str, Started], name: str) -> ClusterFormationError:
    result = guide_path[name]
    if result.skipped:
        pytest.skip(result.skipped)
    assert isinstance(result.error, ClusterFormationError), f"{name} must fail to form: {result}"
    return result.error


@pytest.mark.parametrize("method", ["rsync", "mariabackup"])
def test_sst_joins_form_a_synced_cluster(guide_path: dict[str, Started], method: str) -> None:
    lab = case_lab(guide_path, f"sst-{method}")
    assert lab.galera
    for node in lab.galera.nodes:
        assert node.verification_failures(3) == [], f"{node.name} joined by {method} SST"
    first, *joiners = lab.galera.nodes
    assert first.how_joined() == "bootstrapped", "the guide's first node founds the cluster"
    for joiner in joiners:
        assert joiner.how_joined() == f"SST ({method})", (
            f"{joiner.name} got a full state transfer by {method}, as the guide's joiners do"
        )
    assert f"wsrep_sst_{method}" in joiners[-1].logs(), f"the joiner really ran {method}"


def test_wrong_provider_path_is_reported_in_one_line(guide_path: dict[str, Started]) -> None:
    err = case_error(guide_path, "bad-provider")
    assert err.node == "galera1"
    assert "wrong wsrep_provider path" in str(err), str(err)
    assert "nope.so" in err.excerpt, f"the log line that shows it: {err.excerpt!r}"
    assert "timed out" not in str(err), "a startup failure is reported as such, not as a timeout"


def test_missing_sst_user_is_reported_in_one_line(guide_path: dict[str, Started]) -> None:
    err = case_error(guide_path, "no-sst-user")
    assert err.node == "galera2", "the first joiner is the one that cannot get its state"
    assert "SST user is missing" in str(err), f"{err}\n{err.excerpt}"
    assert "timed out" not in str(err)
