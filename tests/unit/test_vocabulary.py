"""One name per role, the guide's: the image folders, the examples' folders, oxlab.toml's
tables, the verify sections and the inventory groups all come from lab/infra/vocabulary.py,
and an operator's file written with an earlier name still loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.infra.docker_env import STANDIN_ROLES
from lab.infra.errors import ConfigError
from lab.infra.hosts.inventory import ROLE_GROUPS
from lab.infra.vocabulary import ROLE_NAMES, VOCABULARY, current, role_name
from lab.operator.project import ROLES, load_project
from lab.verify.run import SECTION_ROLES

ROOT = Path(__file__).resolve().parents[2]
NOT_ROLES = {"labctl", "tools", "standin"}  # images of the lab's own helpers
SETTINGS = {"clustercheck", "replcheck"}  # tables of a db script's settings, not roles


def test_every_role_image_folder_is_named_as_the_guide_names_the_role() -> None:
    folders = {p.name for p in (ROOT / "lab/images").iterdir() if p.is_dir()} - NOT_ROLES
    assert folders == set(ROLE_NAMES), "lab/images/<role>/ uses the vocabulary's names"
    assert tuple(STANDIN_ROLES) == ROLE_NAMES, "every role has a stand-in host image"


@pytest.mark.parametrize("example", ["guide", "mistakes"])
def test_the_examples_folders_and_tables_are_the_roles(example: str) -> None:
    folders = {p.name for p in (ROOT / "examples" / example).iterdir() if p.is_dir()}
    assert folders - SETTINGS <= set(ROLE_NAMES), folders
    assert set(ROLES) - SETTINGS == set(ROLE_NAMES), "oxlab.toml has a table per role"


def test_verify_sections_and_inventory_groups_come_from_the_vocabulary() -> None:
    groups = {g for role in VOCABULARY for g in role.groups}
    assert set(ROLE_GROUPS) == groups, "each inventory group belongs to one role"
    role_sections = set(SECTION_ROLES) & {*ROLE_NAMES, *(o for r in VOCABULARY for o in r.old)}
    assert role_sections <= set(ROLE_NAMES), f"verify sections use the role names: {role_sections}"


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("database", "db"),
        ("MySQL", "db"),
        ("haproxy", "dblb"),
        ("Frontend", "web"),
        ("apache", "web"),
        ("ox", "groupware"),
        ("oxnode", "groupware"),
        ("nfs", "filestore"),
        ("DBLB", "dblb"),
    ],
)
def test_an_earlier_name_in_any_case_is_the_roles_name(word: str, name: str) -> None:
    assert role_name(word, "x") == name
    assert current(word) == name


def test_an_unknown_role_is_one_line_naming_where_and_the_known_names() -> None:
    with pytest.raises(
        ConfigError, match=r"^inventory.ini:3: unknown role 'memcached'; known: db, "
    ):
        role_name("memcached", "inventory.ini:3")
    assert current("galera") == "galera", "a word that is no old role name stays as it is"


def test_an_operators_database_table_loads_as_db(tmp_path: Path) -> None:
    (tmp_path / "t.cnf").write_text("[mysqld]\nmax_connections = 300\n")
    (tmp_path / "oxlab.toml").write_text(
        '[lab]\ntopology = "galera"\n[database]\ncnf = ["t.cnf"]\n'
    )
    project = load_project(tmp_path / "oxlab.toml")
    assert [(f.role, f.key) for f in project.files] == [("db", "cnf")]


def test_both_names_of_one_table_are_refused_at_the_old_ones_line(tmp_path: Path) -> None:
    (tmp_path / "t.cnf").write_text("[mysqld]\n")
    (tmp_path / "oxlab.toml").write_text('[db]\ncnf = ["t.cnf"]\n\n[database]\ncnf = ["t.cnf"]\n')
    with pytest.raises(ConfigError, match=r"oxlab.toml:4: \[database\] and \[db\] are the same"):
        load_project(tmp_path / "oxlab.toml")


def test_a_problem_in_a_table_with_its_old_name_points_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "oxlab.toml").write_text("[lab]\n\n[database]\nbogus = 1\n")
    with pytest.raises(ConfigError, match=r"oxlab.toml:4: unknown key 'bogus' in \[db\]"):
        load_project(tmp_path / "oxlab.toml")


def test_verify_takes_a_sections_earlier_name_and_refuses_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import lab.verify.run as run
    from lab.infra.hosts.credentials import Credentials
    from lab.infra.hosts.remote import Host
    from lab.verify.result import Result
    from lab.verify.target import Target

    ran: list[str] = []

    def fake(section: str):  # type: ignore[no-untyped-def]
        return lambda target: ran.append(section) or [Result(section, "h", "c", True, "ok")]

    monkeypatch.setattr(run, "SECTIONS", tuple((s, lay, fake(s)) for s, lay, _ in run.SECTIONS))
    monkeypatch.setattr(Target, "preflight", lambda self: None)
    hosts = [
        Host("galera1", "galera", "10.0.0.1", backend=None),
        Host("dblb", "dblb", "10.0.0.2", backend=None),
    ]  # type: ignore[arg-type]
    target = Target("lab x", "galera", hosts, Credentials("u", "p", "l", "p"))
    run.verify(target, ("haproxy",))
    assert ran == ["dblb"], "haproxy is the dblb section's earlier name"
    with pytest.raises(ConfigError, match=r"unknown section 'bogus'; known: galera, gtid, dblb"):
        run.verify(target, ("bogus",))
