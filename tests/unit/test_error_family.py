"""One error family: every error the lab raises derives from LabError, so the CLI and
the pytest plugin report any of them as one line. (oxnode runs inside its image and has
OX's own exceptions; control-flow exceptions that never leave a module are private.)"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import lab
from lab.infra.errors import LabError, UnknownNode
from lab.roles.db.galera import GaleraCluster
from lab.roles.groupware.cluster import OxCluster


def lab_modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(lab.__path__, "lab.")
        if not m.name.startswith("lab.oxnode")
    ]


def test_every_public_exception_of_the_lab_is_a_lab_error() -> None:
    outside = []
    for name in lab_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
                and not attr.startswith("_")
                and not issubclass(value, LabError)
            ):
                outside.append(f"{name}.{attr}")
    assert not outside, f"errors outside the LabError family: {outside}"


@pytest.mark.parametrize("cluster", [GaleraCluster([]), OxCluster([])], ids=["galera", "groupware"])
def test_a_node_a_cluster_lacks_is_the_same_error_everywhere(cluster: object) -> None:
    with pytest.raises(UnknownNode, match="has no node 'nope'"):
        cluster.node("nope")  # type: ignore[attr-defined]
