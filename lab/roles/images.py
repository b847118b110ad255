"""Image pipeline: one folder per role under lab/images/, each a Dockerfile taking
ARG BASE. Works on hosts without a registry: a base image that is neither local nor
pullable is made from Debian's mirror with debootstrap and `docker import`.

A build is skipped when an image with the same tag carries the same context hash (the
role folder's files, build args and base image id), so a rebuild with nothing changed
costs a few Docker API calls instead of a docker build.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from lab import __version__
from lab.infra.docker_env import LABEL_ROLE, LABEL_VERSION, STANDIN_ROLES
from lab.infra.errors import FlavourUnavailable, ImageError
from lab.plan.flavours import DEFAULT_FLAVOUR, Flavour, get_flavour
from lab.roles.db.node import ROOT_PASSWORD, seed_sql

IMAGES_DIR = Path(__file__).parent.parent / "images"  # lab/images/<role>/
LABEL_FLAVOUR = "ox-lab.flavour"
LABEL_CONTEXT_HASH = "ox-lab.context-hash"
DEFAULT_MIRROR = "http://deb.debian.org/debian"

Progress = Callable[[str], None]


def _stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ImageSpec:
    """A role's image for one flavour: folder, tag and build args."""

    role: str
    flavour: Flavour  # whose base image the role builds on
    build_args: dict[str, str] = field(default_factory=dict, hash=False)
    variant: str = ""  # the tag's version part; default: the flavour's name
    # pure-Python packages copied from this interpreter into the context's site/ folder:
    # the exact versions the lab runs with, and no PyPI access needed inside the build
    python_packages: tuple[str, ...] = ()

    @property
    def context_dir(self) -> Path:
        return IMAGES_DIR / self.role

    @property
    def tag(self) -> str:
        return f"oxlab/{self.role}:{self.variant or self.flavour.name}"

    def all_build_args(self) -> dict[str, str]:
        return {"BASE": self.flavour.base_image, **self.build_args}

    def context_hash(self, base_image_id: str) -> str:
        digest = hashlib.sha256()
        for path in sorted(p for p in self.context_dir.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(self.context_dir)).encode())
            digest.update(path.read_bytes())
        for key, value in sorted(self.all_build_args().items()):
            digest.update(f"{key}={value}".encode())
        for package in self.python_packages:
            digest.update(f"{package}=={importlib.metadata.version(package)}".encode())
        digest.update(base_image_id.encode())
        return digest.hexdigest()[:16]


def db_image(flavour: Flavour) -> ImageSpec:
    """The database node image (Galera or GTID role) of a Debian-packaged flavour; a
    Galera flavour's also carries the seeded cluster state (lab-seed-galera)."""
    args = {
        "FLAVOUR": flavour.name,
        "SERVER_PACKAGES": " ".join(flavour.server_packages),
        "APT_OPTIONS": flavour.apt_options,
        "PINNED_SUITE": flavour.pinned_suite,
        "INIT_DATADIR": " ".join(flavour.dialect.init_datadir),
    }
    if "galera" in flavour.topologies:
        args |= {
            "GALERA_PROVIDER": flavour.galera_provider,
            "BOOTSTRAP_ARGS": " ".join(flavour.galera_bootstrap),
            "SEED_SQL": seed_sql(flavour.dialect),
            "ROOT_PASSWORD": ROOT_PASSWORD,
        }
    return ImageSpec("db", flavour, args)


def _bookworm_role(role: str, packages: tuple[str, ...] = ()) -> ImageSpec:
    """A role image that does not depend on the database flavour: one image, built on
    the default flavour's Debian base (bookworm)."""
    base = get_flavour(DEFAULT_FLAVOUR)
    return ImageSpec(role, base, variant=base.debian_suite, python_packages=packages)


def dblb_image(flavour: Flavour) -> ImageSpec:
    """HAProxy, whatever the database flavour."""
    return _bookworm_role("dblb")


def groupware_image() -> ImageSpec:
    """The groupware node's runtime (its code is copied in at container creation)."""
    return _bookworm_role("groupware")


def filestore_image() -> ImageSpec:
    """nfs-ganesha serving the guide's filestore export."""
    return _bookworm_role("filestore")


def web_image() -> ImageSpec:
    """Apache 2.4 from Debian with the guide's modules."""
    return _bookworm_role("web")


def labctl_image() -> ImageSpec:
    """The lab's Python runtime for compose files' setup service."""
    return _bookworm_role("labctl", ("docker", "testcontainers"))


