"""mysql-9 on a trixie base with only MySQL from sid (issue 33: sid's library transition
broke `apt-get install` of the packages every db image needs): lab-apt-pin adds sid from
the base's own mirror at priority 100, below trixie's 500, and the server packages are
installed last with `-t sid`: only they and what they depend on come from sid."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lab.plan.flavours import get_flavour
from lab.roles.images import db_image

SCRIPT = Path(__file__).resolve().parents[2] / "lab" / "images" / "db" / "lab-apt-pin"


def _pin(root: Path, suite: str = "sid") -> tuple[str, str]:
    subprocess.run(["sh", str(SCRIPT), suite, str(root)], check=True)
    listing = (root / f"etc/apt/sources.list.d/lab-{suite}.list").read_text()
    preferences = (root / f"etc/apt/preferences.d/lab-{suite}.pref").read_text()
    return listing, preferences


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("etc/apt/sources.list", "deb http://mirror.example/debian trixie main\n"),
        (  # deb822, as Debian's own images write it
            "etc/apt/sources.list.d/debian.sources",
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie trixie-updates\n",
        ),
    ],
)
def test_the_suite_comes_from_the_mirror_the_base_uses(
    tmp_path: Path, path: str, text: str
) -> None:
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(text)
    listing, _ = _pin(tmp_path)
    assert listing == "deb http://mirror.example/debian sid main\n"


def test_without_sources_debians_mirror_is_used(tmp_path: Path) -> None:
    listing, _ = _pin(tmp_path)
    assert listing == "deb http://deb.debian.org/debian sid main\n"


def test_the_pinned_suite_is_below_the_base_suite(tmp_path: Path) -> None:
    _, preferences = _pin(tmp_path)
    assert preferences.splitlines() == [
        "Package: *",
        "Pin: release n=sid",
        "Pin-Priority: 100",  # < 500 (the base suite): never a candidate unless asked for
    ]


def test_mysql_9_is_built_on_trixie_with_only_its_server_packages_from_sid() -> None:
    flavour = get_flavour("mysql-9")
    assert (flavour.base_image, flavour.debian_suite) == ("debian:trixie-slim", "trixie")
    args = db_image(flavour).all_build_args()
    assert args["PINNED_SUITE"] == "sid"
    assert args["SERVER_PACKAGES"] == "mysql-server mysql-client"
    dockerfile = (SCRIPT.parent / "Dockerfile").read_text()
    assert '--no-remove -t "$PINNED_SUITE" ${SERVER_PACKAGES}' in dockerfile, (
        "the server packages with -t SUITE, after everything else came from the base, "
        "never removing what the base installed (percona-toolkit)"
    )


def test_a_flavour_without_a_pinned_suite_installs_plain_names() -> None:
    args = db_image(get_flavour("mariadb-10.11")).all_build_args()
    assert args["PINNED_SUITE"] == ""
    assert args["SERVER_PACKAGES"] == "mariadb-server mariadb-client galera-4 mariadb-backup"
