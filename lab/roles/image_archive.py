"""The lab's images as one archive (`lab images save` / `lab images load`): what a CI
builds once and its other jobs load from its cache. Its own module: zstandard is the
control machine's, not the labctl image's (compose's setup service imports images.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import docker
import docker.errors
import requests
import zstandard

from lab.infra.errors import ImageError
from lab.roles.images import Progress

ARCHIVE_CHUNK = 1 << 20
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # every zstd frame starts with it (RFC 8878)


def save_images(
    client: docker.DockerClient, tags: Sequence[str], path: Path, progress: Progress
) -> int:
    """Every image of `tags` in one archive at `path` (`docker save` of them all, so
    layers they share are stored once, then zstd on every core): what a CI run builds
    once and its other jobs load from the CI's cache. Returns the archive's size."""
    started = time.monotonic()
    url = client.api._url("/images/get")
    partial = path.with_name(path.name + ".part")
    try:
        with client.api.get(url, params={"names": list(tags)}, stream=True) as response:
            if response.status_code != 200:
                raise ImageError(f"docker save failed: {response.text.strip()[:200]}")
            compressor = zstandard.ZstdCompressor(level=3, threads=-1)
            with open(partial, "wb") as out, compressor.stream_writer(out) as packed:
                for chunk in response.iter_content(ARCHIVE_CHUNK):
                    packed.write(chunk)
        partial.replace(path)  # a cache never keeps half an archive
    finally:
        partial.unlink(missing_ok=True)
    size = path.stat().st_size
    progress(
        f"[images] {len(tags)} images saved to {path} ({size / 1e6:.0f} MB) "
        f"in {time.monotonic() - started:.1f}s"
    )
    return size


def load_images(client: docker.DockerClient, path: Path, progress: Progress) -> list[str]:
    """The images of an archive `save_images` wrote, loaded into the engine (`docker
    load`), with their ids and labels: `lab up` and the test session find them current.
    Returns the tags loaded; a file that is not such an archive is one clear line."""
    started = time.monotonic()
    try:
        with open(path, "rb") as packed:
            magic = packed.read(4)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such image archive (`lab images save` writes one)") from None
    if magic != ZSTD_MAGIC:
        raise ImageError(f"{path}: not an image archive of `lab images save` (not zstd)")

    def unpacked() -> Iterator[bytes]:
        with open(path, "rb") as packed:
            reader = zstandard.ZstdDecompressor().stream_reader(packed)
            while chunk := reader.read(ARCHIVE_CHUNK):
                yield chunk

    try:
        answer = list(client.api.load_image(unpacked()))
    except (zstandard.ZstdError, requests.exceptions.ConnectionError) as exc:
        # a zstd error while the body streams reaches us as the engine's closed connection
        raise ImageError(f"{path}: a damaged image archive, docker load stopped ({exc})") from None
    except docker.errors.APIError as exc:
        raise ImageError(f"{path}: docker load failed: {exc.explanation or exc}") from None
    failed = [str(part["error"]) for part in answer if "error" in part]
    if failed:
        raise ImageError(f"{path}: docker load failed: {failed[0]}")
    lines = [str(part.get("stream", "")) for part in answer]
    tags = [line.split("Loaded image:", 1)[1].strip() for line in lines if "Loaded image:" in line]
    progress(f"[images] {len(tags)} images loaded from {path} in {time.monotonic() - started:.1f}s")
    return tags
