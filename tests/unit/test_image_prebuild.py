"""Which images a run builds before its first test (lab/pytest_plugin.py): none for a
run without Docker tests, the stand-in hosts' only when a test uses them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lab.pytest_plugin import images_wanted


def item(*markers: str, fixtures: tuple[str, ...] = ()) -> Any:
    return SimpleNamespace(
        get_closest_marker=lambda name: name if name in markers else None,
        fixturenames=fixtures,
    )


def test_a_run_without_docker_tests_builds_nothing() -> None:
    assert images_wanted([item(), item("galera", fixtures=("standin_cluster",))]) is None


def test_docker_tests_get_the_role_images() -> None:
    assert images_wanted([item("docker", fixtures=("galera_lab",)), item()]) == "role"


def test_one_test_on_the_stand_in_hosts_adds_their_images() -> None:
    picked = [item("docker"), item("docker", fixtures=("lab_request", "standin_cluster"))]
    assert images_wanted(picked) == "standin"
    assert images_wanted([item("docker", fixtures=("guide_galera_standin_lab",))]) == "standin"


def test_a_stand_in_fixture_on_a_test_without_docker_is_not_a_build() -> None:
    assert images_wanted([item("docker"), item(fixtures=("standin_cluster",))]) == "role"