def tools_image() -> ImageSpec:
    """sysbench and percona-toolkit: the stock clients chaos runs use beside the lab's."""
    return _bookworm_role("tools")


def standin_image(role_image: ImageSpec, role_command: Sequence[str]) -> ImageSpec:
    """A role image with an SSH server and sudo (lab/images/standin/): the stand-in
    hosts `lab verify` and chaos over SSH are tested against. Its entry point starts
    sshd, then the role's own command (an image's ENTRYPOINT clears the CMD it
    inherits, so the role image's CMD is passed in and kept as the default)."""
    return ImageSpec(
        "standin",
        role_image.flavour,
        {"BASE": role_image.tag, "ROLE_COMMAND": shlex.join(role_command)},
        variant=f"{role_image.role}-{role_image.variant or role_image.flavour.name}",
    )


def groupware_images() -> list[ImageSpec]:
    """The guide topologies' images beyond the databases', and compose's setup runtime."""
    return [groupware_image(), filestore_image(), web_image(), labctl_image()]


def images_for(flavour: Flavour) -> list[ImageSpec]:
    """The role images a flavour's labs need. Registry-only flavours have none the lab
    can build here (its Dockerfiles are Debian's); FlavourUnavailable says so."""
    if flavour.from_registry:
        raise FlavourUnavailable(
            f"flavour {flavour.name} comes only from the registry image {flavour.base_image}; "
            "this lab version builds its role images on Debian's packages only"
        )
    return [db_image(flavour), dblb_image(flavour), tools_image()]


def registry_unavailable_reason(client: docker.DockerClient, flavour: Flavour) -> str | None:
    """Why a registry-only flavour cannot run here (None: its image is local or pullable)."""
    if not flavour.from_registry or image_present(client, flavour.base_image):
        return None
    repo, _, version = flavour.base_image.partition(":")
    try:
        client.images.pull(repo, tag=version or "latest")
        return None
    except docker.errors.APIError as exc:
        first = str(exc).splitlines()[0][:100]
        return (
            f"flavour {flavour.name} needs the registry image {flavour.base_image}, "
            f"which is neither local nor pullable here ({first}); "
            "`docker load` it to include this flavour"
        )


def image_present(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def ensure_base_image(
    client: docker.DockerClient, flavour: Flavour, progress: Progress = _stderr_progress
) -> str:
    """Return the id of the flavour's base image: local, else pulled, else made."""
    tag = flavour.base_image
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        pass
    repo, _, version = tag.partition(":")
    try:
        progress(f"[base] pulling {tag}")
        return str(client.images.pull(repo, tag=version or "latest").id)
    except docker.errors.APIError as exc:
        progress(f"[base] cannot pull {tag} ({str(exc).splitlines()[0][:120]}); making it")
    return make_base_image(client, flavour, progress)


def make_base_image(
    client: docker.DockerClient, flavour: Flavour, progress: Progress = _stderr_progress
) -> str:
    """debootstrap --variant=minbase SUITE DIR MIRROR, then import DIR as the base tag."""
    debootstrap = shutil.which("debootstrap") or _install_debootstrap(progress)
    mirror = os.environ.get("LAB_DEBIAN_MIRROR", DEFAULT_MIRROR)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="oxlab-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        cmd = [debootstrap, "--variant=minbase", flavour.debian_suite, str(rootfs), mirror]
        progress(f"[base] {' '.join(cmd)}")
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join(result.stdout.splitlines()[-5:] + result.stderr.splitlines()[-5:])
            raise ImageError(f"debootstrap {flavour.debian_suite} failed:\n{tail}")
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        repo, _, version = flavour.base_image.partition(":")
        progress(f"[base] docker import as {flavour.base_image}")
        client.api.import_image_from_file(str(tarball), repository=repo, tag=version)
    progress(f"[base] {flavour.base_image} made in {time.monotonic() - started:.1f}s")
    return str(client.images.get(flavour.base_image).id)


def _install_debootstrap(progress: Progress) -> str:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ImageError(
            "no base image and no debootstrap to make one: install debootstrap "
            "(apt-get install debootstrap) or load the base image with `docker load`"
        )
    progress("[base] installing debootstrap with apt-get")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "debootstrap"]):
        if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
            raise ImageError(f"`{' '.join(cmd)}` failed; install debootstrap by hand")
    return shutil.which("debootstrap") or "debootstrap"


