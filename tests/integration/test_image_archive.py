"""`lab images save` / `lab images load`: what a CI builds once and its other jobs load
from its cache must come back as it was built (same id, same labels, so the lab finds it
current and builds nothing), and a file that is not such an archive is one clear line."""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import zstandard

from lab.infra.errors import ImageError
from lab.roles.image_archive import load_images, save_images
from lab.roles.images import LABEL_CONTEXT_HASH

pytestmark = [pytest.mark.docker]


@pytest.fixture
def tiny_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """A layerless image with the lab's context-hash label, removed afterwards."""
    tag = f"oxlab-test/archive:{uuid.uuid4().hex[:8]}"
    dockerfile = (
        "FROM scratch\nCOPY marker /marker\n"  # one layer: the engine cannot save none
        f'LABEL {LABEL_CONTEXT_HASH}="abc123" ox-lab.test="archive"\n'
    )
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile.encode()), ("marker", b"archive\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    docker_client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    try:
        yield tag
    finally:
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass


def test_an_archive_brings_the_image_back_with_its_id_and_labels(
    docker_client: docker.DockerClient, tiny_image: str, tmp_path: Path
) -> None:
    built = docker_client.images.get(tiny_image)
    archive = tmp_path / "images.tar.zst"
    said: list[str] = []
    size = save_images(docker_client, [tiny_image], archive, said.append)
    assert archive.stat().st_size == size > 0
    assert not list(tmp_path.glob("*.part")), "no half archive is left beside it"
    docker_client.images.remove(tiny_image, force=True)
    assert load_images(docker_client, archive, said.append) == [tiny_image]
    loaded = docker_client.images.get(tiny_image)
    assert loaded.id == built.id, "the same build: the lab's context hash still matches"
    assert loaded.labels[LABEL_CONTEXT_HASH] == "abc123"
    assert said[0].startswith(f"[images] 1 images saved to {archive}")


def test_a_file_that_is_not_an_archive_is_one_line(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.tar.zst"
    bogus.write_bytes(b"not zstd at all")
    with pytest.raises(ImageError, match=r"bogus\.tar\.zst: not an image archive .*zstd") as raised:
        load_images(docker_client, bogus, lambda _: None)
    assert "\n" not in str(raised.value)
    with pytest.raises(ImageError, match="no such image archive"):
        load_images(docker_client, tmp_path / "absent.tar.zst", lambda _: None)
    damaged = tmp_path / "damaged.tar.zst"
    damaged.write_bytes(zstandard.ZstdCompressor().compress(b"x" * 4096)[:-8] + b"garbage!")
    with pytest.raises(ImageError, match=r"damaged\.tar\.zst: a damaged image archive"):
        load_images(docker_client, damaged, lambda _: None)


def test_saving_an_image_the_engine_lacks_names_it(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    with pytest.raises(ImageError, match="docker save failed"):
        save_images(docker_client, ["oxlab-test/absent:none"], tmp_path / "x.tar.zst", print)
    assert not list(tmp_path.iterdir()), "nothing is left of a failed save"
