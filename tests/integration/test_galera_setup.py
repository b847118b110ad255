"""The guide's SST methods and its "common mistakes", on the guide's path (fresh
datadirs, serial joins by SST: --join sst): each lab here is started for one test and
removed after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import docker
import pytest

from lab.errors import ClusterFormationError
from lab.lab import Lab
from lab.pytest_plugin import runnable_request, skip_if_operator_sets
from lab.topology import LabRequest

pytestmark = [pytest.mark.galera, pytest.mark.docker]


@pytest.fixture
def galera_request(
    docker_client: docker.DockerClient, lab_request: LabRequest, flavour: str
) -> LabRequest:
    return runnable_request(docker_client, lab_request, flavour, "galera")


@pytest.mark.parametrize("method", ["rsync", "mariabackup"])
def test_sst_joins_form_a_synced_cluster(
    lab_factory: Callable[..., Lab], galera_request: LabRequest, method: str
) -> None:
    skip_if_operator_sets(galera_request, "wsrep_sst_method")
    request = replace(galera_request, sst_method=method, join="sst")
    lab = lab_factory(request, name=f"sst-{method}-{request.flavour}")
    try:
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
    finally:
        lab.down()


def test_wrong_provider_path_is_reported_in_one_line(
    lab_factory: Callable[..., Lab], galera_request: LabRequest
) -> None:
    skip_if_operator_sets(galera_request, "wsrep_provider")
    with pytest.raises(ClusterFormationError) as exc:
        lab_factory(
            replace(galera_request, join="sst"),
            name=f"bad-provider-{galera_request.flavour}",
            provider_path="/usr/lib/galera/nope.so",
        )
    err = exc.value
    assert err.node == "galera1"
    assert "wrong wsrep_provider path" in str(err), str(err)
    assert "nope.so" in err.excerpt, f"the log line that shows it: {err.excerpt!r}"
    assert "timed out" not in str(err), "a startup failure is reported as such, not as a timeout"


def test_missing_sst_user_is_reported_in_one_line(
    lab_factory: Callable[..., Lab], galera_request: LabRequest
) -> None:
    skip_if_operator_sets(galera_request, "wsrep_sst_method", "wsrep_sst_auth")
    request = replace(galera_request, sst_method="mariabackup", join="sst")
    with pytest.raises(ClusterFormationError) as exc:
        lab_factory(request, name=f"no-sst-user-{request.flavour}", create_sst_user=False)
    err = exc.value
    assert err.node == "galera2", "the first joiner is the one that cannot get its state"
    assert "SST user is missing" in str(err), f"{err}\n{err.excerpt}"
    assert "timed out" not in str(err)