def build_image(
    client: docker.DockerClient,
    spec: ImageSpec,
    base_image_id: str,
    progress: Progress = _stderr_progress,
) -> bool:
    """Build one role image unless it is up to date; True when a build ran."""
    context_hash = spec.context_hash(base_image_id)
    try:
        existing = client.images.get(spec.tag)
        if (existing.labels or {}).get(LABEL_CONTEXT_HASH) == context_hash:
            progress(f"[{spec.role}] {spec.tag} is up to date")
            return False
    except docker.errors.ImageNotFound:
        pass
    labels = {
        LABEL_ROLE: spec.role,
        LABEL_FLAVOUR: spec.flavour.name,
        LABEL_VERSION: __version__,
        LABEL_CONTEXT_HASH: context_hash,
    }
    started = time.monotonic()
    try:
        unavailable = _unavailable_today.get(spec.tag)
        if unavailable:
            raise unavailable
        with _build_context(spec) as context_dir:
            _run_build(client, spec, context_dir, labels, progress)
    except (docker.errors.APIError, ImageError) as exc:
        if not spec.flavour.pinned_suite:
            raise ImageError(f"building {spec.tag} failed: {exc}") from None
        return _last_image_that_built(client, spec, exc, progress)
    progress(f"[{spec.role}] built {spec.tag} in {time.monotonic() - started:.1f}s")
    return True


# tag -> why today's build failed: one attempt per process, not one per lab
_unavailable_today: dict[str, ImageError] = {}


def apt_error(text: str) -> str:
    """The first line apt says is an error ("E: ..."), else the build's first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("E: ")), lines[0] if lines else "")


def _last_image_that_built(
    client: docker.DockerClient, spec: ImageSpec, failure: Exception, progress: Progress
) -> bool:
    """A flavour whose packages come from a moving suite (sid) may not install today
    (a library transition): its last image that built is used, saying so; with none,
    the flavour is unavailable today, a skip naming apt's error, not a failed run."""
    error = failure if isinstance(failure, ImageError) else ImageError(str(failure))
    _unavailable_today[spec.tag] = error
    reason = apt_error(str(failure))
    suite = spec.flavour.pinned_suite
    try:
        last = client.images.get(spec.tag)
    except docker.errors.ImageNotFound:
        raise FlavourUnavailable(
            f"{spec.flavour.name} is unavailable today: its packages from Debian {suite} "
            f"do not install ({reason})"
        ) from None
    built = str(last.attrs.get("Created", "?"))[:10]
    progress(
        f"[{spec.role}] today's build from Debian {suite} failed ({reason}); using the last "
        f"{spec.tag} that built ({built})"
    )
    return False


@contextlib.contextmanager
def _build_context(spec: ImageSpec) -> Iterator[Path]:
    """The role folder, or a copy of it with the spec's Python packages under site/."""
    if not spec.python_packages:
        yield spec.context_dir
        return
    with tempfile.TemporaryDirectory(prefix=f"oxlab-{spec.role}-") as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(spec.context_dir, context)
        for package in spec.python_packages:
            source = Path(importlib.import_module(package).__file__ or "").parent
            shutil.copytree(
                source, context / "site" / package, ignore=shutil.ignore_patterns("__pycache__")
            )
            # its metadata too: testcontainers reads its own version at run time
            version = importlib.metadata.version(package)
            for dist_info in source.parent.glob(f"{package}-{version}.dist-info"):
                shutil.copytree(dist_info, context / "site" / dist_info.name)
        yield context


ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _run_build(
    client: docker.DockerClient,
    spec: ImageSpec,
    context_dir: Path,
    labels: dict[str, str],
    progress: Progress,
) -> None:
    recent: list[str] = []  # the last lines, for the error message
    apt_says = ""  # apt's first error line, which a long solver report may push out
    partial = ""  # the engine streams output in chunks that can end mid-line
    removing: list[str] = []  # what apt said it would remove
    listing = False  # reading apt's list of packages to remove
    for chunk in client.api.build(
        path=str(context_dir),
        tag=spec.tag,
        buildargs=spec.all_build_args(),
        labels=labels,
        rm=True,
        forcerm=True,
        decode=True,
    ):
        if "error" in chunk:
            raise ImageError(
                f"building {spec.tag} failed: {chunk['error'].strip()}\n"
                + (f"{apt_says}\n" if apt_says else "")
                + "\n".join([*recent, partial] if partial.strip() else recent)
            )
        text = ANSI_COLOUR.sub("", str(chunk.get("stream", "")))  # stderr comes coloured
        *lines, partial = (partial + text).split("\n")
        for line in lines:
            listing = listing and line.startswith("  ")  # the list ends at the next heading
            if listing:
                removing += line.split()
            elif line.startswith("The following packages will be REMOVED:"):
                listing = True
            if line.strip():
                recent = [*recent, line][-15:]
            if line.startswith("E: ") and not apt_says:
                apt_says = line.strip()
                if removing:  # --no-remove refused: say what the install would remove
                    apt_says += f" (it would remove {' '.join(removing)})"
            if line.startswith("Step "):
                progress(f"[{spec.role}] {line}")


