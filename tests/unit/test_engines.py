"""Remote engines: which engine an xdist worker's labs go to, what --lab-docker-hosts
accepts, and which images `lab images copy` streams (lab/infra/docker_env.py,
lab/roles/images.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import docker.errors
import pytest

from lab.infra.docker_env import docker_host_for_worker, parse_docker_hosts
from lab.infra.errors import ConfigError, ImageError
from lab.roles.images import copy_images

A, B, C = "unix:///var/run/docker.sock", "tcp://10.0.0.2:2375", "ssh://ci@engine3"


@pytest.mark.parametrize(
    "worker,engine",
    [("main", A), ("gw0", A), ("gw1", B), ("gw2", C), ("gw3", A), ("gw10", B), ("gwx", A)],
)
def test_each_worker_gets_one_engine_round_robin(worker: str, engine: str) -> None:
    assert docker_host_for_worker([A, B, C], worker) == engine


def test_one_engine_takes_every_worker() -> None:
    assert {docker_host_for_worker([B], f"gw{n}") for n in range(5)} == {B}


def test_the_engines_are_read_as_docker_host_names_them() -> None:
    assert parse_docker_hosts(f" {A}, {B} ,{C},") == [A, B, C]


@pytest.mark.parametrize("text", ["", " , ", "engine2:2375", "http://engine2:2375", f"{A},docker2"])
def test_anything_but_an_engine_address_is_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match="--lab-docker-hosts"):
        parse_docker_hosts(text)


@dataclass
class FakeImage:
    id: str

    def save(self, named: bool = False) -> bytes:
        return self.id.encode()


@dataclass
class FakeImages:
    held: dict[str, FakeImage]
    loaded: list[bytes] = field(default_factory=list)

    def get(self, tag: str) -> FakeImage:
        if tag not in self.held:
            raise docker.errors.ImageNotFound(tag)
        return self.held[tag]

    def load(self, data: bytes) -> None:
        self.loaded.append(data)


@dataclass
class FakeEngine:
    images: FakeImages
    api: object = field(default_factory=lambda: type("Api", (), {"base_url": "tcp://x"})())


def test_copy_streams_what_the_engine_lacks_or_holds_in_another_build() -> None:
    here = FakeEngine(
        FakeImages({"base": FakeImage("1"), "db": FakeImage("2"), "dblb": FakeImage("3")})
    )
    there = FakeEngine(FakeImages({"base": FakeImage("1"), "db": FakeImage("old")}))
    copied = copy_images(here, there, ["base", "db", "dblb"], progress=lambda _: None)  # type: ignore[arg-type]
    assert copied == ["db", "dblb"], "base is current there; db is another build; dblb is missing"
    assert there.images.loaded == [b"2", b"3"]


def test_copying_an_image_not_built_here_is_one_line() -> None:
    here = FakeEngine(FakeImages({}))
    with pytest.raises(ImageError, match="oxlab/db:x: not on the source engine"):
        copy_images(here, FakeEngine(FakeImages({})), ["oxlab/db:x"], progress=lambda _: None)  # type: ignore[arg-type]
