"""A flavour from a moving suite does not break the night (issue 33): when mysql-9's
packages from sid do not install today, the last image that built is used, saying so;
with none, the flavour is unavailable today, a skip naming apt's error in one line. A
flavour from a stable suite that fails to build is still a failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker.errors
import pytest

from lab.infra.errors import FlavourUnavailable, ImageError
from lab.plan.flavours import get_flavour
from lab.roles import images
from lab.roles.images import apt_error, build_image, db_image

APT_OUTPUT = [
    {"stream": "Step 6/20 : RUN apt-get install ...\n"},
    {"stream": " iproute2 : Depends: libbpf1 (>= 1:1.5) but it is not installable\n"},
    {"stream": "E: Unable to correct problems, you have held broken packages.\n"},
    {"stream": "E: The following information may help to resolve the situation.\n"},
    {"error": "The command '/bin/sh -c apt-get install' returned a non-zero code: 100"},
]


class FakeImages:
    def __init__(self, last: dict[str, Any] | None) -> None:
        self.last = last

    def get(self, tag: str) -> Any:
        if self.last is None:
            raise docker.errors.ImageNotFound(tag)
        return type("Image", (), {"labels": {}, "attrs": self.last, "id": "sha256:old"})()


class FakeClient:
    def __init__(self, last: dict[str, Any] | None, output: list[dict[str, str]] = APT_OUTPUT):
        self.images = FakeImages(last)
        self.builds = 0
        self.api = self
        self.output = output

    def build(self, **_: Any) -> Iterator[dict[str, str]]:
        self.builds += 1
        yield from self.output


@pytest.fixture(autouse=True)
def _fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "_unavailable_today", {})


def test_apts_error_line_is_the_reason() -> None:
    text = "\n".join(c.get("stream", c.get("error", "")) for c in APT_OUTPUT)
    assert apt_error(text) == "E: Unable to correct problems, you have held broken packages."
    assert apt_error("no apt here\nsecond") == "no apt here", "else the first line"
    assert apt_error("") == ""


def test_without_a_last_image_the_flavour_is_unavailable_today() -> None:
    client = FakeClient(last=None)
    with pytest.raises(FlavourUnavailable) as raised:
        build_image(client, db_image(get_flavour("mysql-9")), "sha256:base", lambda _: None)  # type: ignore[arg-type]
    message = str(raised.value)
    assert message.startswith("mysql-9 is unavailable today: its packages from Debian sid")
    assert "held broken packages" in message and "\n" not in message, "one line"


def test_the_last_image_that_built_is_used_and_said() -> None:
    client = FakeClient(last={"Created": "2026-12-01T02:17:00Z"})
    said: list[str] = []
    built = build_image(client, db_image(get_flavour("mysql-9")), "sha256:base", said.append)  # type: ignore[arg-type]
    assert built is False, "nothing new was built"
    assert said[-1].startswith("[db] today's build from Debian sid failed (E: Unable")
    assert said[-1].endswith("; using the last oxlab/db:mysql-9 that built (2026-12-01)"), said


def test_one_failed_build_per_process_not_one_per_lab() -> None:
    client = FakeClient(last=None)
    spec = db_image(get_flavour("mysql-9"))
    for _ in range(3):
        with pytest.raises(FlavourUnavailable):
            build_image(client, spec, "sha256:base", lambda _: None)  # type: ignore[arg-type]
    assert client.builds == 1, "apt is tried once; later labs of the run skip at once"


def test_a_stable_flavour_that_fails_to_build_is_a_failure() -> None:
    client = FakeClient(last={"Created": "2026-12-01"})
    with pytest.raises(ImageError, match="held broken packages"):
        build_image(client, db_image(get_flavour("mariadb-10.11")), "sha256:b", lambda _: None)  # type: ignore[arg-type]


def test_apts_first_error_survives_a_long_solver_report() -> None:
    """apt 3.0's solver explains itself in many lines after its E: line: the reason
    must still be apt's error, not the build's last lines."""
    report = [{"stream": f"   {i}. libfoo is selected because ...\n"} for i in range(30)]
    output = [APT_OUTPUT[2], *report, APT_OUTPUT[-1]]
    client = FakeClient(last=None, output=output)
    with pytest.raises(FlavourUnavailable, match=r"\(E: Unable to correct problems"):
        build_image(client, db_image(get_flavour("mysql-9")), "sha256:b", lambda _: None)  # type: ignore[arg-type]


def test_a_line_the_engine_splits_across_chunks_is_read_whole() -> None:
    """The engine streams build output in arbitrary chunks, stderr in colour: apt's E:
    line can arrive as "\\x1b[91mE" and ": Packages need to be removed ...", and must
    still be the reason."""
    output = [
        {"stream": "The following packages will be REMOVED:\n"},
        {"stream": "  libmariadb3 mariadb-common\n  percona-toolkit\n"},
        {"stream": "The following NEW packages will be installed:\n  mysql-server\n"},
        {"stream": "6 upgraded, 23 newly installed, 3 to remove.\n\x1b[91mE"},  # stderr, coloured
        {"stream": ": Packages need to be removed but remove is disabled.\n\x1b[0m"},
        APT_OUTPUT[-1],
    ]
    client = FakeClient(last=None, output=output)
    with pytest.raises(FlavourUnavailable) as raised:
        build_image(client, db_image(get_flavour("mysql-9")), "sha256:b", lambda _: None)  # type: ignore[arg-type]
    assert str(raised.value).endswith(
        "(E: Packages need to be removed but remove is disabled. (it would remove "
        "libmariadb3 mariadb-common percona-toolkit))"
    ), raised.value