def build_images(
    client: docker.DockerClient,
    specs: Iterable[ImageSpec],
    progress: Progress = _stderr_progress,
) -> None:
    """Make the base image(s), then build the role images in parallel."""
    specs = list(specs)
    base_ids = {f.name: ensure_base_image(client, f, progress) for f in {s.flavour for s in specs}}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(build_image, client, s, base_ids[s.flavour.name], progress) for s in specs
        ]
        for future in futures:
            future.result()


def build_standin_images(
    client: docker.DockerClient,
    role_specs: Iterable[ImageSpec],
    progress: Progress = _stderr_progress,
) -> None:
    """The stand-in variant of each role image, rebuilt when the role image changed
    (its id is part of the context hash)."""
    role_specs = [s for s in role_specs if s.role in STANDIN_ROLES]
    build_images(client, role_specs, progress)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(build_image, client, standin, client.images.get(s.tag).id, progress)
            for s, standin in zip(role_specs, standin_specs(client, role_specs), strict=True)
        ]
        for future in futures:
            future.result()


def standin_specs(client: docker.DockerClient, role_specs: Iterable[ImageSpec]) -> list[ImageSpec]:
    """The stand-in variant of each role image that has one (its role image built)."""
    return [
        standin_image(s, role_cmd(client, s.tag)) for s in role_specs if s.role in STANDIN_ROLES
    ]


def build_lab_images(
    client: docker.DockerClient,
    flavours: Iterable[Flavour],
    standin_hosts: bool = False,
    progress: Progress = _stderr_progress,
) -> int:
    """Every image the flavours' labs run, and with `standin_hosts` the stand-in hosts'
    variants: what `lab images build` builds and a test session builds before its first
    test (so no test's duration, and no shard, carries an image build). Returns how
    many images are now current."""
    specs = [*(s for f in flavours for s in images_for(f)), *groupware_images()]
    try:
        build_images(client, specs, progress)
    except FlavourUnavailable as exc:  # its tests skip saying why; the others' images
        progress(f"{exc}: its tests skip")
        specs = [s for s in specs if s.tag not in _unavailable_today]
        build_images(client, specs, progress)
    if not standin_hosts:
        return len(specs)
    build_standin_images(client, specs, progress)
    return len(specs) + sum(s.role in STANDIN_ROLES for s in specs)


def role_cmd(client: docker.DockerClient, tag: str) -> list[str]:
    """The image's CMD (what its containers run unless told otherwise)."""
    return list(client.images.get(tag).attrs["Config"].get("Cmd") or [])


def copy_images(
    source: docker.DockerClient,
    target: docker.DockerClient,
    tags: Iterable[str],
    progress: Progress = _stderr_progress,
) -> list[str]:
    """Each image of `tags` that `target` lacks, or holds in another build (another id),
    streamed from `source` as `docker save | docker load` would: how an engine on a
    network with no registry gets the images built here. The base image goes too: a role
    image's context hash includes its base's id, which a load keeps. Returns the copied."""
    copied = []
    for tag in tags:
        try:
            image = source.images.get(tag)
        except docker.errors.ImageNotFound:
            raise ImageError(
                f"{tag}: not on the source engine (`lab images build` first)"
            ) from None
        try:
            if target.images.get(tag).id == image.id:
                continue
        except docker.errors.ImageNotFound:
            pass
        started = time.monotonic()
        target.images.load(image.save(named=True))
        progress(f"[{tag}] copied to {target.api.base_url} in {time.monotonic() - started:.1f}s")
        copied.append(tag)
    return copied


def missing_images(client: docker.DockerClient, specs: Iterable[ImageSpec]) -> list[str]:
    return [s.tag for s in specs if not image_present(client, s.tag)]
