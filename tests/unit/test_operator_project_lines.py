"""oxlab.toml's messages point at the line to fix: TOML's own errors with the line TOML
names (its "(at line N, column M)" moved to the front, as every other message has it),
a key found in its table, and a report names each operator file by path and hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lab.infra.errors import ConfigError
from lab.operator.project import line_of, load_project


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        # the error in the middle: TOML's line, not the last one
        ("[lab]\ntopology = \n[db]\ncnf = []\n", ":2: not valid TOML: Invalid value"),
        # at the end of the document: the last line
        ('[lab]\ntopology = "galera"\nflavours = [\n', ":3: not valid TOML: Invalid value"),
    ],
)
def test_a_toml_error_is_its_line_and_reason_once(tmp_path: Path, toml: str, says: str) -> None:
    path = tmp_path / "oxlab.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as raised:
        load_project(path)
    assert str(raised.value) == f"{path}{says}", raised.value


TOML = """\
# a comment
cnf = "before any table"
[clustercheck]
settings = "cc"
[replcheck]
  "settings" = "rc"
[db]
"""


@pytest.mark.parametrize(
    ("key", "table", "line"),
    [
        ("settings", "replcheck", 6),  # quoted and indented, in its own table
        ("settings", "clustercheck", 4),
        ("settings", None, 4),  # any table: the first
        ("cnf", None, 2),
        ("db", None, 7),  # a table's own header
        ("cnf", "db", 1),  # not there: line 1
        ("missing", None, 1),
    ],
)
def test_a_key_s_line_in_its_table(key: str, table: str | None, line: int) -> None:
    assert line_of(TOML, key, table) == line


def test_a_project_names_its_files_and_their_lines(tmp_path: Path) -> None:
    (tmp_path / "cc").write_text("AVAILABLE_WHEN_DONOR=1\n")
    (tmp_path / "oxlab.toml").write_text(
        '[lab]\ntopology = "galera"\n[clustercheck]\nsettings = "cc"\n'
    )
    project = load_project(tmp_path / "oxlab.toml")
    cc = project.file("clustercheck", "settings")
    assert cc is not None and project.file("replcheck", "settings") is None
    assert cc.record() == {
        "role": "clustercheck",
        "key": "settings",
        "path": str(tmp_path / "cc"),
        "sha256": hashlib.sha256(b"AVAILABLE_WHEN_DONOR=1\n").hexdigest(),
    }
    assert project.where("settings", "clustercheck") == f"{tmp_path / 'oxlab.toml'}:4"
    assert project.where("topology", "lab") == f"{tmp_path / 'oxlab.toml'}:2"
    assert project.where("settings", "lab") == f"{tmp_path / 'oxlab.toml'}:1"


def test_a_one_line_file_s_error_at_its_end_is_line_1(tmp_path: Path) -> None:
    path = tmp_path / "oxlab.toml"
    path.write_text("x = [")
    with pytest.raises(ConfigError, match=r"oxlab.toml:1: not valid TOML"):
        load_project(path)
